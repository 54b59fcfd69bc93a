import { randomUUID } from 'node:crypto';
import { loggerFor } from '@mrw/logging';
import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type ReadPosition,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import {
  DuplicateEventIdError,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
  type SubscriptionState,
  type SubscriptionStatus,
} from '../event-store.port';
import { encodeAppend } from '../encode-append';
import { backoffDelayMs, sleepUnless, validateBackoffOptions, type BackoffOptions } from '../backoff';
import { chainEncodedEvents } from '../hash-chain';
import { distinctPositions } from '../read-positions';
import { CaughtUpWaiters, reportSubscriptionFailure, validateSubscriptionOptions } from '../subscription-support';
import {
  CHECKPOINT_EVENT_TYPE,
  checkpointData,
  checkpointStreamName,
  commitPositionOf,
  detectReplay,
  expectedRevisionHolds,
  firstReusedId,
  fromEsdbRevision,
  isApplicationEvent,
  isRecoverableSubscriptionError,
  matchesFilter,
  parseCheckpointData,
  redactConnectionString,
  sameId,
  serverFilterFor,
  storedHashOf,
  toEsdbExpectedRevision,
  toEventData,
  toReadPosition,
  toRecordedEvent,
  toRevision,
  toStoreError,
  validateAppend,
  type EsdbRecordedEventLike,
  type ServerFilter,
  type StoredEventRef,
} from './eventstoredb-mapping';

const log = loggerFor('event-store');

/** The part of `EventStoreDBClient` this adapter uses. */
export type EventStoreDbClientLike = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata' | 'dispose'
>;

export interface EventStoreDbEventStoreOptions {
  /**
   * How often an `any` / `stream_exists` append that lost a race re-reads the stream and tries
   * again before failing with `WrongExpectedRevisionError` (default 5). Appends with an exact
   * revision or `no_stream` never retry: losing the race *is* their conflict.
   */
  readonly appendAttempts?: number;
  /** Events per page when scanning `$all` (readAll, headPosition, caughtUp). Default 500. */
  readonly pageSize?: number;
  /**
   * How a subscription that lost its connection waits before resubscribing: capped exponential
   * backoff with jitter. Default: 250 ms, doubling up to 5 s.
   */
  readonly reconnect?: Partial<BackoffOptions>;
}

const DEFAULT_RECONNECT: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 5_000 };
/** Positions `readAt` reads concurrently. */
const READS_AT_ONCE = 16;

export interface OpenEventStoreDbOptions extends EventStoreDbEventStoreOptions {
  /** How long the connection check may take (ms, default 5000). */
  readonly connectTimeoutMs?: number;
}

/**
 * The distributed event store: EventStoreDB (or KurrentDB) over gRPC with
 * `@eventstore/db-client` 6.x. It passes the same conformance suite as the SQLite adapter,
 * with one documented exception (below).
 *
 * **Appends.** Every append reads the whole target stream first: to find an idempotent
 * replay (see the README's append semantics), to check the caller's expected revision, and
 * to take the last event's hash for the chain. It then appends with the *exact* revision it
 * read (`no_stream` for a new stream), whatever the caller passed, so two writers can never
 * both chain onto the same predecessor: the server refuses the second. An `any` or
 * `stream_exists` append that loses such a race re-reads and tries again (`appendAttempts`);
 * an exact or `no_stream` append gets `WrongExpectedRevisionError` with the fresh revision.
 * Reading the stream costs O(stream length) per append; streams here are one per aggregate
 * and short. Event ids must be UUIDs (ours are).
 *
 * **Limitation: an event id reused in a *different* stream is not detected.** EventStoreDB
 * has no index by event id, so finding one would mean scanning `$all`. Within the target
 * stream every rule holds (replay, partial overlap, repeats in a batch →
 * `DuplicateEventIdError`). The conformance fixture declares this with
 * `capabilities.detectsCrossStreamDuplicateIds: false`. Our ids are derived from command ids
 * and the stream they belong to, so a cross-stream clash means a bug upstream, not a retry.
 *
 * **Positions** are `$all` commit positions (bigint): log offsets, strictly increasing, with
 * gaps. `readAll({ after })` and `startAfter` accept 0n or a position this store returned.
 * Requires server 22.6 or newer (stream reads carry positions from then on).
 *
 * **Reads of `$all`** never return system events (`$` streams or types) nor this adapter's
 * checkpoint streams (`mrwCheckpoint-…`). Client 6.x has no server-side filter for `readAll`, so
 * `readAll` pages through `$all` and filters here: its cost is the stretch of log scanned, not
 * the number of matches.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private readonly appendAttempts: number;
  private readonly pageSize: number;
  private readonly reconnect: BackoffOptions;
  private closed = false;

  constructor(
    private readonly client: EventStoreDbClientLike,
    options: EventStoreDbEventStoreOptions = {},
  ) {
    this.appendAttempts = options.appendAttempts ?? 5;
    if (!Number.isSafeInteger(this.appendAttempts) || this.appendAttempts < 1) {
      throw new RangeError(`EventStoreDbEventStore: appendAttempts must be a positive integer, got ${this.appendAttempts}`);
    }
    this.pageSize = options.pageSize ?? 500;
    if (!Number.isSafeInteger(this.pageSize) || this.pageSize < 2) {
      throw new RangeError(`EventStoreDbEventStore: pageSize must be an integer of at least 2, got ${this.pageSize}`);
    }
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    validateBackoffOptions(this.reconnect, 'EventStoreDbEventStore reconnect');
  }

  async appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision;
    validateAppend(streamName, events, expected);
    // Encoded once: the size and depth checks, then every attempt's chain, hash the same text.
    const encoded = encodeAppend(streamName, events);
    const ids = encoded.map((event) => event.eventId);

    for (let attempt = 1; ; attempt++) {
      const stored = await this.readWholeStream(streamName);
      const refs: StoredEventRef[] = stored.map((event) => ({
        id: event.id,
        revision: toRevision(event.revision),
        position: commitPositionOf(event),
      }));
      const replay = detectReplay(streamName, ids, refs);
      if (replay) return replay;

      const head = stored[stored.length - 1];
      const actual = head === undefined ? 'no_stream' : toRevision(head.revision);
      if (!expectedRevisionHolds(expected, actual)) throw new WrongExpectedRevisionError(streamName, expected, actual);
      const reused = firstReusedId(ids, refs);
      if (reused !== undefined) throw new DuplicateEventIdError(reused, streamName);

      const chained = chainEncodedEvents(
        head === undefined ? null : storedHashOf(head),
        actual === 'no_stream' ? 0 : actual + 1,
        streamName,
        encoded,
      );
      try {
        await this.client.appendToStream(streamName, chained.map(toEventData), {
          expectedRevision: toEsdbExpectedRevision(actual),
        });
      } catch (error) {
        if (isWrongExpectedVersion(error)) {
          // Someone appended between our read and our write. Re-read: it may be our own
          // replay, the caller's condition may no longer hold, or (any/stream_exists) we chain
          // onto the new head and try again.
          if (attempt >= this.appendAttempts) {
            throw new WrongExpectedRevisionError(streamName, expected, fromEsdbRevision(error.actualVersion));
          }
          continue;
        }
        // A follower answered: the client has already pointed its next call at the leader it
        // named, so going round again (re-read included) lands there. Safe: the re-read finds
        // our events if the refused write went through after all.
        if (isNotLeader(error) && attempt < this.appendAttempts) continue;
        throw toStoreError(error, `append to ${streamName}`, streamName);
      }
      const last = chained[chained.length - 1] as (typeof chained)[number];
      const position = await this.positionOf(streamName, last.revision, last.eventId);
      return { nextExpectedRevision: last.revision, position, appended: true };
    }
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = countOf(options.maxCount);
    if (options.fromRevision !== undefined && (!Number.isSafeInteger(options.fromRevision) || options.fromRevision < 0)) {
      throw new RangeError(`readStream: invalid fromRevision ${options.fromRevision}`);
    }
    if (maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    const events = await this.readStreamEvents(streamName, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(maxCount === undefined ? {} : { maxCount }),
    });
    return events.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = countOf(options.maxCount);
    const after = options.after ?? 0n;
    toReadPosition(after); // validates
    if (maxCount === 0) return [];
    const found: RecordedEvent[] = [];
    await this.scanForwards(after, (event) => {
      if (matchesFilter(event.streamId, event.type, options.filter)) found.push(toRecordedEvent(event));
      return maxCount === undefined || found.length < maxCount;
    });
    return found;
  }

  /**
   * Each position read on its own (`$all` from that position, one event), `READS_AT_ONCE` at a
   * time: EventStoreDB has no read by a list of positions.
   */
  async readAt(positions: readonly bigint[]): Promise<RecordedEvent[]> {
    this.assertOpen();
    const wanted = distinctPositions(positions);
    const found: RecordedEvent[] = [];
    for (let start = 0; start < wanted.length; start += READS_AT_ONCE) {
      const events = await Promise.all(wanted.slice(start, start + READS_AT_ONCE).map((position) => this.eventAt(position)));
      for (const event of events) if (event) found.push(event);
    }
    return found;
  }

  private async eventAt(position: bigint): Promise<RecordedEvent | undefined> {
    let found: RecordedEvent | undefined;
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: toReadPosition(position), maxCount: 1 });
    await drainAll(read, (resolved: AllStreamResolvedEvent) => {
      const event = resolved.event;
      if (event !== undefined && commitPositionOf(event) === position && isApplicationEvent(event.streamId, event.type)) found = toRecordedEvent(event);
      return false;
    });
    return found;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return (await this.lastPositionWhere((streamName, type) => isApplicationEvent(streamName, type), 0n)) ?? 0n;
  }

  /**
   * A catch-up subscription on `$all` from the stored checkpoint (or `startAfter`), narrowed
   * on the server as far as the client allows (`serverFilterFor`) and exactly on the client.
   * Handlers run one at a time in position order: `handler` per event, or `handleBatch` with
   * the events that have arrived (up to `batchSize`, default 500, which is also how many
   * events the client buffers ahead). The checkpoint (an event in `mrwCheckpoint-<name>`) is
   * written after each handled event or batch; a position reached by skipping filtered-out
   * events is written when the subscription stops, so a crash never skips an unhandled event.
   *
   * A lost connection (the stream fails or ends, a read or checkpoint write is unavailable, the
   * node is no longer leader) does not end the subscription: it resubscribes after the last
   * handled event with capped exponential backoff and jitter (`reconnect`), for as long as it
   * takes, reporting `reconnecting` through `status()` meanwhile. Handler errors and permanent
   * store errors (access denied, our own data unreadable) end it through `onError`. Do not
   * await `stop()` or `close()` from inside the handler: they wait for that very handler.
   */
  subscribeToAll(options: SubscriptionOptions): Subscription {
    this.assertOpen();
    for (const existing of this.subscriptions) {
      if (existing.name === options.name) {
        throw new Error(`subscription ${options.name} is already running on this store`);
      }
    }
    const subscription: EventStoreDbSubscription = new EventStoreDbSubscription(
      {
        subscribe: (from, server, highWaterMark) =>
          this.client.subscribeToAll({ fromPosition: from, filter: server.filter }, { highWaterMark }),
        loadCheckpoint: (name) => this.loadCheckpoint(name),
        saveCheckpoint: (name, position, createStream) => this.saveCheckpoint(name, position, createStream),
        lastPositionWhere: (predicate, floor) => this.lastPositionWhere(predicate, floor),
        isClosed: () => this.closed,
        finished: (finished) => this.subscriptions.delete(finished),
        reconnect: this.reconnect,
      },
      options,
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  /** Stops every subscription (waiting for in-flight handlers), then disposes the client. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /** A cheap read of the end of `$all`, bounded by `timeoutMs`: the connection check of `openEventStoreDb`. */
  async ping(timeoutMs: number): Promise<void> {
    this.assertOpen();
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([drain(read, () => true), timeout]);
    } finally {
      clearTimeout(timer);
      await read.cancel().catch(() => undefined);
    }
  }

  /** The whole stream, forwards; [] when it does not exist. */
  private readWholeStream(streamName: string): Promise<EsdbRecordedEventLike[]> {
    return this.readStreamEvents(streamName, { direction: FORWARDS, fromRevision: START });
  }

  private async readStreamEvents(
    streamName: string,
    options: Parameters<EventStoreDbClientLike['readStream']>[1],
  ): Promise<EsdbRecordedEventLike[]> {
    const events: EsdbRecordedEventLike[] = [];
    try {
      await drain(this.client.readStream(streamName, options), (resolved: ResolvedEvent) => {
        if (resolved.event) events.push(resolved.event);
        return true;
      });
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw toStoreError(error, `read of ${streamName}`, streamName);
    }
    return events;
  }

  /** The `$all` position of the event just appended at `revision`, read back from the stream. */
  private async positionOf(streamName: string, revision: number, eventId: string): Promise<bigint> {
    const [event] = await this.readStreamEvents(streamName, { direction: FORWARDS, fromRevision: BigInt(revision), maxCount: 1 });
    if (event === undefined || !sameId(event.id, eventId)) {
      throw new Error(`EventStoreDB: ${streamName}@${revision} is not the event ${eventId} that was just appended there`);
    }
    return commitPositionOf(event);
  }

  /**
   * Reads `$all` forwards strictly after `after`, page by page, until `visit` returns false
   * or the log ends. System events are visited too; callers filter.
   */
  private async scanForwards(after: bigint, visit: (event: EsdbRecordedEventLike, position: bigint) => boolean): Promise<void> {
    let from = after;
    for (;;) {
      let seen = 0;
      let last = from;
      let stopped = false;
      const page = this.client.readAll({ direction: FORWARDS, fromPosition: toReadPosition(from), maxCount: this.pageSize });
      await drainAll(page, (resolved: AllStreamResolvedEvent) => {
        seen += 1;
        const event = resolved.event;
        if (event === undefined) return true;
        const position = commitPositionOf(event);
        // The server starts at `from` inclusively.
        if (position <= from) return true;
        last = position;
        stopped = !visit(event, position);
        return !stopped;
      });
      if (stopped || seen < this.pageSize) return;
      if (last === from) throw new Error(`EventStoreDB: reading $all after position ${from} made no progress`);
      from = last;
    }
  }

  /**
   * The position of the newest event above `floor` that satisfies `predicate`, reading `$all`
   * backwards from its end; undefined when there is none.
   */
  private async lastPositionWhere(
    predicate: (streamName: string, type: string) => boolean,
    floor: bigint,
  ): Promise<bigint | undefined> {
    let from: ReadPosition = END;
    let upper: bigint | undefined;
    for (;;) {
      let seen = 0;
      let found: bigint | undefined;
      let reachedFloor = false;
      const page = this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: this.pageSize });
      await drainAll(page, (resolved: AllStreamResolvedEvent) => {
        seen += 1;
        const event = resolved.event;
        if (event === undefined) return true;
        const position = commitPositionOf(event);
        if (upper !== undefined && position >= upper) return true; // the page boundary, if the server repeats it
        upper = position;
        if (position <= floor) {
          reachedFloor = true;
          return false;
        }
        if (predicate(event.streamId, event.type)) {
          found = position;
          return false;
        }
        return true;
      });
      if (found !== undefined) return found;
      if (reachedFloor || seen < this.pageSize || upper === undefined) return undefined;
      from = { commit: upper, prepare: upper };
    }
  }

  private async loadCheckpoint(name: string): Promise<{ position: bigint | undefined; exists: boolean }> {
    const streamName = checkpointStreamName(name);
    const [event] = await this.readStreamEvents(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    if (event === undefined) return { position: undefined, exists: false };
    return { position: parseCheckpointData(event.data, streamName), exists: true };
  }

  private async saveCheckpoint(name: string, position: bigint, createStream: boolean): Promise<void> {
    const streamName = checkpointStreamName(name);
    if (createStream) {
      try {
        // Only the newest checkpoint matters; the server hides and later scavenges the rest.
        await this.client.setStreamMetadata(streamName, { maxCount: 1 });
      } catch (error) {
        log.warn({ err: error, subscription: name }, `event-store subscription ${name}: could not set $maxCount=1 on ${streamName}; old checkpoints will accumulate`);
      }
    }
    try {
      await this.client.appendToStream(
        streamName,
        { id: randomUUID(), contentType: 'application/json', type: CHECKPOINT_EVENT_TYPE, data: checkpointData(position), metadata: undefined },
        { expectedRevision: ANY },
      );
    } catch (error) {
      throw toStoreError(error, `checkpoint of subscription ${name}`, streamName);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('EventStoreDbEventStore is closed');
  }
}

/**
 * Connects to EventStoreDB (`esdb://host:2113?tls=false`, or any connection string the client
 * accepts) and checks the connection with one cheap read of `$all`. Fails with a message
 * naming the server (password redacted) when the string is invalid or the server does not
 * answer within `connectTimeoutMs`.
 */
export async function openEventStoreDb(url: string, options: OpenEventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
  const shown = redactConnectionString(String(url));
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(url);
  } catch (error) {
    throw new Error(`EventStoreDB: invalid connection string ${shown}: ${messageOf(error)}`, { cause: error });
  }
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  let store: EventStoreDbEventStore;
  try {
    store = new EventStoreDbEventStore(client, options);
    await store.ping(timeoutMs);
  } catch (error) {
    await client.dispose().catch(() => undefined);
    throw new Error(`EventStoreDB at ${shown} is not usable (a read of $all failed): ${messageOf(error)}`, { cause: error });
  }
  return store;
}

/** What a subscription needs from its store; kept off the store's public API. */
interface SubscriptionHost {
  subscribe(from: ReadPosition, server: ServerFilter, highWaterMark: number): AllStreamSubscription;
  loadCheckpoint(name: string): Promise<{ position: bigint | undefined; exists: boolean }>;
  saveCheckpoint(name: string, position: bigint, createStream: boolean): Promise<void>;
  lastPositionWhere(predicate: (streamName: string, type: string) => boolean, floor: bigint): Promise<bigint | undefined>;
  isClosed(): boolean;
  finished(subscription: EventStoreDbSubscription): void;
  readonly reconnect: BackoffOptions;
}

const STOP = Symbol('stop');
const IDLE = Symbol('idle');

class EventStoreDbSubscription implements Subscription {
  readonly name: string;
  /** Last position handled or passed over (filtered out); what `checkpoint` reports and where a resubscribe starts. */
  private position: bigint | undefined;
  /** Whether `position` is ahead of the stored checkpoint: past filtered-out application events, or a checkpoint write failed. */
  private unstored = false;
  private checkpointStreamExists = true;
  private stopping = false;
  private failure: unknown = undefined;
  private finished = false;
  private state: Exclude<SubscriptionState, 'failed' | 'stopped'> = 'catching-up';
  /** The last connection failure, while reconnecting. */
  private lastDrop: string | undefined;
  /** Connection losses in a row, each without the session in between getting anywhere. */
  private attempts = 0;
  /** The current session turns live when the position reaches this (the newest deliverable event when it started). */
  private liveAt: bigint | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly waiters = new CaughtUpWaiters();
  private readonly server: ServerFilter;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly stopSignal: Promise<typeof STOP>;
  private signalStop!: () => void;

  constructor(
    private readonly host: SubscriptionHost,
    private readonly options: SubscriptionOptions,
  ) {
    this.name = options.name;
    checkpointStreamName(options.name); // validates the name
    validateSubscriptionOptions(options);
    if (options.startAfter !== undefined) toReadPosition(options.startAfter); // validates
    this.server = serverFilterFor(options.filter);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.stopSignal = new Promise((resolve) => (this.signalStop = () => resolve(STOP)));
  }

  get checkpoint(): bigint | undefined {
    return this.position;
  }

  status(): SubscriptionStatus {
    if (this.failure !== undefined) return { state: 'failed', detail: describeError(this.failure) };
    if (this.stopping || this.finished) return { state: 'stopped' };
    if (this.state === 'reconnecting') return { state: 'reconnecting', detail: this.lastDrop ?? 'reconnecting', attempts: this.attempts };
    return { state: this.state };
  }

  start(): void {
    // Deferred so no handler runs before subscribeToAll has returned the subscription.
    this.loop = Promise.resolve()
      .then(() => this.run())
      .finally(() => {
        this.finished = true;
        this.markReady();
        this.host.finished(this);
        const reason = this.failure ?? new Error(`subscription ${this.name} stopped before catching up`);
        this.waiters.rejectAll(reason);
      });
  }

  /**
   * Resolves once the subscription has gone past the newest event, at the time of the call,
   * that the server will deliver to it (found by reading `$all` backwards down to the current
   * position). Events the server filters out never reach the subscription and are not waited
   * for. While the subscription is reconnecting the promise waits for it (or rejects if this
   * read itself fails). A caller's `upTo` is not taken: a position the filter passes over would
   * never be reached here, so the target is always this read's.
   */
  async caughtUp(): Promise<void> {
    await this.ready;
    if (this.failure !== undefined) throw this.failure;
    if (this.host.isClosed()) throw new Error(`subscription ${this.name}: the store is closed`);
    const target = await this.newestDeliverable();
    if (this.failure !== undefined) throw this.failure;
    if (target === undefined || (this.position ?? 0n) >= target) return;
    if (this.finished || this.stopping) throw new Error(`subscription ${this.name} is stopped`);
    return this.waiters.wait(target);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    await this.loop;
  }

  /**
   * Sessions until stopped or failed for good. A session loads the checkpoint (once), asks the
   * server for the newest event it will deliver (which also proves the server answers), then
   * consumes the subscription from `position`. A session that loses its connection (an error
   * or end of the stream, a failed read or checkpoint write) is followed by another after a
   * backoff, from the position of the last handled event: nothing is skipped, and nothing
   * handled is delivered again. Handler errors and permanent store errors end it.
   */
  private async run(): Promise<void> {
    let loaded = false;
    try {
      while (!this.stopping) {
        let progressed = false;
        const started = Date.now();
        try {
          if (!loaded) {
            await this.loadStartPosition();
            loaded = true;
            this.markReady();
            if (this.stopping) return;
          }
          const target = await this.newestDeliverable();
          if (this.stopping) return;
          this.resumed(target);
          await this.consume(() => (progressed = true));
          return;
        } catch (error) {
          if (this.stopping) return; // our own stop, or a handler failure already reported
          const mapped = toStoreError(error, `subscription ${this.name}`);
          if (!isRecoverableSubscriptionError(mapped)) {
            this.fail(mapped);
            return;
          }
          // A session that got somewhere, or lasted longer than the longest backoff, was a
          // recovery: the next loss starts the backoff again.
          if (progressed || Date.now() - started >= this.host.reconnect.maxDelayMs) this.attempts = 0;
          this.attempts += 1;
          this.state = 'reconnecting';
          this.lastDrop = describeError(mapped);
          const delayMs = backoffDelayMs(this.attempts, this.host.reconnect);
          log.warn(
            { err: mapped, subscription: this.name, attempt: this.attempts, delayMs, position: this.position?.toString() },
            `event-store subscription ${this.name} lost its connection (${this.lastDrop}); resubscribing after position ${this.position ?? 'start'} in ${delayMs} ms`,
          );
          await sleepUnless(delayMs, this.stopSignal);
        }
      }
    } finally {
      await this.storeUnstored();
    }
  }

  private async loadStartPosition(): Promise<void> {
    if (this.options.startAfter !== undefined) {
      this.position = this.options.startAfter;
      return;
    }
    const loaded = await this.host.loadCheckpoint(this.name);
    this.position = loaded.position;
    this.checkpointStreamExists = loaded.exists;
  }

  /** The newest event above `position` that the server will deliver to this subscription. */
  private newestDeliverable(): Promise<bigint | undefined> {
    return this.host.lastPositionWhere(
      (streamName, type) => isApplicationEvent(streamName, type) && this.server.passes(streamName, type),
      this.position ?? 0n,
    );
  }

  /** A session starts: live at once when nothing deliverable lies ahead, else once it reaches `target`. */
  private resumed(target: bigint | undefined): void {
    if (this.state === 'reconnecting') {
      log.info(
        { subscription: this.name, attempt: this.attempts },
        `event-store subscription ${this.name}: the server answers again; resubscribing after position ${this.position ?? 'start'}`,
      );
    }
    this.lastDrop = undefined;
    this.liveAt = target;
    this.state = target === undefined || (this.position ?? 0n) >= target ? 'live' : 'catching-up';
  }

  /** One session on the server's subscription: returns when stopped or a handler failed, throws when the connection did. */
  private async consume(progress: () => void): Promise<void> {
    const { handler, handleBatch } = this.options;
    const batchSize = this.options.batchSize ?? 500;
    // `handler` gets one event at a time; `handleBatch` what has arrived, up to batchSize.
    const maxBatch = handleBatch ? batchSize : 1;
    let subscription: AllStreamSubscription | undefined;
    try {
      subscription = this.host.subscribe(toReadPosition(this.position), this.server, batchSize);
      // The iterator reports a failure to `next()`; this keeps a late 'error' (after we let go
      // of the stream) from becoming an uncaught exception.
      subscription.on('error', () => undefined);
      const events = subscription[Symbol.asyncIterator]();
      let pending: Promise<IteratorResult<AllStreamResolvedEvent>> | undefined;
      const take = async (wait: boolean): Promise<IteratorResult<AllStreamResolvedEvent> | typeof STOP | typeof IDLE> => {
        pending ??= events.next();
        // Racing the stop signal: a cancelled gRPC stream does not always end the iterator.
        const racers: Array<Promise<IteratorResult<AllStreamResolvedEvent> | typeof STOP | typeof IDLE>> = [pending, this.stopSignal];
        if (!wait) racers.push(new Promise((resolve) => setImmediate(() => resolve(IDLE))));
        const result = await Promise.race(racers);
        if (result !== STOP && result !== IDLE) pending = undefined;
        return result;
      };

      while (!this.stopping) {
        const batch: RecordedEvent[] = [];
        let reached: bigint | undefined; // the last position taken into this batch, matching or not
        while (batch.length < maxBatch) {
          const next = await take(batch.length === 0);
          if (next === STOP) return; // a batch not yet handled is simply delivered again later
          if (next === IDLE) break;
          if (next.done) throw new EventStoreUnavailableError(`subscription ${this.name}`, 'the server ended the subscription');
          const event = next.value.event;
          if (event === undefined) continue;
          const position = commitPositionOf(event);
          // A catch-up subscription starts at its position inclusively.
          const floor = reached ?? this.position;
          if (floor !== undefined && position <= floor) continue;
          // Only an event past the checkpoint shows the session got somewhere: the one at the
          // checkpoint comes again with every resubscribe.
          progress();
          if (!matchesFilter(event.streamId, event.type, this.options.filter)) {
            // Server events and checkpoints (ours and other subscriptions') are no reason to write one.
            if (isApplicationEvent(event.streamId, event.type)) this.unstored = true;
            if (batch.length === 0) this.advance(position);
            else reached = position;
            continue;
          }
          batch.push(toRecordedEvent(event));
          reached = position;
        }
        if (batch.length === 0 || reached === undefined) continue;
        try {
          if (handleBatch) await handleBatch(batch);
          else await (handler as NonNullable<typeof handler>)(batch[0] as RecordedEvent);
        } catch (error) {
          this.fail(error);
          return;
        }
        if (this.options.startAfter !== undefined) {
          this.advance(reached);
          continue;
        }
        try {
          await this.store(reached);
        } finally {
          // Handled is handled: even when the checkpoint write failed, the next session starts
          // after this batch. Only a crash before a later write delivers it again.
          this.advance(reached);
        }
      }
    } finally {
      if (subscription !== undefined) {
        await subscription.unsubscribe().catch(() => undefined);
        subscription.destroy();
      }
    }
  }

  /**
   * When the subscription ends, writes a position that is not stored yet: reached by passing
   * over events its filter excluded, or handled when a checkpoint write failed. Saves the next
   * start a re-scan or a redelivery.
   */
  private async storeUnstored(): Promise<void> {
    if (this.options.startAfter !== undefined || !this.unstored || this.position === undefined) return;
    try {
      await this.store(this.position);
    } catch (error) {
      // Only costs a re-scan (or an at-least-once redelivery) on the next start.
      log.warn({ err: error, subscription: this.name }, `event-store subscription ${this.name}: could not store checkpoint ${this.position}`);
    }
  }

  private async store(position: bigint): Promise<void> {
    this.unstored = true;
    await this.host.saveCheckpoint(this.name, position, !this.checkpointStreamExists);
    this.checkpointStreamExists = true;
    this.unstored = false;
  }

  private advance(position: bigint): void {
    if (this.position !== undefined && position <= this.position) return;
    this.position = position;
    this.waiters.reached(position);
    if (this.state === 'catching-up' && (this.liveAt === undefined || position >= this.liveAt)) this.state = 'live';
  }

  private fail(error: unknown): void {
    this.failure = error ?? new Error(`subscription ${this.name}: handler threw ${String(error)}`);
    this.stopping = true;
    this.signalStop();
    reportSubscriptionFailure(this.options, error);
  }
}

/**
 * Consumes a streaming read, calling `visit` per item until it returns false; cancels the
 * gRPC call when stopping early so the server stops sending.
 */
async function drain<T>(read: StreamingRead<T>, visit: (item: T) => boolean): Promise<void> {
  let early = false;
  try {
    for await (const item of read) {
      if (!visit(item)) {
        early = true;
        break;
      }
    }
  } finally {
    if (early) await read.cancel().catch(() => undefined);
  }
}

function countOf(maxCount: number | undefined): number | undefined {
  if (maxCount === undefined) return undefined;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new RangeError(`invalid maxCount ${maxCount}`);
  return maxCount;
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof StreamNotFoundError || (error as { type?: unknown } | null)?.type === ErrorType.STREAM_NOT_FOUND;
}

function isNotLeader(error: unknown): boolean {
  return (error as { type?: unknown } | null)?.type === ErrorType.NOT_LEADER;
}

/** `drain` for reads of `$all`: failures of the client become the port's errors; the visitor's own pass through. */
async function drainAll<T>(read: StreamingRead<T>, visit: (item: T) => boolean): Promise<void> {
  let visiting = false;
  try {
    await drain(read, (item) => {
      visiting = true;
      const more = visit(item);
      visiting = false;
      return more;
    });
  } catch (error) {
    throw visiting ? error : toStoreError(error, 'read of $all');
  }
}

/** `Name: message` of an error, for status details and logs. */
function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isWrongExpectedVersion(error: unknown): error is WrongExpectedVersionError {
  return (
    error instanceof WrongExpectedVersionError ||
    (error as { type?: unknown } | null)?.type === ErrorType.WRONG_EXPECTED_VERSION
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
