import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL tests may use (see tools/jest/global-setup.js), or undefined. */
export const testPostgresUrl = (): string | undefined => process.env['MRW_POSTGRES_URL']?.trim() || undefined;

export const POSTGRES_SKIP_REASON =
  'SKIPPED: no PostgreSQL (set MRW_POSTGRES_URL, or run `npm run infra:up` to start one on 127.0.0.1:15432)';

/**
 * `describe` when a PostgreSQL server is there; otherwise `describe.skip` with the reason in the
 * title, and a warning printed, so a missing server is never a silent pass.
 */
export const describeWithPostgres = (title: string, body: (url: string) => void): void => {
  const url = testPostgresUrl();
  if (url !== undefined) {
    describe(title, () => body(url));
    return;
  }
  console.warn(`${title} — ${POSTGRES_SKIP_REASON}`);
  describe.skip(`${title} — ${POSTGRES_SKIP_REASON}`, () => body(''));
};

/** A fresh schema name per test, so tests never see each other's events (drop it in cleanup). */
export const uniqueSchema = (): string => `test_${randomBytes(6).toString('hex')}`;

/** Drops a test's schema and everything in it (the cleanup that goes with `uniqueSchema`). */
export const dropTestSchema = async (url: string, schema: string): Promise<void> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
};
