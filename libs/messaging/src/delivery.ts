import { HEADERS, dlqOf } from '@mrw/contracts';
import { inNewLogContext, loggerFor, type LogContext } from '@mrw/logging';
import { backoffDelay, failureKind, sleep } from '@mrw/resilience';
import {
  PoisonMessageError,
  type ConsumerOptions,
  type HandlerContext,
  type IncomingMessage,
  type OutgoingMessage,
  type RetryNotice,
} from './message-bus.port';

export type Outcome = 'handled' | 'dead-lettered' | 'stopped';

/** Tries for a failure of unknown kind before it is dead-lettered. */
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 30_000;

const reasonOf = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/** The dead letter for a message: the original key, value and headers, plus why and where from. */
export const deadLetterOf = (
  message: IncomingMessage,
  groupId: string,
  reason: string,
  attempts: number,
): { topic: string; message: OutgoingMessage } => ({
  topic: dlqOf(message.topic),
  message: {
    key: message.key ?? '',
    value: message.value,
    headers: {
      ...message.headers,
      // A signature may stay (a redrive is checked again); a bearer secret sent by mistake may not.
      ...(/^Bearer\s/i.test(message.headers[HEADERS.authorization] ?? '') ? { [HEADERS.authorization]: '[redacted]' } : {}),
      [HEADERS.dlqReason]: reason,
      [HEADERS.dlqGroup]: groupId,
      [HEADERS.dlqOrigin]: `${message.topic}/${message.partition}/${message.offset}`,
      [HEADERS.dlqAttempts]: String(attempts),
    },
  },
});

const log = loggerFor('messaging');

/** Header values are the sender's: bounded, so a hostile message cannot flood a log line. */
const header = (message: IncomingMessage, name: string): string | undefined => {
  const value = message.headers[name];
  return value ? value.slice(0, 200) : undefined;
};

const what = (message: IncomingMessage): string =>
  `${header(message, HEADERS.eventType) ?? header(message, HEADERS.commandType) ?? 'message'} (${message.topic} ${message.partition}/${message.offset})`;

/** What every line logged while a message is handled says about it, from its headers. */
export const logContextOf = (message: IncomingMessage, groupId: string): LogContext => ({
  correlationId: header(message, HEADERS.correlationId),
  causationId: header(message, HEADERS.causationId) ?? null,
  stream: header(message, HEADERS.stream) ?? message.key?.slice(0, 200) ?? undefined,
  eventType: header(message, HEADERS.eventType),
  eventId: header(message, HEADERS.eventId),
  commandType: header(message, HEADERS.commandType),
  commandId: header(message, HEADERS.commandId),
  group: groupId,
});

/** How long a retry wait may go without a heartbeat or a look at whether the consumer stops. */
const WAIT_SLICE_MS = 1_000;

/** Waits `ms` in slices, heartbeating and watching for a stop; true when the consumer is stopping. */
const waitOrStop = async (ms: number, context: HandlerContext, isStopping: () => boolean): Promise<boolean> => {
  for (let left = ms; left > 0; left -= WAIT_SLICE_MS) {
    if (isStopping()) return true;
    await sleep(Math.min(left, WAIT_SLICE_MS));
    await context.heartbeat().catch(() => undefined);
  }
  return isStopping();
};

/**
 * Runs a handler until its effect is done, or the message is dead-lettered:
 * - a *permanent* failure (PoisonMessageError or an error marked permanent: unreadable,
 *   unauthorised, refused by the rules) goes to the DLQ at once, with its reason;
 * - a *transient* one (store or broker unavailable, I/O, timeouts) is retried with capped
 *   backoff and jitter **without limit**: later messages of the partition wait, so per-key
 *   order holds, and nothing is dead-lettered because a dependency blinked;
 * - an *unknown* one (probably a bug) gets `maxAttempts` tries, then the DLQ.
 * Either way the caller may then commit. A stop while waiting returns `stopped`: nothing is
 * committed and the message is delivered again later. Every retry is told to `onRetry`
 * (metrics, readiness), and everything the handler logs carries the message's correlation,
 * causation, stream and type.
 */
export const deliver = (
  message: IncomingMessage,
  options: ConsumerOptions,
  context: HandlerContext,
  deadLetter: (reason: string, attempts: number) => Promise<void>,
  isStopping: () => boolean,
): Promise<Outcome> =>
  inNewLogContext(logContextOf(message, options.groupId), async () => {
    const attempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
    const started = performance.now();
    let lastKind: RetryNotice['kind'] = 'unknown';
    for (let attempt = 1; ; attempt += 1) {
      try {
        await options.handler(message, context);
        if (log.enabled('debug')) log.debug({ attempt, durationMs: Math.round((performance.now() - started) * 10) / 10 }, `handled ${what(message)}`);
        if (attempt > 1) await options.onRetry?.({ message, attempt, kind: lastKind, error: undefined, delayMs: 0, settled: true });
        return 'handled';
      } catch (error) {
        const kind = error instanceof PoisonMessageError ? 'permanent' : failureKind(error);
        lastKind = kind;
        if (kind === 'permanent' || (kind === 'unknown' && attempt >= attempts)) {
          const reason = reasonOf(error);
          await deadLetter(reason, attempt);
          options.onDeadLetter?.(message, reason);
          log.error({ attempts: attempt, reason, kind, dlq: dlqOf(message.topic) }, `dead-lettered ${what(message)}: ${reason}`);
          if (attempt > 1) await options.onRetry?.({ message, attempt, kind, error, delayMs: 0, settled: true });
          return 'dead-lettered';
        }
        if (isStopping()) return 'stopped';
        const delayMs = backoffDelay(attempt, { initialMs: options.retryDelayMs ?? DEFAULT_DELAY_MS, maxMs: options.maxRetryDelayMs ?? DEFAULT_MAX_DELAY_MS });
        const limit = kind === 'transient' ? 'no limit' : `of ${attempts}`;
        log.warn({ attempt, kind, delayMs, err: error }, `${what(message)} failed (${kind}, attempt ${attempt} ${limit}); retrying in ${delayMs} ms`);
        await options.onRetry?.({ message, attempt, kind, error, delayMs, settled: false });
        if (await waitOrStop(delayMs, context, isStopping)) return 'stopped';
      }
    }
  });
