import { Client, escapeIdentifier, escapeLiteral, Pool, type ClientConfig, type PoolClient, type QueryResult } from 'pg';
import { loggerFor } from '@mrw/logging';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type RecordedMetadata,
  type Subscription,
  type SubscriptionOptions,
} from '../event-store.port';
import { encodeAppend, type EncodedEvent } from '../encode-append';
import { expectedRevisionHolds, validateAppend } from '../append-rules';
import { validateBackoffOptions, type BackoffOptions } from '../backoff';
import { chainEncodedEvents } from '../hash-chain';
import { distinctPositions } from '../read-positions';
import { describeError, redactPostgresUrl, toPostgresStoreError } from './postgres-errors';
import { LOCK_CLASS, migrate, schemaLockKey } from './postgres-migrations';
import { AppendListener, PostgresSubscription } from './postgres-subscription';

const log = loggerFor('event-store');

export interface PostgresEventStoreOptions {
  /** `postgres://user:password@host:port/database` (`MRW_POSTGRES_URL`); libpq-style parameters work too. */
  readonly connectionString: string;
  /** The schema holding the store's tables, created and migrated on open (default `mrw`). */
  readonly schema?: string;
  /** Connections for appends, reads and checkpoints (default 10). Subscriptions share one more, for LISTEN. */
  readonly poolSize?: number;
  /** Shown in `pg_stat_activity` (default `mrw-event-store`); the listening connection adds `:listen`. */
  readonly applicationName?: string;
  /** How long an operation waits for a connection before failing as unavailable (ms, default 10 000). */
  readonly connectTimeoutMs?: number;
  /**
   * How a subscription that lost the server (or its LISTEN connection) waits before
   * resubscribing: capped exponential backoff with jitter. Default: 250 ms, doubling up to 5 s.
   */
  readonly reconnect?: Partial<BackoffOptions>;
}

const DEFAULT_RECONNECT: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 5_000 };

/** Lower-case, unquoted-identifier style, short enough for the notification channel derived from it. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Appends of at most this many events hand them back as recorded (see AppendResult.recorded). */
const RECORDED_UP_TO = 16;

/** At most this many queued appends share one transaction. */
const GROUP_COMMIT_LIMIT = 256;

const EVENT_COLUMNS = 'position, stream_name, revision, type, data, metadata';

interface EventRow {
  readonly position: string;
  readonly stream_name: string;
  readonly revision: string;
  readonly type: string;
  /** `json` columns arrive parsed. */
  readonly data: unknown;
  readonly metadata: RecordedMetadata;
}

/** What the lookup before a group's appends finds: each stream's last event, and the ids already stored. */
interface LookupRow {
  readonly kind: 'head' | 'id';
  readonly stream_name: string;
  readonly revision: string;
  readonly position: string;
  readonly event_id: string | null;
  readonly hash: string | null;
}

interface PendingAppend {
  readonly streamName: string;
  /** Encoded before the append waits its turn: the commit only chains and writes. */
  readonly events: readonly EncodedEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The server-grade event store on PostgreSQL (node-postgres). It passes the same conformance
 * suite as the SQLite adapter, with no exception.
 *
 * **Positions: one writer at a time, numbered at commit order.** An append transaction first
 * takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`, one key per schema), then
 * numbers its events from `max(position) + 1`. Locks are released only after the commit is
 * visible, so the next writer starts after the previous one is visible, and commit order is
 * position order: positions are gap-free, and a reader that sees position p sees every
 * position below it. Readers and subscriptions rely on exactly that (read up to the head, and
 * nothing below it can still appear). The alternative, a sequence with readers holding back
 * behind the oldest running transaction (`xid8` columns and `pg_snapshot_xmin`), lets writers
 * run in parallel but leaves gaps, makes every read compute a visibility horizon, and lets one
 * long transaction stall every subscriber; the price of the lock, one commit at a time across
 * all processes, is paid down by group commit (below), and the registry's traffic is far below it.
 *
 * **Group commit.** Appends asked for while a transaction is being written queue up and then
 * share the next transaction and its fsync. Each runs in a savepoint of its own, so one whose
 * expected revision fails (or whose insert fails) is refused alone, and a later append of the
 * batch sees the earlier ones as if they had been committed one by one. Every caller is
 * answered only after COMMIT. When the outcome of a COMMIT is unknown (the connection broke),
 * every caller of the batch gets `EventStoreUnavailableError`: retrying is safe, appends being
 * idempotent by event id.
 *
 * **Subscriptions** go live with LISTEN/NOTIFY: each committing transaction notifies the new
 * head (`pg_notify`, delivered at commit), and one listening connection per store wakes its
 * subscriptions. Idle subscriptions run no query. A lost connection (listening or reading)
 * puts them in `reconnecting`; they resubscribe with backoff from the last handled event.
 *
 * **Schema** changes are versioned migrations run at open (see `./migrations`); a trigger
 * refuses UPDATE, DELETE and TRUNCATE on `events`. That guards against mistakes, not against
 * the table's owner (who can drop the trigger): run the suite as a role that does not own the
 * schema where that matters.
 */
export class PostgresEventStore implements EventStore {
  private readonly subscriptions = new Set<PostgresSubscription>();
  private readonly pending: PendingAppend[] = [];
  /** The group commit being written, if any. */
  private committing: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly checkpoints: CheckpointWriter;
  private readonly listener: AppendListener;
  private readonly sql: ReturnType<typeof statements>;

  private constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly reconnect: BackoffOptions,
    listenerConfig: ClientConfig,
  ) {
    this.sql = statements(schema);
    this.checkpoints = new CheckpointWriter((entries) => this.writeCheckpoints(entries), () => this.closed);
    this.listener = new AppendListener(() => new Client(listenerConfig), channelOf(schema), reconnect);
  }

  /** Connects, migrates the schema (creating it if needed) and returns the store; fails with the (redacted) URL. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const schema = options.schema ?? 'mrw';
    if (!SCHEMA_NAME.test(schema)) {
      throw new RangeError(`PostgresEventStore: schema must match ${String(SCHEMA_NAME)}, got ${JSON.stringify(schema)}`);
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new RangeError(`PostgresEventStore: invalid poolSize ${poolSize}`);
    const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    validateBackoffOptions(reconnect, 'PostgresEventStore reconnect');
    const applicationName = options.applicationName ?? 'mrw-event-store';
    const base: ClientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
    };
    // Custom plans always: a connection switches a prepared statement to its generic plan after
    // five runs, and one chosen while the log was young (no statistics yet) scans the whole table
    // for every lookup by stream or event id (batched appends ~3× slower once the log had grown).
    // These statements are cheap to plan with their parameters.
    const pool = new Pool({ ...base, application_name: applicationName, max: poolSize, idleTimeoutMillis: 30_000, options: '-c plan_cache_mode=force_custom_plan' });
    // An idle connection that the server drops (restart, pg_terminate_backend) is reported here
    // and then discarded by the pool; without a listener it would crash the process.
    pool.on('error', (error) => log.warn({ err: error }, `event-store: an idle PostgreSQL connection failed (${describeError(error)})`));
    // A connection lost while checked out fails its query, which is what we report; its
    // later 'error' event (the socket closing) must not crash the process.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const shown = redactPostgresUrl(options.connectionString);
    try {
      const client = await pool.connect();
      try {
        const applied = await migrate(client, schema);
        if (applied.length > 0) log.info({ schema, applied }, `event-store: migrated PostgreSQL schema ${schema} to version ${applied[applied.length - 1]}`);
        client.release();
      } catch (error) {
        client.release(true);
        throw error;
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`PostgreSQL at ${shown} is not usable as an event store (schema ${schema}): ${messageOf(error)}`, { cause: error });
    }
    return new PostgresEventStore(pool, schema, reconnect, { ...base, application_name: `${applicationName}:listen` });
  }

  async appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    validateAppend(streamName, events, options.expectedRevision);
    const encoded = encodeAppend(streamName, events);
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ streamName, events: encoded, expected: options.expectedRevision, resolve, reject });
      this.startCommit();
    });
  }

  /** Starts a group commit unless one is being written; the appends queued meanwhile form the next. */
  private startCommit(): void {
    if (this.committing !== undefined || this.pending.length === 0) return;
    this.committing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.commitPending())
      .finally(() => {
        this.committing = undefined;
        this.startCommit();
      });
  }

  /** One transaction for the queued appends (see the class comment); never rejects. */
  private async commitPending(): Promise<void> {
    const batch = this.pending.splice(0, GROUP_COMMIT_LIMIT);
    if (batch.length === 0) return;
    const operation = batch.length === 1 ? `append to ${(batch[0] as PendingAppend).streamName}` : `append of ${batch.length} batches`;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      for (const item of batch) item.reject(toPostgresStoreError(error, operation));
      return;
    }
    const outcomes: AppendOutcome[] = [];
    try {
      // One round trip, three statements. The head is read by a statement of its own: in READ
      // COMMITTED each statement takes its snapshot when it starts, here after the lock is
      // held, so it sees the previous writer's commit (a subquery of the locking statement would not).
      const together = batch.length > 1;
      const opened = (await client.query(together ? this.sql.beginAppendTogether : this.sql.beginAppend)) as unknown as Array<QueryResult<{ head: string }>>;
      let head = BigInt((opened[2]?.rows[0] as { head: string }).head);
      // Several appends: decided together from one lookup and written by one insert; should the
      // server refuse that insert, they are tried again one by one, each in a savepoint.
      const decided = together ? await this.appendTogether(client, batch, head) : undefined;
      if (decided) {
        outcomes.push(...decided.outcomes);
        head = decided.head;
      }
      const savepoints = together;
      for (const item of decided ? [] : batch) {
        try {
          if (savepoints) await client.query('SAVEPOINT append');
          const result = await this.appendInTransaction(client, item, head);
          if (savepoints) await client.query('RELEASE SAVEPOINT append');
          if (result.appended) head = result.position;
          outcomes.push({ result });
        } catch (error) {
          const mapped = toPostgresStoreError(error, `append to ${item.streamName}`);
          if (isConnectionFailure(mapped)) throw error;
          // Refused alone. Without savepoints (a batch of one) nothing is appended and the
          // transaction is rolled back below.
          if (savepoints) {
            await client.query('ROLLBACK TO SAVEPOINT append');
            await client.query('RELEASE SAVEPOINT append');
          }
          outcomes.push({ error: mapped });
        }
      }
      if (outcomes.some((outcome) => outcome.result?.appended)) {
        // Delivered to listeners at commit, in commit order: the head every position up to which is visible.
        const committed = (await client.query(
          `SELECT pg_notify(${escapeLiteral(channelOf(this.schema))}, '${head.toString()}'); COMMIT`,
        )) as unknown as QueryResult[];
        // COMMIT of a transaction that had failed answers ROLLBACK, without an error.
        if (committed[1]?.command !== 'COMMIT') throw new Error(`append transaction not committed (${String(committed[1]?.command)})`);
        for (const subscription of this.subscriptions) subscription.notified(head);
      } else {
        await client.query('ROLLBACK');
      }
      client.release();
    } catch (error) {
      const mapped = toPostgresStoreError(error, operation);
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      // A lost connection or a failed COMMIT: nothing of the batch is stored (or, when the
      // COMMIT's answer was lost, it is unknown; retrying is safe, appends being idempotent).
      for (const item of batch) item.reject(mapped);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index] as (typeof outcomes)[number];
      if (outcome.result) item.resolve(outcome.result);
      else item.reject(outcome.error);
    });
  }

  /**
   * The appends of a group commit decided together, holding the append lock: one lookup, the
   * decisions in memory (decideAppends), then one insert. No other writer can move a stream
   * meanwhile, so the lookup stays true for the whole batch. Undefined when the server refused the
   * insert (back to the savepoint, nothing written): the caller then appends one by one, and
   * only the offending append fails.
   */
  private async appendTogether(
    client: PoolClient,
    batch: readonly PendingAppend[],
    startHead: bigint,
  ): Promise<{ readonly outcomes: AppendOutcome[]; readonly head: bigint } | undefined> {
    const decided = decideAppends(batch, await this.lookup(client, batch), startHead);
    try {
      await this.insert(client, decided.rows);
    } catch (error) {
      if (isConnectionFailure(toPostgresStoreError(error, 'append'))) throw error;
      await client.query('ROLLBACK TO SAVEPOINT together; RELEASE SAVEPOINT together');
      return undefined;
    }
    return decided;
  }

  /** One append inside the group's transaction, holding the append lock: the same lookup, decision and insert as a group of one. */
  private async appendInTransaction(client: PoolClient, item: PendingAppend, head: bigint): Promise<AppendResult> {
    const decided = decideAppends([item], await this.lookup(client, [item]), head);
    const outcome = decided.outcomes[0] as AppendOutcome;
    if (outcome.error !== undefined || outcome.result === undefined) throw outcome.error;
    await this.insert(client, decided.rows);
    return outcome.result;
  }

  /** Each stream's last event and the event ids already stored, for the appends about to be decided. */
  private async lookup(client: PoolClient, appends: readonly PendingAppend[]): Promise<StoredFacts> {
    const streams = [...new Set(appends.map((item) => item.streamName))];
    const ids = appends.flatMap((item) => item.events.map((event) => event.eventId));
    const { rows } = await client.query<LookupRow>({ name: 'mrw-append-lookup', text: this.sql.lookup, values: [streams, ids] });
    const facts: StoredFacts = { heads: new Map(), stored: new Map() };
    for (const row of rows) {
      if (row.kind === 'head') facts.heads.set(row.stream_name, { revision: Number(row.revision), hash: row.hash });
      else facts.stored.set(row.event_id as string, { streamName: row.stream_name, revision: Number(row.revision), position: BigInt(row.position) });
    }
    return facts;
  }

  private async insert(client: PoolClient, rows: InsertRows): Promise<void> {
    if (rows.ids.length === 0) return;
    await client.query({
      name: 'mrw-append-insert',
      text: this.sql.insert,
      values: [rows.streams, rows.positions, rows.revisions, rows.ids, rows.types, rows.data, rows.metadata],
    });
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = limitOf(options.maxCount);
    if (options.fromRevision !== undefined && (!Number.isSafeInteger(options.fromRevision) || options.fromRevision < 0)) {
      throw new RangeError(`readStream: invalid fromRevision ${options.fromRevision}`);
    }
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const rows = await this.query<EventRow>(`read of ${streamName}`, {
      name: backwards ? 'mrw-read-backwards' : 'mrw-read-forwards',
      text: backwards ? this.sql.backwards : this.sql.forwards,
      values: [streamName, from, limit],
    });
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.readRange(options.after ?? 0n, undefined, limitOf(options.maxCount), options.filter);
  }

  async readAt(positions: readonly bigint[]): Promise<RecordedEvent[]> {
    this.assertOpen();
    const wanted = distinctPositions(positions);
    if (wanted.length === 0) return [];
    const rows = await this.query<EventRow>('read of events by position', { name: 'mrw-read-at', text: this.sql.at, values: [wanted.map(String)] });
    return rows.map(toRecordedEvent);
  }

  /** Filtered read of `(after, upTo]` in position order; also what subscriptions read. */
  private async readRange(after: bigint, upTo: bigint | undefined, limit: number | null, filter: EventFilter | undefined): Promise<RecordedEvent[]> {
    const rows = await this.query<EventRow>('read of $all', {
      name: 'mrw-read-all',
      text: this.sql.range,
      values: [after.toString(), upTo?.toString() ?? null, filter?.streamPrefixes ?? null, filter?.eventTypes ?? null, limit],
    });
    return rows.map(toRecordedEvent);
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.head();
  }

  private async head(): Promise<bigint> {
    const rows = await this.query<{ head: string }>('read of the head position', { name: 'mrw-head', text: this.sql.head, values: [] });
    return BigInt((rows[0] as { head: string }).head);
  }

  /**
   * Checkpointed catch-up subscription: reads up to the head, then waits for a notification
   * (no polling). See the class comment for connection loss. Do not await `stop()` or
   * `close()` from inside the handler: they wait for that very handler.
   */
  subscribeToAll(options: SubscriptionOptions): Subscription {
    this.assertOpen();
    for (const existing of this.subscriptions) {
      if (existing.name === options.name) throw new Error(`subscription ${options.name} is already running on this store`);
    }
    const subscription: PostgresSubscription = new PostgresSubscription(
      {
        head: () => this.head(),
        read: (after, upTo, limit, filter) => this.readRange(after, upTo, limit, filter),
        loadCheckpoint: (name) => this.loadCheckpoint(name),
        saveCheckpoint: (name, position) => this.checkpoints.save(name, position),
        flushCheckpoints: () => this.flushCheckpoints(),
        listener: this.listener,
        reconnect: this.reconnect,
        isClosed: () => this.closed,
        finished: (finished) => {
          this.subscriptions.delete(finished);
          this.listener.leave(finished);
        },
      },
      options,
    );
    this.subscriptions.add(subscription);
    this.listener.join(subscription);
    subscription.start();
    return subscription;
  }

  /**
   * Commits the appends already asked for, stops every subscription (waiting for in-flight
   * handlers), writes their checkpoints, then closes the connections. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      while (this.committing !== undefined || this.pending.length > 0) {
        this.startCommit();
        await this.committing;
      }
      await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
      await this.flushCheckpoints();
      await this.listener.close();
      await this.pool.end();
    })();
    return this.closing;
  }

  private async loadCheckpoint(name: string): Promise<bigint | undefined> {
    const unwritten = this.checkpoints.unwritten(name);
    if (unwritten !== undefined) return unwritten;
    const rows = await this.query<{ position: string }>(`checkpoint ${name}`, {
      name: 'mrw-load-checkpoint',
      text: this.sql.loadCheckpoint,
      values: [name],
    });
    return rows[0] === undefined ? undefined : BigInt(rows[0].position);
  }

  private async flushCheckpoints(): Promise<void> {
    try {
      await this.checkpoints.flush();
    } catch (error) {
      // Only costs a redelivery (at-least-once) on the next start.
      log.warn({ err: error }, `event-store: could not write subscription checkpoints (${describeError(error)})`);
    }
  }

  /**
   * A checkpoint lost to a crash only means redelivery, which at-least-once handlers tolerate,
   * so checkpoints are written without waiting for their WAL flush (`synchronous_commit off`
   * for that transaction alone; the next append's commit flushes them anyway), together, at
   * most once per turn of the event loop.
   */
  private async writeCheckpoints(entries: ReadonlyArray<readonly [string, bigint]>): Promise<void> {
    const client = await this.pool.connect().catch((error: unknown) => Promise.reject(toPostgresStoreError(error, 'checkpoint write')));
    try {
      await client.query('BEGIN; SET LOCAL synchronous_commit TO OFF');
      await client.query({
        name: 'mrw-save-checkpoints',
        text: this.sql.saveCheckpoints,
        values: [entries.map(([name]) => name), entries.map(([, position]) => position.toString())],
      });
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw toPostgresStoreError(error, 'checkpoint write');
    }
  }

  /** A query on a pooled connection, its failures as the port's errors. */
  private async query<Row extends object>(operation: string, config: { name: string; text: string; values: unknown[] }): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(config)).rows;
    } catch (error) {
      throw toPostgresStoreError(error, operation);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('PostgresEventStore is closed');
  }
}

/** The notification channel of a schema's appends. */
const channelOf = (schema: string): string => `${schema}_appended`;

/** The store's SQL, its tables qualified with the schema. */
type AppendOutcome = { readonly result?: AppendResult; readonly error?: unknown };

/** What the lookup found: each stream's last event, and the stored events of the ids asked about. */
interface StoredFacts {
  readonly heads: Map<string, { revision: number; hash: string | null }>;
  readonly stored: Map<string, { streamName: string; revision: number; position: bigint }>;
}

/** Columns of the rows to insert, one array each (unnest on the server). */
type InsertRows = Record<'streams' | 'positions' | 'revisions' | 'ids' | 'types' | 'data' | 'metadata', string[]>;

/**
 * The same decisions as the SQLite adapter, in the same order (replay, expected revision,
 * duplicate ids), for appends in queue order: each sees the ones before it (`facts` is updated
 * as it goes). Positions follow `head`. Pure: what to insert and what to answer each caller.
 */
function decideAppends(
  appends: readonly PendingAppend[],
  facts: StoredFacts,
  startHead: bigint,
): { readonly outcomes: AppendOutcome[]; readonly head: bigint; readonly rows: InsertRows } {
  const { heads, stored } = facts;
  let head = startHead;
  const outcomes: AppendOutcome[] = [];
  const rows: InsertRows = { streams: [], positions: [], revisions: [], ids: [], types: [], data: [], metadata: [] };
  for (const { streamName, events, expected } of appends) {
    try {
      const ids = events.map((event) => event.eventId);
      const firstId = ids[0] as string;
      const first = stored.get(firstId);
      if (first !== undefined) {
        // A retried command: the whole batch stored, in order, in this stream, is answered as the first append was.
        if (first.streamName !== streamName) throw new DuplicateEventIdError(firstId, streamName);
        const replayed = ids.every((id, index) => {
          const found = stored.get(id);
          return found !== undefined && found.streamName === streamName && found.revision === first.revision + index;
        });
        if (!replayed) throw new DuplicateEventIdError(firstId, streamName);
        const end = stored.get(ids[ids.length - 1] as string) as { revision: number; position: bigint };
        outcomes.push({ result: { nextExpectedRevision: end.revision, position: end.position, appended: false } });
        continue;
      }
      const last = heads.get(streamName);
      const actual = last === undefined ? 'no_stream' : last.revision;
      if (!expectedRevisionHolds(expected, actual)) throw new WrongExpectedRevisionError(streamName, expected, actual);
      const reused = ids.find((id) => stored.has(id));
      if (reused !== undefined) throw new DuplicateEventIdError(reused, streamName);
      const chained = chainEncodedEvents(last?.hash ?? null, actual === 'no_stream' ? 0 : actual + 1, streamName, events);
      // Parsed back from the stored text, so the caller holds exactly what a read returns; a bulk import's are not worth it.
      const recorded: RecordedEvent[] | undefined = chained.length <= RECORDED_UP_TO ? [] : undefined;
      for (const { revision, eventId, type, data, metadata } of chained) {
        head += 1n;
        rows.streams.push(streamName);
        rows.positions.push(head.toString());
        rows.revisions.push(String(revision));
        rows.ids.push(eventId);
        rows.types.push(type);
        rows.data.push(data);
        rows.metadata.push(metadata);
        stored.set(eventId, { streamName, revision, position: head });
        recorded?.push({ streamName, revision, position: head, type, data: JSON.parse(data) as unknown, metadata: JSON.parse(metadata) as RecordedMetadata });
      }
      const lastEvent = chained[chained.length - 1] as (typeof chained)[number];
      heads.set(streamName, { revision: lastEvent.revision, hash: lastEvent.hash });
      outcomes.push({ result: { nextExpectedRevision: lastEvent.revision, position: head, appended: true, ...(recorded ? { recorded } : {}) } });
    } catch (error) {
      outcomes.push({ error });
    }
  }
  return { outcomes, head, rows };
}

function statements(schema: string) {
  const events = `${escapeIdentifier(schema)}.events`;
  const checkpoints = `${escapeIdentifier(schema)}.checkpoints`;
  const head = `SELECT coalesce(max(position), 0)::text AS head FROM ${events}`;
  return {
    head,
    // Several statements, so no parameters: the lock keys are integers of our own.
    beginAppend: `BEGIN; SELECT pg_advisory_xact_lock(${LOCK_CLASS.append}, ${schemaLockKey(schema)}); ${head}`,
    beginAppendTogether: `BEGIN; SELECT pg_advisory_xact_lock(${LOCK_CLASS.append}, ${schemaLockKey(schema)}); ${head}; SAVEPOINT together`,
    // Each stream's last event (through the (stream_name, revision) index), and the ids already stored.
    lookup: `
      SELECT 'head' AS kind, s.name AS stream_name, last.revision::text, last.position::text, NULL AS event_id, last.metadata->>'hash' AS hash
        FROM unnest($1::text[]) AS s (name)
        CROSS JOIN LATERAL (SELECT revision, position, metadata FROM ${events} WHERE stream_name = s.name ORDER BY revision DESC LIMIT 1) AS last
      UNION ALL
      SELECT 'id', stream_name, revision::text, position::text, event_id, NULL FROM ${events} WHERE event_id = ANY($2::text[])`,
    insert: `
      INSERT INTO ${events} (position, stream_name, revision, event_id, type, data, metadata)
      SELECT p, s, r, i, t, d::json, m::json
        FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS batch (s, p, r, i, t, d, m)`,
    forwards: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE stream_name = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`,
    backwards: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE stream_name = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`,
    // starts_with is case-sensitive and literal (LIKE would need escaping); an empty list matches nothing.
    range: `
      SELECT ${EVENT_COLUMNS} FROM ${events}
       WHERE position > $1::bigint
         AND ($2::bigint IS NULL OR position <= $2::bigint)
         AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS prefix WHERE starts_with(stream_name, prefix)))
         AND ($4::text[] IS NULL OR type = ANY($4::text[]))
       ORDER BY position
       LIMIT $5`,
    at: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE position = ANY($1::bigint[]) ORDER BY position`,
    loadCheckpoint: `SELECT position::text FROM ${checkpoints} WHERE name = $1`,
    saveCheckpoints: `
      INSERT INTO ${checkpoints} (name, position)
      SELECT n, p FROM unnest($1::text[], $2::bigint[]) AS saved (n, p)
      ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  };
}

/** Subscriptions' positions, written together once per turn of the event loop (see writeCheckpoints). */
class CheckpointWriter {
  private readonly toWrite = new Map<string, bigint>();
  private scheduled = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly write: (entries: ReadonlyArray<readonly [string, bigint]>) => Promise<void>,
    private readonly gone: () => boolean,
  ) {}

  save(name: string, position: bigint): void {
    this.toWrite.set(name, position);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush().catch(() => {
        // Unreachable or busy: the positions stay here, for a later try or the final flush of close().
        if (!this.gone()) setTimeout(() => this.schedule(), 1_000).unref();
      });
    });
  }

  /** A position saved but not written yet. */
  unwritten(name: string): bigint | undefined {
    return this.toWrite.get(name);
  }

  /** Writes every saved position; one write at a time. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing.catch(() => undefined);
    if (this.toWrite.size === 0) return;
    const entries = [...this.toWrite];
    this.writing = this.write(entries)
      .then(() => {
        // A subscription that moved on meanwhile keeps its newer position for the next write.
        for (const [name, position] of entries) if (this.toWrite.get(name) === position) this.toWrite.delete(name);
      })
      .finally(() => (this.writing = undefined));
    await this.writing;
  }
}

const isConnectionFailure = (error: unknown): boolean => (error as { transient?: unknown } | null)?.transient === true;

/** A LIMIT parameter: null reads everything. */
function limitOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined) return null;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new RangeError(`invalid maxCount ${maxCount}`);
  return maxCount;
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    streamName: row.stream_name,
    revision: Number(row.revision),
    position: BigInt(row.position),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
