import { escapeIdentifier, type Pool, type PoolClient } from 'pg';
import { inTransaction, openPostgresWorkingTables } from '@mrw/platform';
import { deliveryFromRow, type AttemptRecord, type DeliveryBook, type DeliveryRecord, type DeliveryRow, type DeliveryStatus, type NewDelivery, type ReplayRecord, replayFromRow, type ReplayRow } from './delivery-book';

/** Advisory-lock class of this book's table creation ('mrw' 4; the event store and the lease take 1–3). */
const SETUP_LOCK_CLASS = 0x6d727704;

/**
 * The book in the event store's PostgreSQL schema (`webhook_*` tables), shared by every
 * registry replica: whichever leads delivers from the cursors the previous leader left, and
 * every replica answers the same delivery history. The tables are created at open (if
 * missing), under an advisory lock so replicas starting together do not race.
 */
export class PostgresDeliveryBook implements DeliveryBook {
  private constructor(
    private readonly pool: Pool,
    private readonly t: Record<'cursors' | 'deliveries' | 'attempts' | 'replays', string>,
  ) {}

  static async open(options: { readonly connectionString: string; readonly schema: string; readonly poolSize?: number }): Promise<PostgresDeliveryBook> {
    const q = escapeIdentifier(options.schema);
    const tables = { cursors: `${q}.webhook_cursors`, deliveries: `${q}.webhook_deliveries`, attempts: `${q}.webhook_attempts`, replays: `${q}.webhook_replays` };
    const pool = await openPostgresWorkingTables({
      connectionString: options.connectionString,
      schema: options.schema,
      applicationName: 'mrw-webhooks',
      lockClass: SETUP_LOCK_CLASS,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      ddl: () => `
          CREATE TABLE IF NOT EXISTS ${tables.cursors} (subscription text PRIMARY KEY, position bigint NOT NULL);
          CREATE TABLE IF NOT EXISTS ${tables.deliveries} (
            seq bigserial UNIQUE,
            id text PRIMARY KEY,
            message_id text NOT NULL,
            subscription text NOT NULL,
            kind text NOT NULL,
            event_id text,
            event_type text,
            event_name text NOT NULL,
            stream text,
            position text,
            body text NOT NULL,
            status text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            settled_at bigint,
            last_status integer,
            last_error text
          );
          CREATE INDEX IF NOT EXISTS webhook_deliveries_by_subscription ON ${tables.deliveries} (subscription, created_at);
          CREATE TABLE IF NOT EXISTS ${tables.attempts} (
            delivery text NOT NULL,
            n integer NOT NULL,
            at bigint NOT NULL,
            status integer,
            latency_ms integer NOT NULL,
            excerpt text,
            error text,
            PRIMARY KEY (delivery, n)
          );
          CREATE TABLE IF NOT EXISTS ${tables.replays} (
            id text PRIMARY KEY,
            subscription text NOT NULL,
            since text NOT NULL,
            after text NOT NULL,
            until text NOT NULL,
            status text NOT NULL,
            delivered integer NOT NULL DEFAULT 0,
            created_at bigint NOT NULL
          );`,
    });
    return new PostgresDeliveryBook(pool, tables);
  }

  async cursor(subscription: string): Promise<bigint | undefined> {
    const { rows } = await this.pool.query<{ position: string }>(`SELECT position::text FROM ${this.t.cursors} WHERE subscription = $1`, [subscription]);
    return rows[0] ? BigInt(rows[0].position) : undefined;
  }

  async advance(subscription: string, position: bigint): Promise<void> {
    await advanceWith(this.pool, this.t.cursors, subscription, position);
  }

  async enqueue(delivery: NewDelivery): Promise<DeliveryRecord> {
    const inserted = await this.pool.query(
      `INSERT INTO ${this.t.deliveries} (id, message_id, subscription, kind, event_id, event_type, event_name, stream, position, body, status, attempts, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11)
       ON CONFLICT (id) DO NOTHING`,
      [
        delivery.id,
        delivery.messageId,
        delivery.subscription,
        delivery.kind,
        delivery.eventId,
        delivery.eventType,
        delivery.eventName,
        delivery.stream,
        delivery.position,
        delivery.body,
        delivery.createdAt,
      ],
    );
    if ((inserted.rowCount ?? 0) > 0) return { ...delivery, status: 'pending', attempts: 0, settledAt: null, lastStatus: null, lastError: null };
    return (await this.get(delivery.id)) as DeliveryRecord;
  }

  async recordAttempt(delivery: DeliveryRecord, attempt: AttemptRecord, settle: DeliveryStatus = 'pending'): Promise<DeliveryRecord> {
    const settledAt = settle !== 'pending' ? attempt.at : null;
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO ${this.t.attempts} (delivery, n, at, status, latency_ms, excerpt, error) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (delivery, n) DO UPDATE SET at = excluded.at, status = excluded.status, latency_ms = excluded.latency_ms, excerpt = excluded.excerpt, error = excluded.error`,
        [delivery.id, attempt.n, attempt.at, attempt.status, Math.round(attempt.latencyMs), attempt.excerpt, attempt.error],
      );
      await client.query(`UPDATE ${this.t.deliveries} SET attempts = $1, last_status = $2, last_error = $3, status = $4, settled_at = $5 WHERE id = $6`, [
        attempt.n,
        attempt.status,
        attempt.error,
        settle,
        settledAt,
        delivery.id,
      ]);
      if (settle !== 'pending' && delivery.kind === 'event' && delivery.position !== null) {
        await advanceWith(client, this.t.cursors, delivery.subscription, BigInt(delivery.position));
      }
    });
    return { ...delivery, attempts: attempt.n, lastStatus: attempt.status, lastError: attempt.error, status: settle, settledAt };
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.pool.query<DeliveryRow>(`SELECT * FROM ${this.t.deliveries} WHERE id = $1`, [id]);
    return rows[0] ? deliveryFromRow(rows[0]) : undefined;
  }

  async attemptsOf(id: string): Promise<AttemptRecord[]> {
    const { rows } = await this.pool.query<{ n: number; at: string; status: number | null; latency_ms: number; excerpt: string | null; error: string | null }>(
      `SELECT n, at, status, latency_ms, excerpt, error FROM ${this.t.attempts} WHERE delivery = $1 ORDER BY n`,
      [id],
    );
    return rows.map((r) => ({ n: r.n, at: Number(r.at), status: r.status, latencyMs: r.latency_ms, excerpt: r.excerpt, error: r.error }));
  }

  async list(subscription: string, options: { status?: DeliveryStatus; limit: number; offset: number }): Promise<{ total: number; items: DeliveryRecord[] }> {
    const where = options.status ? 'subscription = $1 AND status = $2' : 'subscription = $1';
    const args: unknown[] = options.status ? [subscription, options.status] : [subscription];
    const total = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.t.deliveries} WHERE ${where}`, args);
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT * FROM ${this.t.deliveries} WHERE ${where} ORDER BY created_at DESC, seq DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
      [...args, options.limit, options.offset],
    );
    return { total: Number(total.rows[0]?.n ?? 0), items: rows.map(deliveryFromRow) };
  }

  async addReplay(replay: Omit<ReplayRecord, 'status' | 'delivered'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t.replays} (id, subscription, since, after, until, status, delivered, created_at) VALUES ($1, $2, $3, $4, $5, 'running', 0, $6)
       ON CONFLICT (id) DO NOTHING`,
      [replay.id, replay.subscription, replay.since, replay.after, replay.until, replay.createdAt],
    );
  }

  async advanceReplay(id: string, after: bigint, delivered: number, done: boolean): Promise<void> {
    await this.pool.query(`UPDATE ${this.t.replays} SET after = $1, delivered = delivered + $2, status = $3 WHERE id = $4`, [after.toString(), delivered, done ? 'done' : 'running', id]);
  }

  async replays(subscription?: string): Promise<ReplayRecord[]> {
    const { rows } = subscription
      ? await this.pool.query<ReplayRow>(`SELECT * FROM ${this.t.replays} WHERE subscription = $1 ORDER BY created_at, id`, [subscription])
      : await this.pool.query<ReplayRow>(`SELECT * FROM ${this.t.replays} WHERE status = 'running' ORDER BY created_at, id`);
    return rows.map(replayFromRow);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Moves a cursor forward, never back (a late write of an older position changes nothing). */
const advanceWith = async (db: Pool | PoolClient, table: string, subscription: string, position: bigint): Promise<void> => {
  await db.query(
    `INSERT INTO ${table} AS held (subscription, position) VALUES ($1, $2)
     ON CONFLICT (subscription) DO UPDATE SET position = excluded.position WHERE excluded.position > held.position`,
    [subscription, position.toString()],
  );
};

