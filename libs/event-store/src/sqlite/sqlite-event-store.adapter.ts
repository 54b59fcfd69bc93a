import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuplicateEventIdError,
  isTransientStoreError,
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
  type SubscriptionStatus,
} from '../event-store.port';
import { encodeAppend, type EncodedEvent } from '../encode-append';
import { expectedRevisionHolds, validateAppend } from '../append-rules';
import { distinctPositions } from '../read-positions';
import { chainEncodedEvents, type ChainedRow } from '../hash-chain';
import { backoffDelayMs, sleepUnless } from '../backoff';
import { CaughtUpWaiters, reportSubscriptionFailure, validateSubscriptionOptions } from '../subscription-support';

export interface SqliteEventStoreOptions {
  /** Database file path, or `:memory:` (no WAL, nothing survives `close()`). */
  readonly file: string;
  /**
   * SQLite `synchronous` pragma. Defaults to `FULL`: in WAL mode every commit fsyncs the
   * WAL, so an acknowledged append survives power loss and OS crashes. `NORMAL` syncs only
   * at WAL checkpoints: still safe against a process crash, but the last commits can be
   * lost on power loss. Raw better-sqlite3 on our machines: ~4.9k single-insert tx/s with
   * `FULL`, ~38k with `NORMAL` (DESIGN §10); the README has this adapter's figures. The log is
   * the audit trail and the outbox, so `FULL` is the default. Checkpoint writes never fsync
   * on their own (see `saveCheckpoint`).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How often subscriptions look for appends made by other processes (ms, default 250). */
  readonly pollIntervalMs?: number;
  /**
   * How long a writer waits for another process's write lock before failing with SQLITE_BUSY
   * (ms, default 1000). The wait blocks the process's event loop, so it is kept short: callers
   * treat SQLITE_BUSY as transient and retry with backoff, for as long as the lock lasts.
   */
  readonly busyTimeoutMs?: number;
}

/**
 * A stored event as read: its columns in `EVENT_COLUMNS` order. Reads take rows as arrays
 * (better-sqlite3's raw mode), not objects keyed by column: a quarter less per event read.
 */
type EventRow = [position: bigint, streamName: string, revision: bigint, type: string, data: string, metadata: string];

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_name TEXT    NOT NULL,
  revision    INTEGER NOT NULL CHECK (revision >= 0),
  event_id    TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL CHECK (json_valid(data)),
  metadata    TEXT    NOT NULL CHECK (json_valid(metadata)),
  UNIQUE (stream_name, revision)
) STRICT;
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL
) STRICT;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
`;

const EVENT_COLUMNS = 'position, stream_name, revision, type, data, metadata';

// Limits are written `LIMIT +?`, not `LIMIT ?`. SQLite (3.4x, built with STAT4 as better-sqlite3
// is) plans a bare `LIMIT ?` with the value bound at the time and marks the statement to be
// prepared again whenever that binding is set, which better-sqlite3 does on every run: a read
// of a stream's new events (usually none) cost 6.9 µs instead of 2.1 µs. `+?` is an expression,
// not a parameter, so the plan does not depend on its value.

/** The embedded event store: one SQLite file in WAL mode, shared safely by several processes. */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private readonly subscriptions = new Set<SqliteSubscription>();
  private readonly filteredReads = new Map<string, Database.Statement<unknown[], EventRow>>();
  private closed = false;
  /**
   * The highest position known to be committed: this instance's last commit, or the head last
   * read from the database. Subscriptions woken by a commit here read up to it without asking
   * the database (any other process's events below it are committed too: one writer at a time).
   */
  private knownHead = 0n;
  /** The events this instance committed lately, by position (see readRecent). */
  private readonly recent = new Map<bigint, RecordedEvent>();
  /**
   * The positions in `recent` in the order they came, in a ring of `RECENT_EVENTS` slots: the
   * slot at `recentNext` holds the oldest, the one the next event evicts. Not the Map's own
   * order: iterating a Map from its start walks every entry deleted since it was last rehashed,
   * which cost each commit a tenth of a single append's time.
   */
  private readonly recentRing = new Array<bigint | undefined>(RECENT_EVENTS);
  private recentNext = 0;
  /** Subscriptions' positions not written yet (see saveCheckpoint). */
  private readonly checkpointsToSave = new Map<string, bigint>();
  /** Appends waiting for the next group commit (see commitPending). */
  private readonly pending: Array<{
    readonly streamName: string;
    /** Encoded before the append waits for the commit: the commit only chains and writes. */
    readonly events: readonly EncodedEvent[];
    readonly expected: ExpectedRevision;
    readonly resolve: (result: AppendResult) => void;
    readonly reject: (error: unknown) => void;
  }> = [];

  /** One append inside a group commit: a savepoint of its own (better-sqlite3 nests transactions so). */
  private readonly append: Database.Transaction<
    (streamName: string, events: readonly EncodedEvent[], expected: ExpectedRevision) => AppendResult
  >;
  /** One append that is a whole commit by itself. */
  private readonly appendAlone: Database.Transaction<
    (streamName: string, events: readonly EncodedEvent[], expected: ExpectedRevision) => AppendResult
  >;
  private readonly statements: {
    readonly streamHead: Database.Statement<[string], { revision: bigint; hash: string }>;
    readonly eventById: Database.Statement<[string], { stream_name: string; revision: bigint }>;
    readonly streamSlice: Database.Statement<[string, number, number], { position: bigint; revision: bigint; event_id: string }>;
    readonly insert: Database.Statement<[string, number, string, string, string, string]>;
    readonly insertMany: Database.Statement<Array<string | number>>;
    readonly forwards: Database.Statement<[string, number, number], EventRow>;
    readonly backwards: Database.Statement<[string, number, number], EventRow>;
    readonly at: Database.Statement<[string], EventRow>;
    readonly head: Database.Statement<[], bigint>;
    readonly loadCheckpoint: Database.Statement<[string], bigint>;
    readonly saveCheckpoint: Database.Statement<[string, bigint]>;
  };

  constructor(options: SqliteEventStoreOptions) {
    const synchronous = (this.synchronous = options.synchronous ?? 'FULL');
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new RangeError(`SqliteEventStore: synchronous must be FULL or NORMAL, got ${String(synchronous)}`);
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    if (!(this.pollIntervalMs > 0)) {
      throw new RangeError(`SqliteEventStore: pollIntervalMs must be positive, got ${this.pollIntervalMs}`);
    }
    const inMemory = options.file === ':memory:';
    if (!inMemory) mkdirSync(dirname(options.file), { recursive: true });
    this.db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 1000 });
    try {
      this.db.defaultSafeIntegers(true);
      const journalMode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (!inMemory && journalMode !== 'wal') {
        throw new Error(`SqliteEventStore: could not enable WAL on ${options.file} (journal_mode=${String(journalMode)})`);
      }
      this.db.pragma(`synchronous = ${synchronous}`);
      this.migrate();
      // IMMEDIATE (see appendToStream) takes the write lock before the reads, so no other
      // process can append between the revision check and the insert.
      this.append = this.db.transaction((streamName: string, events: readonly EncodedEvent[], expected: ExpectedRevision) =>
        this.appendInTransaction(streamName, events, expected),
      );
      this.appendAlone = this.db.transaction((streamName: string, events: readonly EncodedEvent[], expected: ExpectedRevision) =>
        this.appendInTransaction(streamName, events, expected),
      );
      this.statements = {
        streamHead: this.db.prepare(
          `SELECT revision, json_extract(metadata, '$.hash') AS hash FROM events
           WHERE stream_name = ? ORDER BY revision DESC LIMIT 1`,
        ),
        eventById: this.db.prepare('SELECT stream_name, revision FROM events WHERE event_id = ?'),
        streamSlice: this.db.prepare(
          `SELECT position, revision, event_id FROM events
           WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT +?`,
        ),
        insert: this.db.prepare(
          `INSERT INTO events (stream_name, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)`,
        ),
        insertMany: this.db.prepare(
          `INSERT INTO events (stream_name, revision, event_id, type, data, metadata) VALUES ${Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        ),
        forwards: this.db
          .prepare<[string, number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision ASC LIMIT +?`)
          .raw(true),
        backwards: this.db
          .prepare<[string, number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision <= ? ORDER BY revision DESC LIMIT +?`)
          .raw(true),
        // The positions come as a JSON array of decimal strings: integers of any size, one parameter.
        at: this.db
          .prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) ORDER BY position`)
          .raw(true),
        head: this.db.prepare<[], bigint>('SELECT coalesce(max(position), 0) FROM events').pluck(),
        loadCheckpoint: this.db.prepare<[string], bigint>('SELECT position FROM checkpoints WHERE name = ?').pluck(),
        saveCheckpoint: this.db.prepare(
          `INSERT INTO checkpoints (name, position) VALUES (?, ?)
           ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
        ),
      };
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Opens (creating if needed) a store; the async form suits Nest factory providers. */
  static async open(options: SqliteEventStoreOptions): Promise<SqliteEventStore> {
    return new SqliteEventStore(options);
  }

  private migrate(): void {
    const version = Number(this.db.pragma('user_version', { simple: true }));
    if (version > SCHEMA_VERSION) {
      throw new Error(`SqliteEventStore: database schema version ${version} is newer than this code (${SCHEMA_VERSION})`);
    }
    this.db.transaction(() => {
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  }

  /** The `journal_mode` and `synchronous` pragmas in force, for health checks and tests. */
  pragmas(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    this.assertOpen();
    const journalMode = String(this.db.pragma('journal_mode', { simple: true }));
    const level = Number(this.db.pragma('synchronous', { simple: true }));
    const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
    const synchronous = names[level];
    if (synchronous === undefined) throw new Error(`unexpected synchronous level ${level}`);
    return { journalMode, synchronous };
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
      if (this.pending.length === 1) setImmediate(() => this.commitPending());
    });
  }

  /**
   * Group commit: the appends asked for during one turn of the event loop are written in one
   * IMMEDIATE transaction, so they share one commit and its fsync. Each append is a savepoint
   * of its own (better-sqlite3 nests transactions that way): one whose expected revision no
   * longer holds is rolled back and refused alone, and a later append in the batch sees the
   * earlier ones, exactly as if they had been committed one by one in order. Every caller is
   * answered only after the commit, so an acknowledged append is as durable as before.
   */
  private commitPending(): void {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    if (this.closed) {
      for (const item of batch) item.reject(new Error('SqliteEventStore is closed'));
      return;
    }
    const outcomes: Array<{ readonly result?: AppendResult; readonly error?: unknown }> = [];
    try {
      if (batch.length === 1) {
        // Alone in its commit: no other append to shield from its failure, so no savepoint.
        const [item] = batch as [(typeof batch)[number]];
        try {
          outcomes.push({ result: this.appendAlone.immediate(item.streamName, item.events, item.expected) });
        } catch (error) {
          // Refused or failed, nothing of it was committed: its caller hears why.
          outcomes.push({ error });
        }
      } else {
        this.db
          .transaction(() => {
            outcomes.length = 0;
            for (const item of batch) {
              try {
                outcomes.push({ result: this.append(item.streamName, item.events, item.expected) });
              } catch (error) {
                outcomes.push({ error });
              }
            }
          })
          .immediate();
      }
    } catch (error) {
      // The commit itself failed (the database busy past its timeout, an I/O error): nothing of
      // the batch is stored, and every caller hears why.
      for (const item of batch) item.reject(error);
      return;
    }
    if (outcomes.some((o) => o.result?.appended)) {
      for (const outcome of outcomes) {
        if (outcome.result?.appended && outcome.result.position > this.knownHead) this.knownHead = outcome.result.position;
        for (const event of outcome.result?.recorded ?? []) this.remember(event);
      }
      for (const subscription of this.subscriptions) subscription.wake();
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.result) item.resolve(outcome.result);
      else item.reject(outcome.error);
    });
  }

  /** Keeps an event this instance committed for its subscriptions, evicting the oldest kept beyond `RECENT_EVENTS`. */
  private remember(event: RecordedEvent): void {
    const evicted = this.recentRing[this.recentNext];
    if (evicted !== undefined) this.recent.delete(evicted);
    this.recentRing[this.recentNext] = event.position;
    this.recentNext = (this.recentNext + 1) % RECENT_EVENTS;
    this.recent.set(event.position, event);
  }

  private appendInTransaction(
    streamName: string,
    events: readonly EncodedEvent[],
    expectedRevision: ExpectedRevision,
  ): AppendResult {
    // A retried command carries the same event ids. That is looked for only where the append
    // would fail (the expected revision no longer holds, or the first id is taken), so an append
    // of new events pays no lookup for it.
    const replayOf = (): AppendResult | undefined => this.findReplay(streamName, events.map((event) => event.eventId));
    const head = this.statements.streamHead.get(streamName);
    const actual = head === undefined ? 'no_stream' : Number(head.revision);
    if (!expectedRevisionHolds(expectedRevision, actual)) {
      const replay = replayOf();
      if (replay) return replay;
      throw new WrongExpectedRevisionError(streamName, expectedRevision, actual);
    }

    const chained = chainEncodedEvents(head?.hash ?? null, actual === 'no_stream' ? 0 : actual + 1, streamName, events);
    let position: bigint;
    try {
      position = this.insert(streamName, chained);
    } catch (error) {
      // The first id taken means nothing of this append went in (its statement took its rows back): it may be a replay.
      const replay = error instanceof DuplicateEventIdError && error.eventId === events[0]?.eventId ? replayOf() : undefined;
      if (replay) return replay;
      throw error;
    }
    // A command's few events are handed back (and kept for subscriptions), parsed back from what
    // was stored so the caller holds what a read would return; a bulk import's are not worth it.
    // One writer at a time: an append's events take consecutive positions.
    const first = position - BigInt(chained.length - 1);
    const recorded =
      chained.length <= RECORDED_UP_TO
        ? chained.map(({ revision, type, data, metadata }, index) =>
            toRecordedEvent([first + BigInt(index), streamName, BigInt(revision), type, data, metadata]),
          )
        : undefined;
    const last = chained[chained.length - 1] as (typeof chained)[number];
    return { nextExpectedRevision: last.revision, position, appended: true, ...(recorded ? { recorded } : {}) };
  }

  /**
   * Inserts an append's events and answers the last one's position: `ROWS_PER_INSERT` rows per
   * statement while there are that many, then one by one. An id stored before fails the
   * event-id index: that is the duplicate check (no lookup per event). The failed statement
   * takes back its own rows and the enclosing transaction or savepoint the earlier ones.
   */
  private insert(streamName: string, rows: readonly ChainedRow[]): bigint {
    let position = 0n;
    let at = 0;
    try {
      for (; at + ROWS_PER_INSERT <= rows.length; at += ROWS_PER_INSERT) {
        const values: Array<string | number> = [];
        for (let k = at; k < at + ROWS_PER_INSERT; k += 1) {
          const row = rows[k] as ChainedRow;
          values.push(streamName, row.revision, row.eventId, row.type, row.data, row.metadata);
        }
        position = BigInt(this.statements.insertMany.run(...values).lastInsertRowid);
      }
      for (; at < rows.length; at += 1) {
        const row = rows[at] as ChainedRow;
        position = BigInt(this.statements.insert.run(streamName, row.revision, row.eventId, row.type, row.data, row.metadata).lastInsertRowid);
      }
      return position;
    } catch (error) {
      // By its code, not `instanceof SqliteError`: the native module keeps the class it was first
      // loaded with, which a second copy of better-sqlite3's JavaScript (a test runner's module
      // registry) does not share.
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes('events.event_id')) {
        // Which of the failed statement's ids was taken: its own rows are gone again, the earlier ones are this append's.
        const failed = rows.slice(at, rows.length - at >= ROWS_PER_INSERT ? at + ROWS_PER_INSERT : at + 1);
        const taken = failed.find((row) => this.statements.eventById.get(row.eventId) !== undefined) ?? (failed[0] as ChainedRow);
        throw new DuplicateEventIdError(taken.eventId, streamName);
      }
      throw error;
    }
  }

  /**
   * A retried command carries the same event ids: when the batch is already stored, in
   * order, in this stream, answer what the first append answered instead of failing on a
   * revision the first append itself moved on.
   */
  private findReplay(streamName: string, ids: readonly string[]): AppendResult | undefined {
    const firstId = ids[0] as string;
    const first = this.statements.eventById.get(firstId);
    if (first === undefined) return undefined;
    if (first.stream_name !== streamName) throw new DuplicateEventIdError(firstId, streamName);
    const stored = this.statements.streamSlice.all(streamName, Number(first.revision), ids.length);
    const matches = stored.length === ids.length && stored.every((row, index) => row.event_id === ids[index]);
    if (!matches) throw new DuplicateEventIdError(firstId, streamName);
    const last = stored[stored.length - 1] as (typeof stored)[number];
    return { nextExpectedRevision: Number(last.revision), position: last.position, appended: false };
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = limitOf(options.maxCount);
    if (options.fromRevision !== undefined && (!Number.isSafeInteger(options.fromRevision) || options.fromRevision < 0)) {
      throw new RangeError(`readStream: invalid fromRevision ${options.fromRevision}`);
    }
    const rows =
      options.direction === 'backwards'
        ? this.statements.backwards.all(streamName, options.fromRevision ?? Number.MAX_SAFE_INTEGER, limit)
        : this.statements.forwards.all(streamName, options.fromRevision ?? 0, limit);
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
    return this.statements.at.all(JSON.stringify(wanted.map(String))).map(toRecordedEvent);
  }

  /**
   * `(after, upTo]` from the events this instance committed lately, when every position of the
   * range is among them; undefined when one is not (appended by another process, or long ago),
   * and the caller reads the database. Every subscription of the process reads what was just
   * appended without a query or a JSON parse.
   */
  private readRecent(after: bigint, upTo: bigint, limit: number, filter: EventFilter | undefined): RecordedEvent[] | undefined {
    const found: RecordedEvent[] = [];
    for (let position = after + 1n; position <= upTo && found.length < limit; position += 1n) {
      const event = this.recent.get(position);
      if (event === undefined) return undefined;
      if (matchesFilter(event, filter)) found.push(event);
    }
    return found;
  }

  /** Filtered read of `(after, upTo]` in position order; also what subscriptions read. */
  private readRange(after: bigint, upTo: bigint | undefined, limit: number, filter: EventFilter | undefined): RecordedEvent[] {
    const clauses = ['position > ?'];
    const params: unknown[] = [after];
    if (upTo !== undefined) {
      clauses.push('position <= ?');
      params.push(upTo);
    }
    if (filter?.streamPrefixes !== undefined) {
      // substr/length count characters on both sides; LIKE would be case-insensitive and need escaping.
      clauses.push(`(${filter.streamPrefixes.map(() => 'substr(stream_name, 1, length(?)) = ?').join(' OR ') || 'FALSE'})`);
      for (const prefix of filter.streamPrefixes) params.push(prefix, prefix);
    }
    if (filter?.eventTypes !== undefined) {
      clauses.push(`type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
      params.push(...filter.eventTypes);
    }
    params.push(limit);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${clauses.join(' AND ')} ORDER BY position LIMIT +?`;
    let statement = this.filteredReads.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare<unknown[], EventRow>(sql).raw(true);
      this.filteredReads.set(sql, statement);
    }
    return statement.all(...params).map(toRecordedEvent);
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.head();
  }

  private head(): bigint {
    const head = this.statements.head.get() ?? 0n;
    if (head > this.knownHead) this.knownHead = head;
    return head;
  }

  /**
   * Checkpointed catch-up subscription. Wakes at once on appends through this instance and
   * polls every `pollIntervalMs` for appends by other processes. Do not await `stop()` or
   * `close()` from inside the handler: they wait for that very handler.
   */
  subscribeToAll(options: SubscriptionOptions): Subscription {
    this.assertOpen();
    for (const existing of this.subscriptions) {
      if (existing.name === options.name) {
        throw new Error(`subscription ${options.name} is already running on this store`);
      }
    }
    const subscription: SqliteSubscription = new SqliteSubscription(
      {
        head: () => this.head(),
        knownHead: () => this.knownHead,
        read: (after, upTo, limit, filter) => this.readRecent(after, upTo, limit, filter) ?? this.readRange(after, upTo, limit, filter),
        loadCheckpoint: (name) => this.checkpointsToSave.get(name) ?? this.statements.loadCheckpoint.get(name),
        saveCheckpoint: (name, position) => this.saveCheckpoint(name, position),
        isClosed: () => this.closed,
        finished: (finished) => this.subscriptions.delete(finished),
      },
      options,
      this.pollIntervalMs,
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  /** Stops every subscription (waiting for in-flight handlers), then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Appends asked for before closing are committed, not dropped.
    this.commitPending();
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.writeCheckpoints();
    this.db.close();
  }

  /**
   * A checkpoint lost to a power cut or a kill only means re-delivery, which at-least-once
   * handlers already tolerate. So checkpoints are kept in memory as subscriptions advance and
   * written together once per turn of the event loop, in one transaction without the fsync
   * that FULL would cost (the next appended event's FULL commit syncs them anyway): one write
   * for every subscription's progress instead of one per handled event per subscription.
   */
  private saveCheckpoint(name: string, position: bigint): void {
    const first = this.checkpointsToSave.size === 0;
    this.checkpointsToSave.set(name, position);
    if (first) setImmediate(() => this.writeCheckpoints());
  }

  private writeCheckpoints(): void {
    if (this.checkpointsToSave.size === 0 || !this.db.open) return;
    const entries = [...this.checkpointsToSave];
    const write = this.db.transaction(() => {
      for (const [name, position] of entries) this.statements.saveCheckpoint.run(name, position);
    });
    try {
      if (this.synchronous === 'NORMAL') write();
      else {
        this.db.pragma('synchronous = NORMAL');
        try {
          write();
        } finally {
          this.db.pragma('synchronous = FULL');
        }
      }
    } catch {
      // Busy or failing I/O: the positions stay in memory and are written on a later try.
      if (!this.closed) setTimeout(() => this.writeCheckpoints(), 100).unref();
      return;
    }
    // A subscription that moved on meanwhile keeps its newer position for the next write.
    for (const [name, position] of entries) if (this.checkpointsToSave.get(name) === position) this.checkpointsToSave.delete(name);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteEventStore is closed');
  }
}

/** Appends of at most this many events hand them back as recorded (see AppendResult.recorded). */
const RECORDED_UP_TO = 16;

/**
 * Rows per INSERT statement for an append of many events: one statement for ten rows costs about
 * a quarter less per row than ten statements (batches of 100: 145k -> 188k rows/s bare).
 */
const ROWS_PER_INSERT = 10;

/** How many of its latest appended events a store keeps in memory for its subscriptions. */
const RECENT_EVENTS = 10_000;

/** The same test the SQL filter of readRange applies: a stream prefix (case-sensitive) and an event type. */
const matchesFilter = (event: RecordedEvent, filter: EventFilter | undefined): boolean =>
  (filter?.streamPrefixes === undefined || filter.streamPrefixes.some((prefix) => event.streamName.startsWith(prefix))) &&
  (filter?.eventTypes === undefined || filter.eventTypes.includes(event.type));

function limitOf(maxCount: number | undefined): number {
  if (maxCount === undefined) return -1; // SQLite: a negative LIMIT means no limit
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new RangeError(`invalid maxCount ${maxCount}`);
  return maxCount;
}

function toRecordedEvent([position, streamName, revision, type, data, metadata]: EventRow): RecordedEvent {
  return {
    streamName,
    revision: Number(revision),
    position,
    type,
    data: JSON.parse(data) as unknown,
    metadata: JSON.parse(metadata) as RecordedMetadata,
  };
}

/** What a subscription needs from its store; kept off the store's public API. */
interface SubscriptionSource {
  head(): bigint;
  /** A committed position without a query: what this process committed or read last (see SqliteEventStore.knownHead). */
  knownHead(): bigint;
  read(after: bigint, upTo: bigint, limit: number, filter: EventFilter | undefined): RecordedEvent[];
  loadCheckpoint(name: string): bigint | undefined;
  saveCheckpoint(name: string, position: bigint): void;
  isClosed(): boolean;
  finished(subscription: SqliteSubscription): void;
}

/** How a subscription waits out a busy or locked database: 100 ms doubling to 5 s. */
const STORE_RETRY = { initialDelayMs: 100, maxDelayMs: 5_000 };

class SqliteSubscription implements Subscription {
  readonly name: string;
  private position: bigint | undefined;
  private stopping = false;
  private failure: unknown = undefined;
  private finished = false;
  /** Whether a scan has reached the head of the log once: from then on it only follows new appends. */
  private live = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly waiters = new CaughtUpWaiters();
  private stopSignal: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.stopSignal = resolve));
  /** Ends the subscription's wait: `ask`, to ask the database for its head (another process may have appended). */
  private wakeUp: ((ask: boolean) => void) | undefined;
  /** The store refused this many reads or checkpoint writes in a row (busy, locked, I/O): waiting it out. */
  private storeFailures = 0;
  private storeFailure: unknown;

  constructor(
    private readonly store: SubscriptionSource,
    private readonly options: SubscriptionOptions,
    private readonly pollIntervalMs: number,
  ) {
    this.name = options.name;
    validateSubscriptionOptions(options);
    this.position = options.startAfter ?? store.loadCheckpoint(options.name);
  }

  get checkpoint(): bigint | undefined {
    return this.position;
  }

  /** A local file has no connection to lose: catching-up, then live, until it stops or fails. */
  status(): SubscriptionStatus {
    if (this.failure !== undefined) {
      const failure = this.failure;
      return { state: 'failed', detail: failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure) };
    }
    if (this.stopping || this.finished) return { state: 'stopped' };
    if (this.storeFailures > 0) {
      const failure = this.storeFailure;
      return { state: 'reconnecting', attempts: this.storeFailures, detail: failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure) };
    }
    return { state: this.live ? 'live' : 'catching-up' };
  }

  start(): void {
    // Deferred so no handler runs before subscribeToAll has returned the subscription.
    this.loop = Promise.resolve()
      .then(() => this.run())
      .finally(() => {
        this.finished = true;
        this.store.finished(this);
        const reason = this.failure ?? new Error(`subscription ${this.name} stopped before catching up`);
        this.waiters.rejectAll(reason);
      });
  }

  caughtUp(upTo?: bigint): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const target = upTo ?? (this.store.isClosed() ? 0n : this.store.head());
    if ((this.position ?? 0n) >= target) return Promise.resolve();
    if (this.finished || this.stopping) {
      return Promise.reject(new Error(`subscription ${this.name} is stopped`));
    }
    const reached = this.waiters.wait(target);
    // A target beyond what this process committed was appended by another one: read it now
    // rather than at the next poll (a reader beside the suite checks tokens this way per request).
    this.wakeUp?.(true);
    return reached;
  }

  wake(): void {
    this.wakeUp?.(false);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal();
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    // The database is asked for its head when the subscription starts and each time the poll
    // timer fires (another process may have appended); woken by a commit of this process, it
    // reads up to that commit without a query.
    let ask = true;
    try {
      while (!this.stopping) {
        const after = this.position ?? 0n;
        // SQLite has one writer at a time and positions grow with each commit, so once
        // `head` is visible every position up to it is too: a scan up to `head` that
        // returned less than a full batch has seen everything, filtered-out events included.
        const head = ask ? this.store.head() : this.store.knownHead();
        ask = false;
        if (head <= after) {
          this.live = true;
          ask = await this.idle();
          continue;
        }
        const events = this.store.read(after, head, batchSize, this.options.filter);
        const { handler, handleBatch } = this.options;
        if (handleBatch && events.length > 0) {
          if (this.stopping) return;
          try {
            await handleBatch(events);
          } catch (error) {
            this.fail(error);
            return;
          }
          this.advance((events[events.length - 1] as RecordedEvent).position);
        }
        for (const event of events) {
          if (!handler || this.stopping) break;
          try {
            await handler(event);
          } catch (error) {
            this.fail(error);
            return;
          }
          this.advance(event.position);
        }
        if (this.stopping) return;
        if (events.length < batchSize && !this.stopping) {
          this.advance(head);
          this.live = true;
        }
      }
    } catch (error) {
      // The database is busy, locked by another process or failing I/O: wait it out and go on
      // from the position in memory (handlers never see an event twice for it); anything else
      // about the database is as fatal as a handler error.
      if (!isTransientStoreError(error) || this.stopping) {
        this.fail(error);
        return;
      }
      this.storeFailures += 1;
      this.storeFailure = error;
      await sleepUnless(backoffDelayMs(this.storeFailures, STORE_RETRY), this.stopped);
      return this.run();
    }
  }

  private advance(position: bigint): void {
    if (this.position !== undefined && position <= this.position) return;
    this.position = position;
    this.waiters.reached(position);
    // With `startAfter` the consumer keeps its own checkpoint; the store keeps none. The
    // position moves in memory first: if the write fails (the store is busy), the loop waits
    // and writes a later one, and no handled event is delivered again meanwhile.
    if (this.options.startAfter === undefined) this.store.saveCheckpoint(this.name, position);
    this.storeFailures = 0;
  }

  private fail(error: unknown): void {
    this.failure = error ?? new Error(`subscription ${this.name}: handler threw ${String(error)}`);
    this.stopping = true;
    reportSubscriptionFailure(this.options, error);
  }

  /**
   * Waits for a commit of this process (false), or the poll timer or a caller waiting for a
   * position beyond it (true: time to ask the database).
   */
  private idle(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (polled: boolean): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(polled);
      };
      const timer = setTimeout(() => done(true), this.pollIntervalMs);
      this.wakeUp = done;
    });
  }
}
