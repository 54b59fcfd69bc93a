import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { canonicalJson, PostgresEventStore, SqliteEventStore, type EventStore, type EventToAppend } from '@mrw/event-store';
import { reachable } from './reachable';
import { benchEvent, line, rate, section } from './report';

/**
 * `total` events in appends of `batch`, over 100 streams, `inFlight` appends awaited together (1:
 * one after the other). Only the store's time counts: each round's events are made while the
 * clock is stopped (making one costs about 2.4 µs, mostly its two UUIDs), and only a round's
 * events are alive at a time, as in a producer.
 */
const measure = async (
  store: EventStore,
  total: number,
  batch: number,
  inFlight = 1,
  ids: 'time-ordered' | 'random' = 'time-ordered',
  round = 0,
): Promise<number> => {
  const prefix = `bench-${batch}-${inFlight}-${ids}-${round}`;
  const streams = 100;
  const revisions = new Array<number>(streams).fill(-1);
  if (total % (batch * inFlight) !== 0) throw new RangeError(`measure: ${total} events do not split into rounds of ${inFlight} appends of ${batch}`);
  const appendTo = async (s: number, events: EventToAppend[]): Promise<void> => {
    const expected = revisions[s] as number;
    const result = await store.appendToStream(`${prefix}-${s}`, events, { expectedRevision: expected < 0 ? 'no_stream' : expected });
    revisions[s] = result.nextExpectedRevision;
  };
  let elapsed = 0;
  for (let done = 0; done < total; done += batch * inFlight) {
    const appends = Array.from({ length: inFlight }, (_, k) => Array.from({ length: batch }, (_, e) => benchEvent(done + k * batch + e, ids)));
    const start = performance.now();
    // Each of the appends in flight goes to its own stream, as concurrent requests on different models do.
    await Promise.all(appends.map((events, k) => appendTo((done / batch + k) % streams, events)));
    elapsed += performance.now() - start;
  }
  return elapsed;
};

/**
 * The same rows inserted bare, with the same durability, one transaction (one fsync) per row:
 * what the disk and SQLite allow before the store adds anything (revision check, hash chain,
 * replay check, canonical JSON). `minimal` is a table with the event-id index alone; `store`
 * is the store's own table (its stream-revision index, AUTOINCREMENT and JSON checks), made by
 * opening a store on the file. `insert(n)` answers the milliseconds n rows took.
 */
const bareTable = async (
  file: string,
  synchronous: 'FULL' | 'NORMAL',
  table: 'minimal' | 'store',
): Promise<{ insert: (rows: number) => number; close: () => void }> => {
  if (table === 'store') await new SqliteEventStore({ file, synchronous }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  if (table === 'minimal') {
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, stream_name TEXT, revision INTEGER, event_id TEXT UNIQUE, type TEXT, data TEXT, metadata TEXT)');
  }
  const statement = db.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const one = db.transaction((i: number, event: EventToAppend) => {
    statement.run(`raw-${i % 100}`, Math.floor(i / 100), event.metadata.eventId, event.type, canonicalJson(event.data), canonicalJson(event.metadata));
  });
  let inserted = 0;
  return {
    insert: (rows) => {
      const made = Array.from({ length: rows }, (_, k) => benchEvent(inserted + k));
      const start = performance.now();
      for (const event of made) one.immediate(inserted++, event);
      return performance.now() - start;
    },
    close: () => db.close(),
  };
};

/**
 * Single-event appends one after the other beside bare inserts into both tables, in alternating
 * rounds of 1,000 after a warm-up of each, so that all three see the same disk: an fsync's cost
 * drifts over seconds. Answers the total milliseconds of each.
 */
const singleBesideBare = async (
  dir: string,
  synchronous: 'FULL' | 'NORMAL',
  store: EventStore,
): Promise<{ minimal: number; table: number; store: number }> => {
  const minimal = await bareTable(join(dir, `bare-minimal-${synchronous}.sqlite`), synchronous, 'minimal');
  const table = await bareTable(join(dir, `bare-store-${synchronous}.sqlite`), synchronous, 'store');
  minimal.insert(500);
  table.insert(500);
  await measure(store, 500, 1, 1, 'time-ordered', -1);
  const total = { minimal: 0, table: 0, store: 0 };
  for (let round = 0; round < 5; round += 1) {
    total.minimal += minimal.insert(1_000);
    total.table += table.insert(1_000);
    total.store += await measure(store, 1_000, 1, 1, 'time-ordered', round);
  }
  minimal.close();
  table.close();
  return total;
};

/** Appends per second to the SQLite store beside the bare table's rate: one after the other, many in flight (group commit), batches of 100. */
export const benchEventStore = async (dir: string): Promise<void> => {
  section('SQLite event store (WAL, hash chain, expected-revision check per append)');
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const store = new SqliteEventStore({ file: join(dir, `append-${synchronous}.sqlite`), synchronous });
    const single = await singleBesideBare(dir, synchronous, store);
    const share = (bare: number): string => `${Math.round((bare / single.store) * 100)}%`;
    line(`bare inserts, event-id index only, one per transaction, synchronous=${synchronous}`, rate(5_000, single.minimal, 'rows'));
    line(`bare inserts into the store's table, one per transaction, synchronous=${synchronous}`, rate(5_000, single.table, 'rows'));
    line(
      `single-event appends one after the other, synchronous=${synchronous}`,
      `${rate(5_000, single.store, 'events')} (${share(single.minimal)} of the first, ${share(single.table)} of the second)`,
    );
    const concurrent = await measure(store, 19_200, 1, 64);
    line(`single-event appends, 64 in flight (group commit), synchronous=${synchronous}`, rate(19_200, concurrent, 'events'));
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
    const concurrent = await measure(store, 19_200, 1, 64);
    line('single-event appends, 64 in flight (group commit)', rate(19_200, concurrent, 'events'));
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
