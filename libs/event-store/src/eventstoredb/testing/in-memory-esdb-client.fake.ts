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
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  END,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
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
}

type ClientMethods = {
  [K in keyof EventStoreDbClientLike]: (...args: never[]) => unknown;
};

export class InMemoryEsdbClient implements ClientMethods {
  private readonly log: StoredRecord[] = [];
  private readonly maxCounts = new Map<string, number>();
  private readonly live = new Set<LiveSubscription>();
  private nextPosition = 1_000n;
  disposed = false;
  /** Appends seen, for tests that count round trips. */
  appendCalls = 0;

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
    const batch = Array.isArray(events) ? events : [events];
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
    const passes = (record: StoredRecord): boolean => passesFilter(record, options.filter);
    let cancelled = false;
    const stream = new Readable({ objectMode: true, highWaterMark: readableOptions.highWaterMark ?? 16, read: () => undefined });
    const subscription: LiveSubscription = {
      push: (record) => {
        if (!cancelled && passes(record)) stream.push(resolved(record));
      },
    };
    // Catch-up (inclusive of `from`, as the adapter must cope with), then live.
    for (const record of this.log) {
      if (from === END) break;
      if (from === START || record.position >= from.commit) subscription.push(record);
    }
    this.live.add(subscription);
    return Object.assign(stream, {
      unsubscribe: async (): Promise<void> => {
        // Like a cancelled gRPC call: no more events, and the readable is *not* ended.
        cancelled = true;
        this.live.delete(subscription);
      },
    }) as unknown as AllStreamSubscription;
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
