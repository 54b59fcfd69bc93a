/**
 * An in-memory stand-in for the few `EventStoreDBClient` calls the adapter makes, for unit
 * tests of the adapter's own logic (replay detection, retries, paging, subscriptions,
 * checkpoints) on a machine without EventStoreDB.
 *
 * It is NOT EventStoreDB: it models what the client's typings, its source and the server's
 * documented behaviour say (inclusive forward reads from a position, exclusive backward
 * reads, positions with gaps, system events in `$all`, `WrongExpectedVersionError`,
 * `StreamNotFoundError`, prefix/regex subscription filters, `$maxCount` metadata), and it
 * can be wrong where those sources are silent. Passing against it proves nothing about the
 * real server; the EventStoreDB int spec does that where a server exists.
 *
 * Failure modes, triggered by tests, surface as the real client (6.x) surfaces them:
 * - `dropSubscriptions(error)`: the gRPC call behind every live subscription fails; the
 *   client's `Subscription` emits `'error'` with the converted error (events already buffered
 *   are read first), and sends nothing more. `endSubscriptions()`: the server ends the call.
 * - `failNext(call, error, times)`: the next call(s) fail with `error`, e.g. `esdbErrors.notLeader()`,
 *   `.unavailable()`, `.accessDenied()`: appends reject, reads and subscriptions fail when
 *   iterated (the client is lazy: subscribing returns a stream that then emits `'error'`).
 * - `tombstone(stream)`: a hard delete; reads and appends fail with `StreamDeletedError`.
 * - appends over `maxAppendSize` (default 1 MiB, the server's `MaxAppendSize`), counted as the
 *   server counts (`Event.SizeOnDisk`: data + metadata bytes + 2 × the type's length), fail
 *   with `MaxAppendSizeExceededError`.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AccessDeniedError,
  END,
  MaxAppendSizeExceededError,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  convertToCommandError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type AppendResult,
  type Filter,
  type ReadPosition,
  type ReadRevision,
  type StreamingRead,
} from '@eventstore/db-client';
import type { EventStoreDbClientLike } from '../eventstoredb-event-store.adapter';

interface StoredRecord {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: string;
  readonly metadata: string | undefined;
  readonly position: bigint;
}

interface EventLike {
  readonly id: string;
  readonly type: string;
  readonly contentType?: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

interface LiveSubscription {
  readonly push: (record: StoredRecord) => void;
  /** The gRPC call failed (`error`) or the server ended it (no error). */
  readonly drop: (error?: Error, losingBuffered?: boolean) => void;
}

type ClientMethods = {
  [K in keyof EventStoreDbClientLike]: (...args: never[]) => unknown;
};

/** A client call a test can make fail. */
export type FailableCall = 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata';

/** The server's default `MaxAppendSize`: 1 MiB. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

export interface InMemoryEsdbClientOptions {
  /** The server's `MaxAppendSize` in bytes; default 1 MiB. */
  readonly maxAppendSize?: number;
}

export class InMemoryEsdbClient implements ClientMethods {
  private readonly log: StoredRecord[] = [];
  private readonly maxCounts = new Map<string, number>();
  private readonly live = new Set<LiveSubscription>();
  private readonly tombstoned = new Set<string>();
  private readonly failures = new Map<FailableCall, Error[]>();
  private readonly maxAppendSize: number;
  private nextPosition = 1_000n;
  disposed = false;
  /** Appends seen, for tests that count round trips. */
  appendCalls = 0;
  /** Where each `subscribeToAll` asked to start, in call order. */
  readonly subscribedFrom: ReadPosition[] = [];

  constructor(options: InMemoryEsdbClientOptions = {}) {
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  }

  /** Subscriptions currently receiving events. */
  get liveSubscriptions(): number {
    return this.live.size;
  }

  /** The next `times` calls of `call` fail with `error` (see the file comment for how each surfaces). */
  failNext(call: FailableCall, error: Error, times = 1): void {
    const queue = this.failures.get(call) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(call, queue);
  }

  /**
   * The gRPC calls of every live subscription fail with `error` (by default: the connection
   * dropped). Events the client had already buffered are still read before the error, as with
   * the real client, unless `losingBuffered`: then they are lost with the connection, like
   * events still in flight, and only a resubscribe from the checkpoint brings them back.
   */
  dropSubscriptions(error: Error = esdbErrors.unavailable(), options: { readonly losingBuffered?: boolean } = {}): void {
    for (const subscription of [...this.live]) subscription.drop(error, options.losingBuffered);
  }

  /** The server ends every live subscription's call normally (the client's stream ends). */
  endSubscriptions(): void {
    for (const subscription of [...this.live]) subscription.drop();
  }

  /** Hard-deletes a stream, as `tombstoneStream` does: a `$streamDeleted` record, then no reads or appends ever again. */
  tombstone(streamName: string): void {
    const revision = BigInt(this.log.filter((record) => record.streamId === streamName).length);
    this.commit({ streamId: streamName, id: randomUUID(), revision, type: '$streamDeleted', data: '{}', metadata: undefined, position: 0n });
    this.tombstoned.add(streamName);
  }

  /** Writes a server-side event (e.g. `$statsCollected` in `$stats-…`), as a real server does now and then. */
  writeSystemEvent(streamId = '$stats-127.0.0.1:2113', type = '$statsCollected'): void {
    const revision = BigInt(this.log.filter((record) => record.streamId === streamId).length);
    this.commit({ streamId, id: randomUUID(), revision, type, data: '{}', metadata: undefined, position: 0n });
  }

  appendToStream = async (
    streamName: string,
    events: EventLike | EventLike[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> => {
    this.assertOpen();
    this.appendCalls += 1;
    await turn(); // let concurrent callers interleave, as network round trips do
    const failure = this.takeFailure('appendToStream');
    if (failure) throw failure;
    const batch = Array.isArray(events) ? events : [events];
    if (appendSize(batch) > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);
    if (this.tombstoned.has(streamName)) throw StreamDeletedError.fromStreamName(streamName);
    const current = this.currentRevision(streamName);
    const expected = options.expectedRevision ?? 'any';
    const holds =
      expected === 'any' ||
      (expected === 'no_stream' && current === undefined) ||
      (expected === 'stream_exists' && current !== undefined) ||
      (typeof expected === 'bigint' && current === expected);
    if (!holds) {
      throw new WrongExpectedVersionError(undefined, { streamName, expected, current: current ?? 'no_stream' });
    }
    let revision = current ?? -1n;
    let position = 0n;
    for (const event of batch) {
      revision += 1n;
      position = this.commit({
        streamId: streamName,
        id: event.id.toLowerCase(),
        revision,
        type: event.type,
        data: JSON.stringify(event.data) as string, // the fake models JSON events only
        metadata: event.metadata === undefined ? undefined : JSON.stringify(event.metadata),
        position: 0n,
      });
    }
    return { success: true, nextExpectedRevision: revision, position: { commit: position, prepare: position } };
  };

  setStreamMetadata = async (streamName: string, metadata: { maxCount?: number }): Promise<AppendResult> => {
    this.assertOpen();
    const failure = this.takeFailure('setStreamMetadata');
    if (failure) throw failure;
    if (metadata.maxCount !== undefined) this.maxCounts.set(streamName, metadata.maxCount);
    const metastream = `$$${streamName}`;
    const revision = BigInt(this.log.filter((record) => record.streamId === metastream).length);
    const position = this.commit({
      streamId: metastream,
      id: randomUUID(),
      revision,
      type: '$metadata',
      data: JSON.stringify({ $maxCount: metadata.maxCount }),
      metadata: undefined,
      position: 0n,
    });
    return { success: true, nextExpectedRevision: revision, position: { commit: position, prepare: position } };
  };

  readStream = (
    streamName: string,
    options: { direction?: string; fromRevision?: ReadRevision; maxCount?: number | bigint } = {},
  ): StreamingRead<AllStreamResolvedEvent> => {
    this.assertOpen();
    const failure = this.takeFailure('readStream');
    if (failure) return streamingRead([], failure);
    if (this.tombstoned.has(streamName)) return streamingRead([], StreamDeletedError.fromStreamName(streamName));
    const all = this.log.filter((record) => record.streamId === streamName);
    const maxCount = this.maxCounts.get(streamName);
    const visible = maxCount === undefined ? all : all.slice(Math.max(0, all.length - maxCount));
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? END : START);
    let selected = backwards
      ? visible.filter((record) => from === END || from === START || record.revision <= from).reverse()
      : visible.filter((record) => from === START || from === END || record.revision >= from);
    if (!backwards && from === END) selected = [];
    const limited = selected.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER));
    if (all.length === 0) return streamingRead([], new StreamNotFoundError(undefined, streamName));
    return streamingRead(limited.map(resolved));
  };

  readAll = (
    options: { direction?: string; fromPosition?: ReadPosition; maxCount?: number | bigint } = {},
  ): StreamingRead<AllStreamResolvedEvent> => {
    this.assertOpen();
    const failure = this.takeFailure('readAll');
    if (failure) return streamingRead([], failure);
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? END : START);
    const selected = backwards
      ? this.log.filter((record) => from === END || (from !== START && record.position < from.commit)).reverse()
      : this.log.filter((record) => from === START || (from !== END && record.position >= from.commit));
    return streamingRead(selected.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER)).map(resolved));
  };

  subscribeToAll = (
    options: { fromPosition?: ReadPosition; filter?: Filter } = {},
    readableOptions: { highWaterMark?: number } = {},
  ): AllStreamSubscription => {
    this.assertOpen();
    const from = options.fromPosition ?? START;
    this.subscribedFrom.push(from);
    const passes = (record: StoredRecord): boolean => passesFilter(record, options.filter);
    let cancelled = false;
    const stream = new Readable({ objectMode: true, highWaterMark: readableOptions.highWaterMark ?? 16, read: () => undefined });
    const subscription: LiveSubscription = {
      push: (record) => {
        if (!cancelled && passes(record)) stream.push(resolved(record));
      },
      drop: (error, losingBuffered = false) => {
        cancelled = true;
        this.live.delete(subscription);
        // The client's Subscription re-emits the gRPC error without destroying itself, and ends
        // when the call ends normally. Destroying drops what is buffered.
        if (error && losingBuffered) stream.destroy(error);
        else if (error) stream.emit('error', error);
        else stream.push(null);
      },
    };
    const unsubscribable = Object.assign(stream, {
      unsubscribe: async (): Promise<void> => {
        // Like a cancelled gRPC call: no more events, and the readable is *not* ended.
        cancelled = true;
        this.live.delete(subscription);
      },
    }) as unknown as AllStreamSubscription;
    const failure = this.takeFailure('subscribeToAll');
    if (failure) {
      // The call is made lazily; its failure arrives as an 'error' event, not as a throw.
      setImmediate(() => {
        if (!cancelled) subscription.drop(failure);
      });
      return unsubscribable;
    }
    // Catch-up (inclusive of `from`, as the adapter must cope with), then live.
    for (const record of this.log) {
      if (from === END) break;
      if (from === START || record.position >= from.commit) subscription.push(record);
    }
    this.live.add(subscription);
    return unsubscribable;
  };

  dispose = async (): Promise<void> => {
    this.disposed = true;
    this.live.clear();
  };

  private commit(record: StoredRecord): bigint {
    // Positions are log offsets: increasing, with gaps.
    this.nextPosition += 64n + BigInt(record.data.length);
    const stored = { ...record, position: this.nextPosition };
    this.log.push(stored);
    for (const subscription of this.live) subscription.push(stored);
    return stored.position;
  }

  private takeFailure(call: FailableCall): Error | undefined {
    return this.failures.get(call)?.shift();
  }

  private currentRevision(streamName: string): bigint | undefined {
    let revision: bigint | undefined;
    for (const record of this.log) if (record.streamId === streamName) revision = record.revision;
    return revision;
  }

  private assertOpen(): void {
    if (this.disposed) throw new Error('InMemoryEsdbClient: disposed');
  }
}

function resolved(record: StoredRecord): AllStreamResolvedEvent {
  const position = { commit: record.position, prepare: record.position };
  return {
    event: {
      streamId: record.streamId,
      id: record.id,
      revision: record.revision,
      type: record.type,
      isJson: true,
      data: JSON.parse(record.data) as Record<string, unknown>,
      metadata: record.metadata === undefined ? undefined : (JSON.parse(record.metadata) as Record<string, unknown>),
      created: new Date(0),
      position,
    },
    commitPosition: record.position,
  } as AllStreamResolvedEvent;
}

function passesFilter(record: StoredRecord, filter: Filter | undefined): boolean {
  if (filter === undefined) return true;
  const subject = filter.filterOn === 'streamName' ? record.streamId : record.type;
  if ('prefixes' in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return new RegExp(filter.regex).test(subject);
}

/** A finished read as the client returns it: an object-mode readable with `cancel()`, failing with `error` if given. */
function streamingRead<T>(items: readonly T[], error?: Error): StreamingRead<T> {
  let index = 0;
  const stream = new Readable({
    objectMode: true,
    read() {
      setImmediate(() => {
        if (error !== undefined) {
          this.destroy(error);
          return;
        }
        if (index < items.length) this.push(items[index++]);
        else this.push(null);
      });
    },
  });
  return Object.assign(stream, {
    cancel: async (): Promise<void> => {
      stream.destroy();
    },
  }) as unknown as StreamingRead<T>;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What the server counts against `MaxAppendSize` (its `Event.SizeOnDisk`): data + metadata bytes + 2 bytes per type character. */
function appendSize(batch: readonly EventLike[]): number {
  let size = 0;
  for (const event of batch) {
    size += Buffer.byteLength(JSON.stringify(event.data) ?? '');
    if (event.metadata !== undefined) size += Buffer.byteLength(JSON.stringify(event.metadata) ?? '');
    size += 2 * event.type.length;
  }
  return size;
}

/** A gRPC `ServiceError` as `@grpc/grpc-js` produces it, turned into the client's error the way the client does. */
function serviceError(code: number, codeName: string, details: string, metadata: Record<string, string> = {}): Error {
  const error = Object.assign(new Error(`${code} ${codeName}: ${details}`), {
    code,
    details,
    metadata: { getMap: () => metadata },
  });
  return convertToCommandError(error);
}

/** The client's errors for the server's failure modes, built through the client's own conversion. */
export const esdbErrors = {
  /** The connection dropped or the server is down (gRPC UNAVAILABLE) → `UnavailableError`. */
  unavailable: (details = 'Connection dropped'): Error => serviceError(14, 'UNAVAILABLE', details),
  /** The call outlived its deadline → `DeadlineExceededError`. */
  deadlineExceeded: (): Error => serviceError(4, 'DEADLINE_EXCEEDED', 'Deadline exceeded'),
  /** A follower refused a write → `NotLeaderError` naming the leader (the client reconnects there). */
  notLeader: (host = 'node2.esdb.local', port = 2113): Error =>
    serviceError(5, 'NOT_FOUND', 'Leader info available', {
      exception: 'not-leader',
      'leader-endpoint-host': host,
      'leader-endpoint-port': String(port),
    }),
  /** Credentials or ACLs refuse the call → `AccessDeniedError`. */
  accessDenied: (): Error => serviceError(7, 'PERMISSION_DENIED', 'Access Denied', { exception: 'access-denied' }),
  /** Batch appends report access denied without a gRPC status: a bare `AccessDeniedError`. */
  appendAccessDenied: (): Error => new AccessDeniedError(),
  /** A gRPC failure the client does not recognise (e.g. INTERNAL on a reset stream) → `UnknownError`. */
  unknown: (details = 'Received RST_STREAM with code 2'): Error => serviceError(13, 'INTERNAL', details),
};
