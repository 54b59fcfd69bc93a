import {
  DuplicateEventIdError,
  EventStoreAccessDeniedError,
  EventStoreUnavailableError,
  EventTooLargeError,
  WrongExpectedRevisionError,
} from '../event-store.port';

/**
 * SQLSTATEs that describe the server or the connection at this moment, not the request:
 * connection exceptions (08), insufficient resources such as a full disk or too many
 * connections (53), the server shutting down or starting (57P01–57P03), a query cancelled by a
 * timeout (57014), system and I/O errors (58), serialization failures and deadlocks (40001,
 * 40P01), a lock not available (55P03). The same call can succeed later.
 */
const TRANSIENT_SQLSTATE = /^(08...|53...|57P0[123]|57014|58...|40001|40P01|55P03)$/;

/** Refused credentials or permissions: retrying cannot help until someone fixes them. */
const ACCESS_DENIED_SQLSTATE = new Set(['28000', '28P01', '42501']);

/** Socket errors of node itself, before or under the protocol. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** node-postgres reports a lost or unobtainable connection by message only. */
const CONNECTION_LOST = /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|connection(?: was)? closed/i;

const PORT_ERRORS = [WrongExpectedRevisionError, DuplicateEventIdError, EventTooLargeError, EventStoreUnavailableError, EventStoreAccessDeniedError];

/**
 * The port's error for a failure of node-postgres: `EventStoreUnavailableError` (transient) for
 * a lost or unreachable server, `EventStoreAccessDeniedError` for refused credentials; anything
 * else (a bug, a constraint of ours) as it is.
 */
export function toPostgresStoreError(error: unknown, operation: string): unknown {
  if (PORT_ERRORS.some((type) => error instanceof type)) return error;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string') {
    if (ACCESS_DENIED_SQLSTATE.has(code)) return new EventStoreAccessDeniedError(operation, { cause: error });
    if (TRANSIENT_SQLSTATE.test(code)) return new EventStoreUnavailableError(operation, `sqlstate ${code}`, { cause: error });
    if (NETWORK_CODES.has(code)) return new EventStoreUnavailableError(operation, code.toLowerCase(), { cause: error });
  }
  if (error instanceof Error && CONNECTION_LOST.test(error.message)) {
    return new EventStoreUnavailableError(operation, 'connection lost', { cause: error });
  }
  return error;
}

/** A connection URL as it may appear in logs and errors: the password replaced by `***`. */
export function redactPostgresUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/?#]*):([^@/?#]*)@/i, '$1$2:***@');
}

/** `Name: message` of an error, for status details and logs. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
