import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ContentAddressedStore } from './content-addressed-store';
import { digestOfArtifactUri } from './content-addressed-store';

export type ArtifactErrorCode = 'ARTIFACT_MISSING' | 'DIGEST_MISMATCH' | 'SOURCE_NOT_ALLOWED' | 'FETCH_FAILED';

/** Why a model file could not be had, or could not be trusted. */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(
    readonly code: ArtifactErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  readonly store: ContentAddressedStore;
  readonly allowFileSources: boolean;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * The bytes of a version's model, from the content-addressed store, a `file://` path (where
 * allowed) or `http(s)://`, verified against the digest recorded at registration.
 */
export const fetchArtifact = async (source: string, expectedDigest: string | null, options: FetchOptions): Promise<Uint8Array> => {
  let bytes: Uint8Array;
  const stored = digestOfArtifactUri(source);
  if (stored) {
    bytes = await readFile(options.store.pathOf(stored)).catch(() => {
      throw new ArtifactError('ARTIFACT_MISSING', `the stored artifact ${source} is missing from ${options.store.pathOf(stored)}`);
    });
  } else if (source.startsWith('file://')) {
    if (!options.allowFileSources) throw new ArtifactError('SOURCE_NOT_ALLOWED', `file:// sources are disabled (MRW_ALLOW_FILE_SOURCES)`);
    bytes = await readFile(fileURLToPath(source)).catch((error: Error) => {
      throw new ArtifactError('ARTIFACT_MISSING', `cannot read ${source}: ${error.message}`);
    });
  } else if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) }).catch((error: Error) => {
      throw new ArtifactError('FETCH_FAILED', `cannot fetch ${source}: ${error.message}`);
    });
    if (!response.ok) throw new ArtifactError('FETCH_FAILED', `fetching ${source} answered HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (options.maxBytes && declared > options.maxBytes) {
      throw new ArtifactError('FETCH_FAILED', `${source} is ${declared} bytes, above the ${options.maxBytes}-byte limit`);
    }
    bytes = new Uint8Array(await response.arrayBuffer());
  } else {
    throw new ArtifactError('SOURCE_NOT_ALLOWED', `unsupported source ${source}`);
  }
  const digest = sha256(bytes);
  const expected = expectedDigest ?? stored;
  if (expected && digest !== expected) {
    throw new ArtifactError('DIGEST_MISMATCH', `${source} has digest ${digest}, but ${expected} was recorded at registration`);
  }
  return bytes;
};
