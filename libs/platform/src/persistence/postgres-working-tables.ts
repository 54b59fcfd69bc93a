import { createHash } from 'node:crypto';
import { escapeIdentifier, Pool, type PoolClient } from 'pg';

export interface PostgresWorkingTablesOptions {
  readonly connectionString: string;
  /** The event store's schema, where the tables go. */
  readonly schema: string;
  /** Shown in `pg_stat_activity`. */
  readonly applicationName: string;
  /** The advisory-lock class of this component's table creation (one per component). */
  readonly lockClass: number;
  /** The DDL, given the quoted schema: `CREATE … IF NOT EXISTS` statements. */
  readonly ddl: (schema: string) => string;
  readonly poolSize?: number;
}

/**
 * A pool on the event store's PostgreSQL for a component's own tables (the webhook delivery
 * book, the MLflow artifact index), shared by every registry replica. The tables are made sure
 * of at open in one transaction under an advisory lock, so replicas starting together do not
 * race; a failure closes the pool and is the caller's.
 */
export const openPostgresWorkingTables = async (options: PostgresWorkingTablesOptions): Promise<Pool> => {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 4,
    application_name: options.applicationName,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // A dropped idle connection is discarded by the pool; without a listener it would crash the process.
  pool.on('error', () => undefined);
  try {
    await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [options.lockClass, createHash('sha256').update(options.schema).digest().readInt32BE(0)]);
      const schema = escapeIdentifier(options.schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; ${options.ddl(schema)}`);
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return pool;
};

/** Runs `work` in one transaction on a connection of the pool: committed when it resolves, rolled back when it throws. */
export const inTransaction = async <T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    // A connection whose transaction state is unknown is not handed out again.
    client.release(true);
    throw error;
  }
};
