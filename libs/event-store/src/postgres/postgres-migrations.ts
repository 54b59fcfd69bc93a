import { createHash } from 'node:crypto';
import { escapeIdentifier, type ClientBase } from 'pg';
import { MIGRATIONS, type Migration } from './migrations';

/** First key of the two-key advisory locks this store takes; the second is derived from the schema. */
export const LOCK_CLASS = { append: 0x6d727701, migrate: 0x6d727702 } as const;

/** The second advisory-lock key for a schema: stores in different schemas never wait for each other. */
export const schemaLockKey = (schema: string): number => createHash('sha256').update(schema).digest().readInt32BE(0);

/**
 * Brings `schema` to the newest migration, inside one transaction: creates the schema and the
 * `schema_migrations` table if needed, then runs every migration not recorded there, in order.
 * Safe when several processes start at once: they queue on a transaction-scoped advisory lock
 * (taken before anything else, so even `CREATE SCHEMA` never races), and each one after the
 * first finds everything recorded. Refuses a schema newer than this code. Returns the versions
 * it applied.
 */
export async function migrate(client: ClientBase, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  assertOrdered(migrations);
  const q = escapeIdentifier(schema);
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS.migrate, schemaLockKey(schema)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (
         version    integer     PRIMARY KEY,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${q}.schema_migrations`);
    const done = new Set(rows.map((row) => row.version));
    const newest = Math.max(0, ...done);
    const known = migrations[migrations.length - 1]?.version ?? 0;
    if (newest > known) {
      throw new Error(`PostgresEventStore: schema ${schema} is at version ${newest}, newer than this code (${known})`);
    }
    // Migrations name their objects unqualified; pg_catalog stays first implicitly.
    await client.query(`SET LOCAL search_path TO ${q}`);
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return applied;
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`PostgresEventStore: migration ${migration.name} has version ${migration.version}, expected ${index + 1}`);
    }
  });
}
