import { join } from 'node:path';
import { SqliteEventStore } from '@mrw/event-store';
import { benchEvent, line, rate, section } from './report';

const measure = async (store: SqliteEventStore, total: number, batch: number): Promise<number> => {
  const prefix = `bench-${batch}`;
  const streams = 100;
  const revisions = new Array<number>(streams).fill(-1);
  const start = performance.now();
  for (let done = 0; done < total; done += batch) {
    const s = (done / batch) % streams;
    const events = Array.from({ length: batch }, (_, k) => benchEvent(done + k));
    const expected = revisions[s] as number;
    const result = await store.appendToStream(`${prefix}-${s}`, events, {
      expectedRevision: expected < 0 ? 'no_stream' : expected,
    });
    revisions[s] = result.nextExpectedRevision;
  }
  return performance.now() - start;
};

/** Appends per second to the SQLite store, one event per transaction and 100 per transaction. */
export const benchEventStore = async (dir: string): Promise<void> => {
  section('SQLite event store (WAL, hash chain, expected-revision check per append)');
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const store = new SqliteEventStore({ file: join(dir, `append-${synchronous}.sqlite`), synchronous });
    const single = await measure(store, 5_000, 1);
    line(`single-event appends, synchronous=${synchronous}`, rate(5_000, single, 'events'));
    const batched = await measure(store, 100_000, 100);
    line(`batches of 100, synchronous=${synchronous}`, rate(100_000, batched, 'events'));
    await store.close();
  }
};
