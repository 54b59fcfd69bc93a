import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { canonicalJson, PostgresEventStore, SqliteEventStore, type EventStore } from '@mrw/event-store';
import { reachable } from './reachable';
import { benchEvent, line, rate, section } from './report';

/** `total` events in appends of `batch`, over 100 streams, `inFlight` appends awaited together (1: one after the other). */
const measure = async (store: EventStore, total: number, batch: number, inFlight = 1, ids: 'time-ordered' | 'random' = 'time-ordered'): Promise<number> => {
  const prefix = `bench-${batch}-${inFlight}-${ids}`;
  const streams = 100;
  const revisions = new Array<number>(streams).fill(-1);
  const appendTo = async (s: number, first: number): Promise<void> => {
    const events = Array.from({ length: batch }, (_, k) => benchEvent(first + k, ids));
    const expected = revisions[s] as number;
    const result = await store.appendToStream(`${prefix}-${s}`, events, { expectedRevision: expected < 0 ? 'no_stream' : expected });
    revisions[s] = result.nextExpectedRevision;
  };
  const start = performance.now();
  for (let done = 0; done < total; done += batch * inFlight) {
    // Each of the appends in flight goes to its own stream, as concurrent requests on different models do.
    await Promise.all(Array.from({ length: inFlight }, (_, k) => appendTo(((done / batch) + k) % streams, done + k * batch)));
  }
  return performance.now() - start;
};

/**
 * The same rows into a bare table with the same durability, one transaction (one fsync) per
 * row: what the disk and SQLite allow before the store adds anything (revision check, hash
 * chain, canonical JSON).
 */
const rawInserts = (file: string, total: number, synchronous: 'FULL' | 'NORMAL'): number => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, stream_name TEXT, revision INTEGER, event_id TEXT UNIQUE, type TEXT, data TEXT, metadata TEXT)');
  const insert = db.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const one = db.transaction((i: number) => {
    const event = benchEvent(i);
    insert.run(`raw-${i % 100}`, Math.floor(i / 100), event.metadata.eventId, event.type, canonicalJson(event.data), canonicalJson(event.metadata));
  });
  const start = performance.now();
  for (let i = 0; i < total; i += 1) one.immediate(i);
  const elapsed = performance.now() - start;
  db.close();
  return elapsed;
};

/** Appends per second to the SQLite store beside the bare table's rate: one after the other, many in flight (group commit), batches of 100. */
export const benchEventStore = async (dir: string): Promise<void> => {
  section('SQLite event store (WAL, hash chain, expected-revision check per append)');
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const raw = rawInserts(join(dir, `raw-${synchronous}.sqlite`), 5_000, synchronous);
    line(`bare table, one row per transaction, synchronous=${synchronous}`, rate(5_000, raw, 'rows'));
    const store = new SqliteEventStore({ file: join(dir, `append-${synchronous}.sqlite`), synchronous });
    const single = await measure(store, 5_000, 1);
    line(`single-event appends one after the other, synchronous=${synchronous}`, `${rate(5_000, single, 'events')} (${Math.round((raw / single) * 100)}% of the bare table)`);
    const concurrent = await measure(store, 20_000, 1, 64);
    line(`single-event appends, 64 in flight (group commit), synchronous=${synchronous}`, rate(20_000, concurrent, 'events'));
    const batched = await measure(store, 200_000, 100);
    line(`batches of 100, synchronous=${synchronous}`, rate(200_000, batched, 'events'));
    const randomIds = await measure(store, 200_000, 100, 1, 'random');
    line(`batches of 100, random event ids, synchronous=${synchronous}`, rate(200_000, randomIds, 'events'));
    if (synchronous === 'FULL') line('$all read, pages of 1,000, synchronous=FULL', rate(...(await readAllOf(store))));
    await store.close();
  }
  await benchPostgres();
};

/** Every event of the log read in pages of 1,000, as a catching-up subscription reads it: [events, ms]. */
const readAllOf = async (store: EventStore): Promise<[number, number, string]> => {
  let after = 0n;
  let count = 0;
  const start = performance.now();
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1_000 });
    count += page.length;
    if (page.length < 1_000) break;
    after = (page[page.length - 1] as (typeof page)[number]).position;
  }
  return [count, performance.now() - start, 'events'];
};

/**
 * The same appends and reads on the PostgreSQL store (MRW_POSTGRES_URL, else the server of
 * `npm run infra:up` on 127.0.0.1:15432), in a schema of its own that is dropped afterwards.
 * Fewer events than on SQLite: each commit is a round trip to the server and its fsync.
 */
const benchPostgres = async (): Promise<void> => {
  const url = process.env['MRW_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:15432/mrw';
  section('PostgreSQL event store (same appends; one writer at a time by advisory lock, group commit, fsync on)');
  const { hostname, port } = new URL(url);
  if (!(await reachable(`${hostname}:${port || 5432}`))) {
    line('PostgreSQL', `SKIPPED: no server at ${hostname}:${port || 5432} (npm run infra:up, or set MRW_POSTGRES_URL)`);
    return;
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const store = await PostgresEventStore.open({ connectionString: url, schema });
  try {
    const single = await measure(store, 2_000, 1);
    line('single-event appends one after the other', rate(2_000, single, 'events'));
    const concurrent = await measure(store, 20_000, 1, 64);
    line('single-event appends, 64 in flight (group commit)', rate(20_000, concurrent, 'events'));
    const batched = await measure(store, 50_000, 100);
    line('batches of 100', rate(50_000, batched, 'events'));
    line('$all read, pages of 1,000', rate(...(await readAllOf(store))));
  } finally {
    await store.close();
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
};
