import type Database from 'better-sqlite3';
import { openWorkingDatabase } from '@mrw/platform';

/** Why a delivery exists: an event of the log, a person's redelivery, a replay of history, a test. */
export type DeliveryKind = 'event' | 'redelivery' | 'replay' | 'test';
/** `pending` until delivered (a 2xx) or dead (retried past the maximum age, or refused for good). */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface DeliveryRecord {
  readonly id: string;
  /** The `webhook-id` header: the same on every attempt and redelivery of one message. */
  readonly messageId: string;
  readonly subscription: string;
  readonly kind: DeliveryKind;
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly eventName: string;
  readonly stream: string | null;
  readonly position: string | null;
  readonly body: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: number;
  readonly settledAt: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

/** One try of a delivery: the receiver's status (null: no answer), how long it took, what it said. */
export interface AttemptRecord {
  readonly n: number;
  readonly at: number;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly excerpt: string | null;
  readonly error: string | null;
}

export type NewDelivery = Omit<DeliveryRecord, 'status' | 'attempts' | 'settledAt' | 'lastStatus' | 'lastError'>;

/** A delivery as both books store it (PostgreSQL hands `bigint` columns back as text). */
export interface DeliveryRow {
  id: string;
  message_id: string;
  subscription: string;
  kind: DeliveryKind;
  event_id: string | null;
  event_type: string | null;
  event_name: string;
  stream: string | null;
  position: string | null;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number | string;
  settled_at: number | string | null;
  last_status: number | null;
  last_error: string | null;
}

export const deliveryFromRow = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  messageId: row.message_id,
  subscription: row.subscription,
  kind: row.kind,
  eventId: row.event_id,
  eventType: row.event_type,
  eventName: row.event_name,
  stream: row.stream,
  position: row.position,
  body: row.body,
  status: row.status,
  attempts: row.attempts,
  createdAt: Number(row.created_at),
  settledAt: row.settled_at === null ? null : Number(row.settled_at),
  lastStatus: row.last_status,
  lastError: row.last_error,
});

/** A replay as both books store it. */
export interface ReplayRow {
  id: string;
  subscription: string;
  since: string;
  after: string;
  until: string;
  status: 'running' | 'done';
  delivered: number;
  created_at: number | string;
}

export const replayFromRow = (r: ReplayRow): ReplayRecord => ({
  id: r.id,
  subscription: r.subscription,
  since: r.since,
  after: r.after,
  until: r.until,
  status: r.status,
  delivered: r.delivered,
  createdAt: Number(r.created_at),
});

export interface ReplayRecord {
  readonly id: string;
  readonly subscription: string;
  readonly since: string;
  /** The replay's cursor: the last position it went past. */
  readonly after: string;
  /** The log's head when it was asked for: history up to here is replayed. */
  readonly until: string;
  readonly status: 'running' | 'done';
  readonly delivered: number;
  readonly createdAt: number;
}

/**
 * The webhook deliveries' own state: each subscription's cursor over the log, every delivery
 * with its attempts (the history the API shows), and replays in progress. Nothing is lost to a
 * crash because the cursor never moves past an event before its delivery is settled; the last
 * marks lost only send a delivery once more, with the same `webhook-id`.
 */
export interface DeliveryBook {
  /** Where a subscription's cursor stands: the last position it is done with. */
  cursor(subscription: string): Promise<bigint | undefined>;
  /** Moves a cursor forward (never back). */
  advance(subscription: string, position: bigint): Promise<void>;
  /** Adds a delivery unless one with its id exists; the delivery as stored. */
  enqueue(delivery: NewDelivery): Promise<DeliveryRecord>;
  /**
   * Records an attempt, and settles the delivery when `settle` says how it ended; a settled event
   * delivery moves its subscription's cursor past its position, in the same transaction.
   */
  recordAttempt(delivery: DeliveryRecord, attempt: AttemptRecord, settle?: DeliveryStatus): Promise<DeliveryRecord>;
  get(id: string): Promise<DeliveryRecord | undefined>;
  attemptsOf(id: string): Promise<AttemptRecord[]>;
  /** A subscription's deliveries, newest first, optionally of one status. */
  list(subscription: string, options: { status?: DeliveryStatus; limit: number; offset: number }): Promise<{ total: number; items: DeliveryRecord[] }>;
  /** Records a replay (once: a replay id already recorded is left as it is). */
  addReplay(replay: Omit<ReplayRecord, 'status' | 'delivered'>): Promise<void>;
  /** Moves a replay's cursor, counting what it delivered; done once it reached `until`. */
  advanceReplay(id: string, after: bigint, delivered: number, done: boolean): Promise<void>;
  /** A subscription's replays, oldest first; without one, every replay still running. */
  replays(subscription?: string): Promise<ReplayRecord[]>;
  close(): Promise<void>;
}

export const DELIVERY_BOOK = Symbol('DELIVERY_BOOK');

/**
 * The book in `<dataDir>/webhooks.sqlite`, for a registry that is the only one of its suite
 * (SQLite and EventStoreDB modes). `synchronous = NORMAL`: a power cut may lose the last marks,
 * and then a delivery is sent once more with the same `webhook-id`, which the receiver deduplicates.
 */
export class SqliteDeliveryBook implements DeliveryBook {
  private readonly db: Database.Database;
  private readonly statements: Record<'enqueue' | 'attempt' | 'settle' | 'advance', Database.Statement>;

  constructor(file: string) {
    this.db = openWorkingDatabase(file, 'NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS cursors (subscription TEXT PRIMARY KEY, position TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        subscription TEXT NOT NULL,
        kind TEXT NOT NULL,
        event_id TEXT,
        event_type TEXT,
        event_name TEXT NOT NULL,
        stream TEXT,
        position TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        settled_at INTEGER,
        last_status INTEGER,
        last_error TEXT
      );
      CREATE INDEX IF NOT EXISTS deliveries_by_subscription ON deliveries (subscription, created_at);
      CREATE TABLE IF NOT EXISTS attempts (
        delivery TEXT NOT NULL,
        n INTEGER NOT NULL,
        at INTEGER NOT NULL,
        status INTEGER,
        latency_ms INTEGER NOT NULL,
        excerpt TEXT,
        error TEXT,
        PRIMARY KEY (delivery, n)
      );
      CREATE TABLE IF NOT EXISTS replays (
        id TEXT PRIMARY KEY,
        subscription TEXT NOT NULL,
        since TEXT NOT NULL,
        after TEXT NOT NULL,
        until TEXT NOT NULL,
        status TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );`);
    this.statements = {
      enqueue: this.db.prepare(
        `INSERT OR IGNORE INTO deliveries (id, message_id, subscription, kind, event_id, event_type, event_name, stream, position, body, status, attempts, created_at)
         VALUES (@id, @messageId, @subscription, @kind, @eventId, @eventType, @eventName, @stream, @position, @body, 'pending', 0, @createdAt)`,
      ),
      attempt: this.db.prepare('INSERT OR REPLACE INTO attempts (delivery, n, at, status, latency_ms, excerpt, error) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      settle: this.db.prepare('UPDATE deliveries SET attempts = ?, last_status = ?, last_error = ?, status = ?, settled_at = ? WHERE id = ?'),
      advance: this.db.prepare(
        `INSERT INTO cursors (subscription, position) VALUES (?, ?)
         ON CONFLICT (subscription) DO UPDATE SET position = excluded.position WHERE CAST(excluded.position AS INTEGER) > CAST(cursors.position AS INTEGER)`,
      ),
    };
  }

  async cursor(subscription: string): Promise<bigint | undefined> {
    const row = this.db.prepare('SELECT position FROM cursors WHERE subscription = ?').get(subscription) as { position: string } | undefined;
    return row ? BigInt(row.position) : undefined;
  }

  async advance(subscription: string, position: bigint): Promise<void> {
    this.advanceNow(subscription, position);
  }

  private advanceNow(subscription: string, position: bigint): void {
    this.statements.advance.run(subscription, position.toString());
  }

  async enqueue(delivery: NewDelivery): Promise<DeliveryRecord> {
    const inserted = this.statements.enqueue.run(delivery).changes > 0;
    if (inserted) return { ...delivery, status: 'pending', attempts: 0, settledAt: null, lastStatus: null, lastError: null };
    return (await this.get(delivery.id)) as DeliveryRecord;
  }

  async recordAttempt(delivery: DeliveryRecord, attempt: AttemptRecord, settle: DeliveryStatus = 'pending'): Promise<DeliveryRecord> {
    const settledAt = settle !== 'pending' ? attempt.at : null;
    this.recordTransaction(delivery, attempt, settle, settledAt);
    return { ...delivery, attempts: attempt.n, lastStatus: attempt.status, lastError: attempt.error, status: settle, settledAt };
  }

  private readonly recordTransaction = (delivery: DeliveryRecord, attempt: AttemptRecord, settle: DeliveryStatus, settledAt: number | null): void => {
    this.db.transaction(() => {
      this.statements.attempt.run(delivery.id, attempt.n, attempt.at, attempt.status, Math.round(attempt.latencyMs), attempt.excerpt, attempt.error);
      this.statements.settle.run(attempt.n, attempt.status, attempt.error, settle, settledAt, delivery.id);
      if (settle !== 'pending' && delivery.kind === 'event' && delivery.position !== null) this.advanceNow(delivery.subscription, BigInt(delivery.position));
    })();
  };

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? deliveryFromRow(row) : undefined;
  }

  async attemptsOf(id: string): Promise<AttemptRecord[]> {
    const rows = this.db.prepare('SELECT n, at, status, latency_ms, excerpt, error FROM attempts WHERE delivery = ? ORDER BY n').all(id) as Array<{
      n: number;
      at: number;
      status: number | null;
      latency_ms: number;
      excerpt: string | null;
      error: string | null;
    }>;
    return rows.map((r) => ({ n: r.n, at: r.at, status: r.status, latencyMs: r.latency_ms, excerpt: r.excerpt, error: r.error }));
  }

  async list(subscription: string, options: { status?: DeliveryStatus; limit: number; offset: number }): Promise<{ total: number; items: DeliveryRecord[] }> {
    const where = options.status ? 'subscription = ? AND status = ?' : 'subscription = ?';
    const args: unknown[] = options.status ? [subscription, options.status] : [subscription];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE ${where}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM deliveries WHERE ${where} ORDER BY created_at DESC, rowid DESC LIMIT +? OFFSET +?`)
      .all(...args, options.limit, options.offset) as DeliveryRow[];
    return { total, items: rows.map(deliveryFromRow) };
  }

  async addReplay(replay: Omit<ReplayRecord, 'status' | 'delivered'>): Promise<void> {
    this.db
      .prepare(`INSERT OR IGNORE INTO replays (id, subscription, since, after, until, status, delivered, created_at) VALUES (?, ?, ?, ?, ?, 'running', 0, ?)`)
      .run(replay.id, replay.subscription, replay.since, replay.after, replay.until, replay.createdAt);
  }

  async advanceReplay(id: string, after: bigint, delivered: number, done: boolean): Promise<void> {
    this.db.prepare('UPDATE replays SET after = ?, delivered = delivered + ?, status = ? WHERE id = ?').run(after.toString(), delivered, done ? 'done' : 'running', id);
  }

  async replays(subscription?: string): Promise<ReplayRecord[]> {
    const rows = (subscription
      ? this.db.prepare('SELECT * FROM replays WHERE subscription = ? ORDER BY created_at').all(subscription)
      : this.db.prepare(`SELECT * FROM replays WHERE status = 'running' ORDER BY created_at`).all()) as ReplayRow[];
    return rows.map(replayFromRow);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
