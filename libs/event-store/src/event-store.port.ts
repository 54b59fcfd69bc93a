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
  /**
   * The events as stored (positions, hash chain), exactly as a read would return them, when
   * the adapter has them at hand: a writer then needs no read-back. Absent on a replay, and
   * from adapters that do not know them without reading.
   */
  readonly recorded?: readonly RecordedEvent[];
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

/**
 * How a subscription is doing, for readiness probes:
 * - `catching-up`: running, still working through events that were in the log when it (re)subscribed;
 * - `live`: running and has handled everything that was there when it (re)subscribed;
 * - `reconnecting`: lost its connection to the store and is resubscribing from its checkpoint with
 *   backoff (not ready, but it will recover on its own);
 * - `failed`: ended for good (handler error, or a permanent store error such as access denied); see `onError`;
 * - `stopped`: `stop()` was called, or its store closed.
 */
export type SubscriptionState = 'catching-up' | 'live' | 'reconnecting' | 'failed' | 'stopped';

export interface SubscriptionStatus {
  readonly state: SubscriptionState;
  /** Why it is reconnecting or failed: the last error, as `Name: message`. */
  readonly detail?: string;
  /** While reconnecting: how many times in a row it lost its connection or failed to resubscribe (1 after the first drop). */
  readonly attempts?: number;
}

export interface Subscription {
  /**
   * Resolves once the subscription has handled (or its filter passed over) every event that
   * existed when it was called; with `upTo`, every event up to that position, which spares the
   * read of the head for a caller that has just read it (an adapter may still wait for a later
   * position of its own).
   */
  caughtUp(upTo?: bigint): Promise<void>;
  /** Last position whose handler completed (and was checkpointed), or undefined. */
  readonly checkpoint: bigint | undefined;
  /** Its health now, cheap to call (no I/O): `reconnecting` and `failed` mean not ready. */
  status(): SubscriptionStatus;
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
  readonly permanent = true;
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
  readonly permanent = true;
  constructor(readonly streamName: string) {
    super(`stream ${streamName} has been deleted`);
  }
}

/**
 * Thrown when the store cannot be reached or cannot answer now: unavailable, a deadline
 * exceeded, a node that is not the leader, a subscription the server ended. Transient: the
 * same call can succeed later (appends are idempotent by event id, so retrying one that may
 * have been written is safe). `isTransientStoreError` recognises it.
 */
export class EventStoreUnavailableError extends Error {
  override readonly name = 'EventStoreUnavailableError';
  /** Read by the suite's failure sorting (@mrw/resilience): retry, do not dead-letter. */
  readonly transient = true;
  constructor(
    /** What failed, e.g. `append to modelVersion-churn@7`, `subscription registry-projector`. */
    readonly operation: string,
    /** The store's reason, e.g. `unavailable`, `deadline-exceeded`, `not-leader`. */
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`event store unavailable (${reason}) during ${operation}${causeMessage(options?.cause)}`, options);
  }
}

/**
 * Thrown when the store refuses our credentials or permissions. Permanent: retrying cannot
 * help until an operator fixes the configuration.
 */
export class EventStoreAccessDeniedError extends Error {
  override readonly name = 'EventStoreAccessDeniedError';
  readonly permanent = true;
  constructor(
    readonly operation: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`event store denied access during ${operation}${causeMessage(options?.cause)}`, options);
  }
}

function causeMessage(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
  return message.length > 0 ? `: ${message}` : '';
}

/**
 * SQLite result codes that describe the moment, not the request: another writer holding the
 * lock past the busy timeout, an I/O error, a full disk.
 */
const TRANSIENT_SQLITE_CODE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL)(_|$)/;

/**
 * Whether an error from the store is transient, so the same call may succeed later and a
 * caller should retry with backoff instead of giving up: `EventStoreUnavailableError`, or
 * SQLite busy/locked/I/O/full. Conflicts (`WrongExpectedRevisionError`) are not transient:
 * the caller must decide again on fresh state.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (error instanceof EventStoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && TRANSIENT_SQLITE_CODE.test(code);
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
  /**
   * The events at these positions (positions this store returned), in position order, each
   * once. A position whose event the store no longer holds (an EventStoreDB stream deleted and
   * scavenged since) is left out; so is one that holds no application event. For an index kept
   * elsewhere that holds positions rather than copies of the events (the registry's audit index).
   */
  readAt(positions: readonly bigint[]): Promise<RecordedEvent[]>;
  /** A checkpointed catch-up subscription to the whole log. */
  subscribeToAll(options: SubscriptionOptions): Subscription;
  /** The position of the newest event in the log (0n for an empty log). */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
