import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeUrl, OutboundError, type OutboundHttp } from '@mrw/outbound';
import type { ContentAddressedStore } from './content-addressed-store';
import { digestOfArtifactUri } from './content-addressed-store';
import { FileSourceError, resolveFileSource, type FileSourcePolicy } from './file-sources';

export type ArtifactErrorCode = 'ARTIFACT_MISSING' | 'ARTIFACT_TOO_LARGE' | 'DIGEST_MISMATCH' | 'INVALID_SOURCE' | 'SOURCE_NOT_ALLOWED' | 'FETCH_FAILED';

/** Why a model file could not be had, or could not be trusted. */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(
    readonly code: ArtifactErrorCode,
    message: string,
    /**
     * The source may answer later (it timed out, could not be reached, answered 5xx or 429):
     * worth retrying rather than recording a failed evaluation. A 404 or a wrong digest is not.
     */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** HTTP statuses that say "not now" rather than "not this". */
const TRANSIENT_STATUS = (status: number): boolean => status >= 500 || status === 429 || status === 408;

export interface FetchOptions {
  readonly store: ContentAddressedStore;
  /** The guarded client every `http(s)://` source is fetched through. */
  readonly http: OutboundHttp;
  readonly fileSources: FileSourcePolicy;
  /** The largest artifact read (`MRW_MAX_ARTIFACT_BYTES`), enforced while it streams in. */
  readonly maxBytes: number;
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const OUTBOUND_CODES: Readonly<Record<OutboundError['code'], ArtifactErrorCode>> = {
  OUTBOUND_ADDRESS_REFUSED: 'SOURCE_NOT_ALLOWED',
  OUTBOUND_URL_REFUSED: 'SOURCE_NOT_ALLOWED',
  OUTBOUND_TOO_LARGE: 'ARTIFACT_TOO_LARGE',
  OUTBOUND_TIMEOUT: 'FETCH_FAILED',
  OUTBOUND_TOO_MANY_REDIRECTS: 'FETCH_FAILED',
  OUTBOUND_FAILED: 'FETCH_FAILED',
};

/** Refusals by the guard (address, size, redirects) are answers; timeouts and lost connections are moments. */
const TRANSIENT_OUTBOUND = new Set(['OUTBOUND_TIMEOUT', 'OUTBOUND_FAILED']);

const fromOutbound = (error: unknown, url: URL): ArtifactError =>
  error instanceof OutboundError
    ? new ArtifactError(
        OUTBOUND_CODES[error.code],
        error.code === 'OUTBOUND_TOO_LARGE' ? `${error.message} (MRW_MAX_ARTIFACT_BYTES)` : error.message,
        TRANSIENT_OUTBOUND.has(error.code),
      )
    : new ArtifactError('FETCH_FAILED', `cannot fetch ${describeUrl(url)}: ${error instanceof Error ? error.message : String(error)}`, true);

const mismatch = (source: string, digest: string, expected: string): ArtifactError =>
  new ArtifactError('DIGEST_MISMATCH', `${source} has digest ${digest}, but ${expected} was recorded at registration`);

/**
 * Streams an `http(s)://` source through the guarded client into the store's scratch area,
 * hashing as it goes, then keeps it in the store under its digest: at most `maxBytes` are ever
 * read, and a verified model is not fetched again.
 */
const download = async (source: string, expected: string | null, options: FetchOptions): Promise<string> => {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ArtifactError('INVALID_SOURCE', 'the source is not a valid URL');
  }
  const shown = describeUrl(url);
  const response = await options.http.request(url, { maxBytes: options.maxBytes }).catch((error: unknown) => {
    throw fromOutbound(error, url);
  });
  if (response.status !== 200) {
    response.body.destroy();
    throw new ArtifactError('FETCH_FAILED', `fetching ${shown} answered HTTP ${response.status}`, TRANSIENT_STATUS(response.status));
  }
  const scratch = await options.store.scratchPath();
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(response.body, hashing, createWriteStream(scratch));
  } catch (error) {
    await rm(scratch, { force: true });
    throw fromOutbound(error, url);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (expected && digest !== expected) {
    await rm(scratch, { force: true });
    throw mismatch(shown, digest, expected);
  }
  await options.store.importHashedFile(scratch, digest);
  return digest;
};

/**
 * The bytes of a version's model, from the content-addressed store, a `file://` path (where
 * the operator allows it) or `http(s)://` through the guarded client, verified against the
 * digest recorded at registration.
 */
export const fetchArtifact = async (source: string, expectedDigest: string | null, options: FetchOptions): Promise<Uint8Array> => {
  const stored = digestOfArtifactUri(source);
  const expected = expectedDigest ?? stored ?? null;
  const fromStore = async (digest: string): Promise<Uint8Array> =>
    readFile(options.store.pathOf(digest)).catch(() => {
      throw new ArtifactError('ARTIFACT_MISSING', `the stored artifact ${digest} is missing from ${options.store.pathOf(digest)}`);
    });
  let bytes: Uint8Array;
  let shown = source;
  if (stored) {
    bytes = await fromStore(stored);
  } else if (source.startsWith('file://')) {
    const path = await resolveFileSource(source, options.fileSources).catch((error: unknown) => {
      if (error instanceof FileSourceError) throw new ArtifactError(error.code, error.message);
      throw error;
    });
    const info = await stat(path);
    if (!info.isFile()) throw new ArtifactError('ARTIFACT_MISSING', `${path} is not a regular file`);
    if (info.size > options.maxBytes) {
      throw new ArtifactError('ARTIFACT_TOO_LARGE', `${path} is ${info.size} bytes, above the ${options.maxBytes}-byte limit (MRW_MAX_ARTIFACT_BYTES)`);
    }
    bytes = await readFile(path);
  } else if (/^https?:\/\//.test(source)) {
    // Already fetched and verified once: the store holds exactly these bytes.
    const digest = expected && (await options.store.has(expected)) ? expected : await download(source, expected, options);
    bytes = await fromStore(digest);
    shown = describeUrl(new URL(source));
  } else {
    throw new ArtifactError('SOURCE_NOT_ALLOWED', `unsupported source ${source.slice(0, 200)}`);
  }
  const digest = sha256(bytes);
  if (expected && digest !== expected) throw mismatch(shown, digest, expected);
  return bytes;
};
