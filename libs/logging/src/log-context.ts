import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What a log line is about. Set once where a request or a message enters the process, and
 * added by the logger to every line written while it is handled, however deep the call.
 */
export interface LogContext {
  readonly correlationId?: string;
  readonly causationId?: string | null;
  readonly stream?: string;
  readonly eventType?: string;
  readonly eventId?: string;
  readonly commandType?: string;
  readonly commandId?: string;
  /** The consumer group handling a message. */
  readonly group?: string;
  readonly [field: string]: unknown;
}

const storage = new AsyncLocalStorage<Record<string, unknown>>();
const EMPTY: LogContext = Object.freeze({});

/** The fields that have a value (a loop: this runs for every request and every delivered message). */
const defined = (fields: LogContext): Record<string, unknown> => {
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
};

/** Runs `fn` with these fields added to the surrounding context for every line it logs. */
export const withLogContext = <T>(fields: LogContext, fn: () => T): T =>
  storage.run({ ...storage.getStore(), ...defined(fields) }, fn);

/**
 * Runs `fn` in a context of its own: a command delivered in-process while an event is being
 * handled is logged as that command, not as the event.
 */
export const inNewLogContext = <T>(fields: LogContext, fn: () => T): T => storage.run(defined(fields), fn);

/** The fields of the request or message being handled here (empty outside any). */
export const currentLogContext = (): LogContext => storage.getStore() ?? EMPTY;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The correlation id of the request or message being handled here, when it is a UUID (what an
 * event's metadata takes); otherwise `fallback` (a new UUID unless given), so what a request
 * appends stays correlated with its log lines.
 */
export const currentCorrelationId = (fallback: string = randomUUID()): string => {
  const correlation = currentLogContext().correlationId;
  return typeof correlation === 'string' && UUID.test(correlation) ? correlation : fallback;
};
