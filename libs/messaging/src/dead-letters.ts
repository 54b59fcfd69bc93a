import { deriveId, dlqOf, HEADERS } from '@mrw/contracts';
import type { IncomingMessage, OutgoingMessage } from './message-bus.port';

/** Dead letters of a consumer group, as events in the log: `deadLetter-<group>`. */
export const deadLetterStream = (groupId: string): string => `deadLetter-${groupId}`;

export const DEAD_LETTERED = 'MessageDeadLettered';
export const DEAD_LETTER_REDRIVEN = 'DeadLetterRedriven';

/** The most of a dead message's value kept in the log; a longer one is kept cut, and cannot be redriven. */
export const MAX_DEAD_LETTER_VALUE = 256 * 1024;

/** A message that could not be handled, as the log keeps it: enough to show why and to send it again. */
export interface DeadLetter {
  readonly letterId: string;
  readonly group: string;
  /** Where the message came from (`mrw.registry.events.v1`, `mrw.registry.commands.v1`), not its DLQ. */
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: string;
  readonly attempts: number;
  readonly origin: string;
  /** The value was longer than MAX_DEAD_LETTER_VALUE and is kept cut: it can be read, not redriven. */
  readonly truncated: boolean;
  readonly size: number;
  /** Embedded mode: the service in this process that published the message (the in-process bus vouched for it). */
  readonly publishedBy?: string;
}

const DLQ_HEADERS = new Set<string>([HEADERS.dlqReason, HEADERS.dlqGroup, HEADERS.dlqOrigin, HEADERS.dlqAttempts]);

/** The log's record of a dead letter read from a DLQ (its dlq-* headers say why and where from). */
export const deadLetterFrom = (letter: Pick<IncomingMessage, 'key' | 'value' | 'headers'>, letterId: string): DeadLetter => {
  const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !DLQ_HEADERS.has(name)));
  const origin = letter.headers[HEADERS.dlqOrigin] ?? '';
  const truncated = letter.value.length > MAX_DEAD_LETTER_VALUE;
  return {
    letterId,
    group: (letter.headers[HEADERS.dlqGroup] ?? 'unknown').slice(0, 200),
    topic: origin.slice(0, origin.indexOf('/') < 0 ? origin.length : origin.indexOf('/')),
    key: letter.key ?? '',
    value: truncated ? letter.value.slice(0, MAX_DEAD_LETTER_VALUE) : letter.value,
    headers,
    reason: (letter.headers[HEADERS.dlqReason] ?? '').slice(0, 2000),
    attempts: Number(letter.headers[HEADERS.dlqAttempts] ?? 0),
    origin,
    truncated,
    size: letter.value.length,
  };
};

/** The id of the letter at a DLQ position: the same letter indexed twice is one letter. */
export const letterIdAt = (dlqTopic: string, partition: number, offset: string): string => deriveId(`${dlqTopic}/${partition}/${offset}`, 'dead-letter');

/** The message a redrive sends again: the original key, value and headers, and where it was redriven from. */
export const redriveMessage = (letter: DeadLetter): OutgoingMessage => ({
  key: letter.key,
  value: letter.value,
  headers: { ...letter.headers, [HEADERS.redrivenFrom]: letter.letterId },
});

/** The DLQ topic of a topic's messages. */
export const dlqTopicOf = dlqOf;
