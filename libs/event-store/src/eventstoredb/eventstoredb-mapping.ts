/**
 * Pure translations between the event store port and `@eventstore/db-client`: expected
 * revisions, positions, filters, the idempotent-replay check and event (de)serialisation.
 * Nothing here talks to a server, so all of it is unit-tested without one.
 */
import {
  ANY,
  ErrorType,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AppendExpectedRevision,
  type CurrentRevision,
  type Filter,
  type JSONEventData,
  type JSONType,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import { isUuid } from '@mrw/contracts';
import {
  DuplicateEventIdError,
  EventStoreAccessDeniedError,
  EventStoreUnavailableError,
  EventTooLargeError,
  StreamDeletedError,
  type AppendResult,
  type EventFilter,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type RecordedMetadata,
} from '../event-store.port';
import type { ChainedRow } from '../hash-chain';

/**
 * Subscription checkpoints live in ordinary streams `mrwCheckpoint-<name>` (category
 * `mrwCheckpoint`, stream metadata `$maxCount=1`). They are the adapter's own bookkeeping:
 * `readAll`, `headPosition` and subscriptions never return them, and `appendToStream`
 * refuses the prefix.
 */
export const CHECKPOINT_STREAM_PREFIX = 'mrwCheckpoint-';
export const CHECKPOINT_EVENT_TYPE = 'MrwCheckpointStored';

export function checkpointStreamName(subscriptionName: string): string {
  if (typeof subscriptionName !== 'string' || subscriptionName.length === 0) {
    throw new TypeError('subscription name must be a non-empty string');
  }
  return `${CHECKPOINT_STREAM_PREFIX}${subscriptionName}`;
}

/** The client's append expectation for one of ours. Revisions become bigints. */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      assertRevision(expected, 'expected revision');
      return BigInt(expected);
  }
}

/** A stream's current revision as the client reports it (e.g. in `WrongExpectedVersionError.actualVersion`). */
export function fromEsdbRevision(current: CurrentRevision | bigint): number | 'no_stream' {
  if (current === NO_STREAM) return 'no_stream';
  if (typeof current !== 'bigint') throw new TypeError(`unexpected revision ${String(current)}`);
  // Older servers and `throwOnAppendFailure: false` report a missing stream as -1.
  if (current < 0n) return 'no_stream';
  return toRevision(current);
}

/** A stream revision as a JS number; revisions beyond 2^53 cannot occur in streams of this application. */
export function toRevision(revision: bigint): number {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`stream revision ${revision} is outside the safe integer range`);
  }
  return Number(revision);
}

/** Whether the caller's expectation holds for the stream's actual last revision (the SQLite adapter's rule). */
export function expectedRevisionHolds(expected: ExpectedRevision, actual: number | 'no_stream'): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    expected === actual
  );
}

/**
 * Commit positions are signed 64-bit log offsets on the server; a stream read on a server
 * that cannot tell an event's `$all` position sends 2^64-1 (or nothing) instead.
 */
const NO_POSITION_FROM = 1n << 63n;

/**
 * The port's `position` of an event: its commit position in `$all`. For events appended
 * through gRPC (implicit transactions) the commit and prepare positions are both the
 * event's own log position, so they are unique and strictly increasing, also within a batch.
 */
export function commitPositionOf(event: {
  readonly position?: Position | undefined;
  readonly streamId: string;
  readonly revision: bigint;
}): bigint {
  const commit = event.position?.commit;
  if (commit === undefined || commit < 0n || commit >= NO_POSITION_FROM) {
    throw new Error(
      `EventStoreDB returned no $all position for ${event.streamId}@${event.revision}: ` +
        'stream reads carry positions from server version 22.6 on; this adapter needs 22.6 or newer',
    );
  }
  return commit;
}

/**
 * Where to start reading `$all` forwards (or a catch-up subscription) for "strictly after
 * `after`". The server starts *at* a position (inclusive), so callers also skip the event
 * whose position equals `after`. `after` must be 0n or a position this store returned (an
 * event's position or `headPosition()`): an arbitrary number may point into the middle of a
 * log record.
 */
export function toReadPosition(after: bigint | undefined): ReadPosition {
  if (after === undefined || after === 0n) return START;
  if (typeof after !== 'bigint' || after < 0n) throw new RangeError(`invalid position ${String(after)}`);
  return { commit: after, prepare: after };
}

/** Events of the server itself: system streams (`$…`) and system event types (`$…`, incl. links `$>`). */
export function isSystemEvent(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}

/** The adapter's own checkpoint streams. */
export function isCheckpointStream(streamName: string): boolean {
  return streamName.startsWith(CHECKPOINT_STREAM_PREFIX);
}

/** Whether an event is one of the application's: neither a server event nor a checkpoint of this adapter. */
export function isApplicationEvent(streamName: string, type: string): boolean {
  return !isSystemEvent(streamName, type) && !isCheckpointStream(streamName);
}

/**
 * The exact port filter, applied on the client: stream prefixes literally and
 * case-sensitively, event types by equality, both together meaning both must match, an
 * empty list matching nothing. System and checkpoint events never match.
 */
export function matchesFilter(streamName: string, type: string, filter: EventFilter | undefined): boolean {
  if (!isApplicationEvent(streamName, type)) return false;
  if (filter?.streamPrefixes !== undefined && !filter.streamPrefixes.some((prefix) => streamName.startsWith(prefix))) {
    return false;
  }
  if (filter?.eventTypes !== undefined && !filter.eventTypes.includes(type)) return false;
  return true;
}

/** The filter sent to the server, and a predicate that says which events it lets through. */
export interface ServerFilter {
  readonly filter: Filter;
  /** Mirrors the server-side filter; a superset of `matchesFilter` for the same port filter. */
  readonly passes: (streamName: string, type: string) => boolean;
  readonly description: string;
}

/**
 * Narrows a subscription on the server, as far as the client allows: one filter, on stream
 * name *or* event type, by prefixes (or a regex). Stream prefixes are preferred (they are
 * exact as prefixes); event types can only go as prefixes, which also let through longer
 * types (`Noted` lets `NotedAgain` through), so the exact filter always runs on the client
 * too. Without a usable port filter the server drops system event types
 * (`excludeSystemEvents`). `v6` of the client has no server-side filter for `readAll`.
 */
export function serverFilterFor(filter: EventFilter | undefined): ServerFilter {
  const prefixes = filter?.streamPrefixes;
  if (prefixes !== undefined && prefixes.length > 0 && prefixes.every((prefix) => prefix.length > 0)) {
    const copy = [...prefixes];
    return {
      filter: streamNameFilter({ prefixes: copy }),
      passes: (streamName) => copy.some((prefix) => streamName.startsWith(prefix)),
      description: `stream name prefixes ${JSON.stringify(copy)}`,
    };
  }
  const types = filter?.eventTypes;
  if (types !== undefined && types.length > 0 && types.every((type) => type.length > 0)) {
    const copy = [...types];
    return {
      filter: eventTypeFilter({ prefixes: copy }),
      passes: (_streamName, type) => copy.some((prefix) => type.startsWith(prefix)),
      description: `event type prefixes ${JSON.stringify(copy)}`,
    };
  }
  return {
    filter: excludeSystemEvents(),
    passes: (_streamName, type) => !type.startsWith('$'),
    description: 'no system event types',
  };
}

/** Checks an append before anything is read or written: the same rules as the SQLite adapter, plus UUID ids. */
export function validateAppend(streamName: string, events: readonly EventToAppend[], expected: ExpectedRevision): void {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('appendToStream: stream name must be a non-empty string');
  }
  if (streamName.startsWith('$')) {
    throw new RangeError(`appendToStream: ${streamName} is an EventStoreDB system stream name ($…)`);
  }
  if (isCheckpointStream(streamName)) {
    throw new RangeError(`appendToStream: stream names starting with ${CHECKPOINT_STREAM_PREFIX} are reserved for checkpoints`);
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new RangeError('appendToStream: nothing to append');
  }
  if (typeof expected === 'number') {
    assertRevision(expected, 'expected revision');
  } else if (expected !== 'any' && expected !== 'no_stream' && expected !== 'stream_exists') {
    throw new RangeError(`appendToStream: invalid expected revision ${String(expected)}`);
  }
  const ids = new Set<string>();
  for (const event of events) {
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new TypeError('appendToStream: every event needs a type');
    }
    if (event.type.startsWith('$')) {
      throw new RangeError(`appendToStream: event type ${event.type} is reserved for EventStoreDB system events ($…)`);
    }
    const id: unknown = event.metadata?.eventId;
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError('appendToStream: every event needs a metadata.eventId');
    }
    if (!isUuid(id)) {
      throw new TypeError(`appendToStream: EventStoreDB event ids must be UUIDs, got ${JSON.stringify(id)}`);
    }
    const key = id.toLowerCase();
    if (ids.has(key)) throw new DuplicateEventIdError(id, streamName);
    ids.add(key);
  }
}

/**
 * A chained event as the client's JSON event: its data and metadata parsed back from the text
 * the chain hashed (`encodeAppend` made it canonical and refused what JSON cannot hold), so
 * what the client sends (`JSON.stringify`) reads back to values that hash the same. Its id is
 * the envelope's event id.
 */
export function toEventData(row: ChainedRow): JSONEventData {
  return {
    id: row.eventId,
    contentType: 'application/json',
    type: row.type,
    data: JSON.parse(row.data) as JSONType,
    metadata: JSON.parse(row.metadata) as JSONType,
  };
}

/** The part of a recorded event the replay check needs. */
export interface StoredEventRef {
  readonly id: string;
  readonly revision: number;
  readonly position: bigint;
}

/**
 * A retried command carries the same event ids. When the batch's first id is stored in this
 * stream and the whole batch follows it in order, the first append's result comes back
 * (`appended: false`), whatever the expected revision says now. When the first id is stored
 * but the rest does not line up, it is a `DuplicateEventIdError`. `undefined`: not a replay.
 * `stored` is the whole stream, forwards.
 */
export function detectReplay(
  streamName: string,
  ids: readonly string[],
  stored: readonly StoredEventRef[],
): AppendResult | undefined {
  const firstId = ids[0];
  if (firstId === undefined) return undefined;
  const start = stored.findIndex((event) => sameId(event.id, firstId));
  if (start < 0) return undefined;
  const slice = stored.slice(start, start + ids.length);
  const matches = slice.length === ids.length && slice.every((event, index) => sameId(event.id, ids[index] as string));
  if (!matches) throw new DuplicateEventIdError(firstId, streamName);
  const last = slice[slice.length - 1] as StoredEventRef;
  return { nextExpectedRevision: last.revision, position: last.position, appended: false };
}

/** The first id of a (non-replay) batch that is already stored in the stream, if any. */
export function firstReusedId(ids: readonly string[], stored: readonly StoredEventRef[]): string | undefined {
  const known = new Set(stored.map((event) => event.id.toLowerCase()));
  return ids.find((id) => known.has(id.toLowerCase()));
}

/** The server returns ids in its own spelling (lower case); ours may differ in case only. */
export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** What the adapter needs of a client-side recorded event (structurally the client's `RecordedEvent`). */
export interface EsdbRecordedEventLike {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position | undefined;
}

/** A recorded event of this application as the port shows it; non-JSON events are refused loudly. */
export function toRecordedEvent(event: EsdbRecordedEventLike): RecordedEvent {
  const where = `${event.streamId}@${event.revision}`;
  if (!event.isJson) {
    throw new TypeError(`EventStoreDB event ${where} is not JSON; this adapter only reads events it wrote`);
  }
  const metadata = event.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Uint8Array) {
    throw new TypeError(`EventStoreDB event ${where} has no JSON metadata object; this adapter only reads events it wrote`);
  }
  return {
    streamName: event.streamId,
    revision: toRevision(event.revision),
    position: commitPositionOf(event),
    type: event.type,
    data: event.data,
    metadata: metadata as RecordedMetadata,
  };
}

/** The hash of a stored event, needed to chain the next append onto it. */
export function storedHashOf(event: EsdbRecordedEventLike): string {
  const metadata = event.metadata as { hash?: unknown } | undefined;
  const hash = metadata !== null && typeof metadata === 'object' ? metadata.hash : undefined;
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new Error(
      `EventStoreDB stream ${event.streamId}: revision ${event.revision} carries no hash chain; ` +
        'this adapter appends only to streams it wrote itself',
    );
  }
  return hash;
}

/** The data of a checkpoint event. */
export function checkpointData(position: bigint): { position: string } {
  return { position: position.toString(10) };
}

/** Reads a checkpoint event's data back; anything else than a decimal position is an error. */
export function parseCheckpointData(data: unknown, streamName: string): bigint {
  const position = (data as { position?: unknown } | null)?.position;
  if (typeof position !== 'string' || !/^\d+$/.test(position)) {
    throw new Error(`checkpoint stream ${streamName} holds an unreadable checkpoint: ${JSON.stringify(data)}`);
  }
  return BigInt(position);
}

/**
 * A connection string fit for error messages and logs: the password in `esdb://user:pass@…`
 * is replaced by `***`; everything else (host, port, options) stays, so the message names the
 * server that failed.
 */
export function redactConnectionString(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/?#]*):([^@/?#]*)@/i, '$1$2:***@');
}

function assertRevision(revision: number, what: string): void {
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new RangeError(`invalid ${what} ${revision}`);
  }
}

/**
 * The client's error types (`CommandError.type`) that describe the connection or the cluster
 * at this moment, not the request: the client itself reconnects on `unavailable`, `cancelled`
 * (a server-cancelled call) and `not-leader` (to the leader it names), so the same call can
 * succeed when tried again.
 */
const TRANSIENT_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.CANCELLED,
]);

/**
 * Client errors a subscription cannot recover from by resubscribing: its credentials or the
 * request itself are wrong. Every other client error on a subscription stream (including
 * `unknown`, which is how gRPC reports many broken connections) leads to a resubscribe.
 */
const PERMANENT_SUBSCRIPTION_ERRORS: ReadonlySet<string> = new Set([
  ErrorType.ACCESS_DENIED,
  ErrorType.INVALID_ARGUMENT,
  ErrorType.UNSUPPORTED,
  ErrorType.STREAM_DELETED,
]);

const clientErrorType = (error: unknown): string | undefined => {
  const type = (error as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' ? type : undefined;
};

/**
 * The port's error for a failure of the client during `operation` (e.g. `append to x-1`):
 * a tombstoned stream → `StreamDeletedError`, the server's `MaxAppendSize` → `EventTooLargeError`,
 * access denied (incl. bad credentials) → `EventStoreAccessDeniedError` (permanent), unavailable,
 * deadline, not leader, server-cancelled, or a cluster the client could not discover →
 * `EventStoreUnavailableError` (transient). Anything else, including `WrongExpectedVersionError`
 * (the adapter handles that itself), comes back unchanged.
 */
export function toStoreError(error: unknown, operation: string, streamName?: string): unknown {
  const type = clientErrorType(error);
  if (type === ErrorType.STREAM_DELETED) {
    const deleted = (error as { streamName?: unknown }).streamName;
    return new StreamDeletedError(streamName ?? (typeof deleted === 'string' ? deleted : 'unknown'));
  }
  if (type === ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED) {
    const limit = (error as { maxAppendSize?: unknown }).maxAppendSize;
    return new EventTooLargeError(streamName ?? 'unknown', `the server refused the append: over its MaxAppendSize of ${String(limit)} bytes`);
  }
  if (type === ErrorType.ACCESS_DENIED) return new EventStoreAccessDeniedError(operation, { cause: error });
  if (type !== undefined && TRANSIENT_CLIENT_ERRORS.has(type)) return new EventStoreUnavailableError(operation, type, { cause: error });
  // A cluster connection string whose gossip seeds all failed: the cluster is away, not the request wrong.
  if (type === undefined && error instanceof Error && /^Failed to discover after \d+ attempts/.test(error.message)) {
    return new EventStoreUnavailableError(operation, 'discovery-failed', { cause: error });
  }
  return error;
}

/**
 * Whether a subscription that failed with `error` (already passed through `toStoreError`) should
 * resubscribe from its checkpoint rather than end: transient errors and any other error of the
 * client except the permanent ones. Errors of our own (an unreadable checkpoint, an event this
 * adapter did not write) end it: resubscribing would meet them again.
 */
export function isRecoverableSubscriptionError(error: unknown): boolean {
  if (error instanceof EventStoreUnavailableError) return true;
  if (error instanceof EventStoreAccessDeniedError || error instanceof StreamDeletedError) return false;
  const type = clientErrorType(error);
  return type !== undefined && !PERMANENT_SUBSCRIPTION_ERRORS.has(type);
}
