import { HEADERS, dlqOf } from '@mrw/contracts';
import { inNewLogContext, loggerFor, type LogContext } from '@mrw/logging';
import {
  PoisonMessageError,
  type ConsumerOptions,
  type HandlerContext,
  type IncomingMessage,
  type OutgoingMessage,
} from './message-bus.port';

export type Outcome = 'handled' | 'dead-lettered' | 'stopped';

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_DELAY_MS = 200;

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

/**
 * Runs a handler with bounded retries (exponential backoff). A PoisonMessageError, or the
 * last failed attempt, sends the message to the DLQ; either way the caller may then commit,
 * so one bad message never blocks its partition. If the consumer is stopping between
 * attempts, nothing is committed and the message is delivered again later. Everything the
 * handler logs carries the message's correlation, causation, stream and type.
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
    for (let attempt = 1; ; attempt += 1) {
      try {
        await options.handler(message, context);
        log.debug({ attempt, durationMs: Math.round((performance.now() - started) * 10) / 10 }, `handled ${what(message)}`);
        return 'handled';
      } catch (error) {
        if (error instanceof PoisonMessageError || attempt >= attempts) {
          const reason = reasonOf(error);
          await deadLetter(reason, attempt);
          log.error({ attempts: attempt, reason, dlq: dlqOf(message.topic) }, `dead-lettered ${what(message)}: ${reason}`);
          return 'dead-lettered';
        }
        if (isStopping()) return 'stopped';
        const delayMs = (options.retryDelayMs ?? DEFAULT_DELAY_MS) * 2 ** (attempt - 1);
        log.warn({ attempt, maxAttempts: attempts, delayMs, err: error }, `${what(message)} failed (attempt ${attempt} of ${attempts}); retrying in ${delayMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (isStopping()) return 'stopped';
      }
    }
  });
