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
}

export interface HandlerContext {
  /** Long handlers call this so the broker keeps them in the group. */
  heartbeat(): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly handler: (message: IncomingMessage, context: HandlerContext) => Promise<void>;
  /** Attempts before a failing message goes to the DLQ (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay; doubles per attempt (default 200 ms). */
  readonly retryDelayMs?: number;
}

export interface RunningConsumer {
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
  close(): Promise<void>;
}

export const MESSAGE_BUS = Symbol('MESSAGE_BUS');

/** Thrown by a handler for a message that can never succeed (unparseable, unauthorised): no retries. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}
