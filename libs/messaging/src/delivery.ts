import { HEADERS, dlqOf } from '@mrw/contracts';
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
      [HEADERS.dlqReason]: reason,
      [HEADERS.dlqGroup]: groupId,
      [HEADERS.dlqOrigin]: `${message.topic}/${message.partition}/${message.offset}`,
      [HEADERS.dlqAttempts]: String(attempts),
    },
  },
});

/**
 * Runs a handler with bounded retries (exponential backoff). A PoisonMessageError, or the
 * last failed attempt, sends the message to the DLQ; either way the caller may then commit,
 * so one bad message never blocks its partition. If the consumer is stopping between
 * attempts, nothing is committed and the message is delivered again later.
 */
export const deliver = async (
  message: IncomingMessage,
  options: ConsumerOptions,
  context: HandlerContext,
  deadLetter: (reason: string, attempts: number) => Promise<void>,
  isStopping: () => boolean,
): Promise<Outcome> => {
  const attempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await options.handler(message, context);
      return 'handled';
    } catch (error) {
      if (error instanceof PoisonMessageError || attempt >= attempts) {
        await deadLetter(reasonOf(error), attempt);
        return 'dead-lettered';
      }
      if (isStopping()) return 'stopped';
      await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? DEFAULT_DELAY_MS) * 2 ** (attempt - 1)));
      if (isStopping()) return 'stopped';
    }
  }
};
