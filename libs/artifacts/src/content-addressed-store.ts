import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** `sha256:<64 hex>`: how the suite writes every digest. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const ARTIFACT_URI_PREFIX = 'artifacts://sha256/';

export interface StoredArtifact {
  readonly uri: string;
  readonly digest: string;
  readonly size: number;
}

/** sha256 of a file's bytes, streamed, as `sha256:<hex>`. */
export const digestFile = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
};

export const artifactUri = (digest: string): string => `${ARTIFACT_URI_PREFIX}${digest.slice('sha256:'.length)}`;

/** The digest an `artifacts://sha256/<hex>` URI names, or undefined for any other URI. */
export const digestOfArtifactUri = (uri: string): string | undefined => {
  if (!uri.startsWith(ARTIFACT_URI_PREFIX)) return undefined;
  const digest = `sha256:${uri.slice(ARTIFACT_URI_PREFIX.length)}`;
  return DIGEST_PATTERN.test(digest) ? digest : undefined;
};

/**
 * Files stored under the sha256 of their bytes: the same bytes are stored once, and a stored
 * file never changes. Writes go to a temporary file first and are renamed into place.
 */
/** How many digests a store remembers having (see ContentAddressedStore.known). */
const KNOWN_DIGESTS = 100_000;

export class ContentAddressedStore {
  /**
   * Digests found in the store. The suite never removes a stored artifact (its bytes are the
   * evidence of a registered version), so a digest seen once is not looked up again: every
   * registration from an upload checks its source, and that check is a file-system call.
   */
  private readonly known = new Set<string>();

  constructor(private readonly root: string) {}

  /** A fresh path in the store's scratch area, for uploads in progress. */
  async scratchPath(): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomUUID());
  }

  pathOf(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.root, 'sha256', hex.slice(0, 2), hex);
  }

  async has(digest: string): Promise<boolean> {
    if (this.known.has(digest)) return true;
    const found = await stat(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
    if (found) this.remember(digest);
    return found;
  }

  private remember(digest: string): void {
    // Bounded: a store with more artifacts than this just looks some up again.
    if (this.known.size >= KNOWN_DIGESTS) this.known.clear();
    this.known.add(digest);
  }

  /** Moves a finished scratch file into the store under its digest. */
  async importFile(path: string): Promise<StoredArtifact> {
    return this.importHashedFile(path, await digestFile(path));
  }

  /** Moves a scratch file into the store under the digest its writer computed while writing it. */
  async importHashedFile(path: string, digest: string): Promise<StoredArtifact> {
    const { size } = await stat(path);
    const target = this.pathOf(digest);
    if (await this.has(digest)) {
      await rm(path, { force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await rename(path, target);
      this.remember(digest);
    }
    return { uri: artifactUri(digest), digest, size };
  }
}
