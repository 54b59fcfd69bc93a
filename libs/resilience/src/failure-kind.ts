/** What a failure says about trying again. */
export type FailureKind = 'permanent' | 'transient' | 'unknown';

/** A failure that retrying cannot mend (bad input, a refusal, no permission). */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  readonly permanent = true;
}

/** A failure the world may heal (a dependency down, a timeout): worth retrying for as long as it takes. */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  readonly transient = true;
}

/** Operating-system and driver codes of failures that pass: connections, DNS, busy or locked files. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'ENOSPC',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Sorts a failure: an error's own `permanent`/`transient` marker first (the suite's errors
 * carry one), then kafkajs's `retriable`, timeouts and aborts, system and SQLite codes
 * (including `SQLITE_IOERR_*`); anything else is unknown.
 */
export const failureKind = (error: unknown): FailureKind => {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const e = error as { permanent?: unknown; transient?: unknown; retriable?: unknown; name?: unknown; code?: unknown; cause?: unknown };
  if (e.permanent === true) return 'permanent';
  if (e.transient === true) return 'transient';
  if (e.retriable === true) return 'transient';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'transient';
  const code = typeof e.code === 'string' ? e.code : '';
  if (TRANSIENT_CODES.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY')) return 'transient';
  return e.cause !== undefined && e.cause !== error ? failureKind(e.cause) : 'unknown';
};
