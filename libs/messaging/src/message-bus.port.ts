import type { RecordedEvent } from '@mrw/event-store';

/** A message to publish. Values are UTF-8 JSON text. */
export interface OutgoingMessage {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A delivered message, at least once. */
export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Set only by the embedded bus, for messages published inside this process by one of the
   * suite's own services: that code is trusted, so it needs no token.
   */
  readonly publishedBy?: string;
  /**
   * Set only by the embedded bus on the events topic: the stored event this message encodes,
   * so the consumer does not parse back what the same process just wrote (see decodeEvent).
   */
  readonly recorded?: RecordedEvent;
}

export interface HandlerContext {
  /** Long handlers call this so the broker keeps them in the group. */
  heartbeat(): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly handler: (message: IncomingMessage, context: HandlerContext) => Promise<void>;
  /** Attempts before a message failing for an unknown reason goes to the DLQ (default 5); transient failures have no limit. */
  readonly maxAttempts?: number;
  /** First retry delay; doubles per attempt up to `maxRetryDelayMs` (default 200 ms, 30 s). */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** Told of every retry, and once more when a retried message is finally settled (handled or dead-lettered). */
  readonly onRetry?: (retry: RetryNotice) => void | Promise<void>;
  /** Told of every message sent to the DLQ, once it is there. */
  readonly onDeadLetter?: (message: IncomingMessage, reason: string) => void;
}

import type { DeadLetter } from './dead-letters';

/** One failed attempt at a message that will be tried again (`settled: false`), or the end of its retries. */
export interface RetryNotice {
  readonly message: IncomingMessage;
  readonly attempt: number;
  readonly kind: 'permanent' | 'transient' | 'unknown';
  readonly error: unknown;
  readonly delayMs: number;
  readonly settled: boolean;
}

export interface RunningConsumer {
  /** Whether it is taking messages now; a consumer over the log reports its subscription (reconnecting to the store, failed). */
  status?(): { readonly ready: boolean; readonly detail?: string };
  /** Finishes the in-flight handler, commits, and leaves the group. */
  stop(): Promise<void>;
}

/**
 * The message bus port. Delivery is at least once: an offset is committed only after its
 * handler resolved (or the message was dead-lettered), so handlers must be idempotent.
 */
export interface MessageBus {
  /** Creates missing topics (and their DLQs) with the declared partitions. */
  ensureTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void>;
  /** Resolves once the broker acknowledged every message (all in-sync replicas). */
  publish(topic: string, messages: readonly OutgoingMessage[], options?: { publishedBy?: string }): Promise<void>;
  consume(options: ConsumerOptions): Promise<RunningConsumer>;
  /** Sends a dead letter again to where it failed, with its original key, value and headers. */
  redrive(letter: DeadLetter): Promise<void>;
  close(): Promise<void>;
}

export const MESSAGE_BUS = Symbol('MESSAGE_BUS');

/** Thrown by a handler for a message that can never succeed (unparseable, unauthorised, refused): no retries. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  readonly permanent = true;
}
