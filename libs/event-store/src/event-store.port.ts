import type { EventMetadata } from '@mrw/contracts';

/** An event ready to append. `metadata.eventId` makes the append idempotent. */
export interface EventToAppend {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Omit<EventMetadata, 'prevHash' | 'hash'>;
}

/** Metadata as stored: the envelope with its hash-chain links filled in (optional fields stay optional). */
export type RecordedMetadata = EventMetadata & { readonly prevHash: string | null; readonly hash: string };

/** An event as stored: its stream, its revision in that stream and its position in the log. */
export interface RecordedEvent {
  readonly streamName: string;
  /** 0-based revision within the stream. */
  readonly revision: number;
  /** Global, strictly increasing position in the whole log. */
  readonly position: bigint;
  readonly type: string;
  readonly data: unknown;
  /** Includes the hash chain: `prevHash` (null for revision 0) and `hash`. */
  readonly metadata: RecordedMetadata;
}

/**
 * Optimistic concurrency: a revision number (the revision of the stream's last event),
 * `no_stream` (the stream must not exist), `stream_exists`, or `any`.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendResult {
  /** Revision of the last event of the stream after the append. */
  readonly nextExpectedRevision: number;
  /** Position of the last appended (or already present) event. */
  readonly position: bigint;
  /** False when every event id was already in the stream: an idempotent replay. */
  readonly appended: boolean;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start revision; defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

/** Server-side filter for reading or subscribing to the whole log. */
export interface EventFilter {
  /** Keep events whose stream name starts with one of these (e.g. `modelVersion-`). */
  readonly streamPrefixes?: readonly string[];
  /** Keep events of these types. */
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omit for the start of the log. */
  readonly after?: bigint;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export interface SubscriptionOptions {
  /** Checkpoint name; a restarted subscription resumes after its last checkpoint. */
  readonly name: string;
  readonly filter?: EventFilter;
  /**
   * Called once per event in log order. The checkpoint moves past an event only after
   * its handler resolved, so a crash re-delivers (at-least-once): handlers are idempotent.
   * Give either `handler` or `handleBatch`.
   */
  readonly handler?: (event: RecordedEvent) => Promise<void>;
  /**
   * Called with each batch read (up to `batchSize` events, in log order); the checkpoint
   * moves past the batch only after it resolved. For consumers that gain from batching
   * their own I/O, such as publishing to Kafka.
   */
  readonly handleBatch?: (events: readonly RecordedEvent[]) => Promise<void>;
  /**
   * Start after this position and keep no checkpoint in the store: for consumers that keep
   * their own checkpoint beside their state (projections) or rebuild in memory (token directory).
   */
  readonly startAfter?: bigint;
  /** Events read per batch while catching up. */
  readonly batchSize?: number;
  /** Called when the handler throws; the subscription stops and reports it. */
  readonly onError?: (error: unknown) => void;
}

export interface Subscription {
  /** Resolves once the subscription has handled every event that existed when it was called. */
  caughtUp(): Promise<void>;
  /** Last position whose handler completed (and was checkpointed), or undefined. */
  readonly checkpoint: bigint | undefined;
  stop(): Promise<void>;
}

/** Thrown when the expected revision does not hold. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** Thrown when an event id is reused for a different event or stream. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string, readonly streamName: string) {
    super(`event id ${eventId} already used in a different append (stream ${streamName})`);
  }
}

/**
 * Thrown when an append exceeds what the stores can hold (see `MAX_APPEND_BYTES`,
 * `MAX_EVENT_DEPTH`); nothing is appended. The input was too big, not the store broken.
 */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';
  constructor(
    readonly streamName: string,
    readonly reason: string,
  ) {
    super(`stream ${streamName}: ${reason}`);
  }
}

/** Thrown when a stream was deleted (EventStoreDB tombstones): it can be neither read nor appended to. */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(readonly streamName: string) {
    super(`stream ${streamName} has been deleted`);
  }
}

/**
 * The event store port. One stream per aggregate; the whole log ordered by position.
 * Adapters: SQLite (embedded) and EventStoreDB (distributed); both pass the conformance suite.
 */
export interface EventStore {
  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Events of one stream; an empty array when the stream does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of the whole log after a position, in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** A checkpointed catch-up subscription to the whole log. */
  subscribeToAll(options: SubscriptionOptions): Subscription;
  /** The position of the newest event in the log (0n for an empty log). */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
