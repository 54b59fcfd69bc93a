/**
 * The delivery book's two adapters, held to the same behaviour: a SQLite file (one registry
 * process) and tables in the event store's PostgreSQL schema (shared by registry replicas; the
 * server from MRW_POSTGRES_URL, see tools/jest/global-setup.js, else reported SKIPPED).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres, dropTestSchema, uniqueSchema } from '@mrw/event-store/testing';
import { describeAdapterContract, type AdapterFixture } from '@mrw/testing';
import { SqliteDeliveryBook, type AttemptRecord, type DeliveryBook, type NewDelivery } from './delivery-book';
import { PostgresDeliveryBook } from './postgres-delivery-book';

const delivery = (id: string, overrides: Partial<NewDelivery> = {}): NewDelivery => ({
  id,
  messageId: id,
  subscription: 'sub-1',
  kind: 'event',
  eventId: `event-${id}`,
  eventType: 'StageTransitioned',
  eventName: 'MODEL_VERSION_TRANSITIONED_STAGE',
  stream: 'modelVersion-churn@1',
  position: '7',
  body: '{"event":"MODEL_VERSION_TRANSITIONED_STAGE"}',
  createdAt: 1_000,
  ...overrides,
});

const attempt = (n: number, status: number | null, at = 2_000 + n): AttemptRecord => ({ n, at, status, latencyMs: 12.4, excerpt: status === null ? null : 'ok', error: status === null ? 'ECONNREFUSED' : null });

const describeBook = (name: string, fixture: () => Promise<AdapterFixture<DeliveryBook>>): void =>
  describeAdapterContract(`${name} delivery book`, fixture, (open) => {
    it('enqueues a delivery once by id, and hands back the stored one after', async () => {
      const book = await open();
      const first = await book.enqueue(delivery('d1'));
      expect(first).toMatchObject({ id: 'd1', status: 'pending', attempts: 0, settledAt: null });
      await book.recordAttempt(first, attempt(1, 500));
      const again = await book.enqueue(delivery('d1', { body: 'something else' }));
      expect(again).toMatchObject({ id: 'd1', status: 'pending', attempts: 1, lastStatus: 500, body: delivery('d1').body });
    });

    it('settles a delivery with its attempts, and moves the cursor past its event in the same step; never back', async () => {
      const book = await open();
      const pending = await book.enqueue(delivery('d1', { position: '9' }));
      expect(await book.cursor('sub-1')).toBeUndefined();
      const retried = await book.recordAttempt(pending, attempt(1, null));
      expect(await book.cursor('sub-1')).toBeUndefined();
      const settled = await book.recordAttempt(retried, attempt(2, 204), 'delivered');
      expect(settled).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 204, settledAt: 2_002 });
      expect(await book.get('d1')).toEqual(settled);
      expect(await book.attemptsOf('d1')).toEqual([
        { n: 1, at: 2_001, status: null, latencyMs: 12, excerpt: null, error: 'ECONNREFUSED' },
        { n: 2, at: 2_002, status: 204, latencyMs: 12, excerpt: 'ok', error: null },
      ]);
      expect(await book.cursor('sub-1')).toBe(9n);
      await book.advance('sub-1', 4n);
      expect(await book.cursor('sub-1')).toBe(9n);
      await book.advance('sub-1', 12n);
      expect(await book.cursor('sub-1')).toBe(12n);
      // A test or a redelivery has no place in the log: settling it moves no cursor.
      const test = await book.enqueue(delivery('t1', { kind: 'test', position: null, subscription: 'sub-2' }));
      await book.recordAttempt(test, attempt(1, 200), 'delivered');
      expect(await book.cursor('sub-2')).toBeUndefined();
    });

    it('lists a subscription’s deliveries newest first, by status, a page at a time', async () => {
      const book = await open();
      for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) await book.enqueue(delivery(id, { createdAt: 1_000 + (i < 2 ? 0 : i) }));
      await book.enqueue(delivery('elsewhere', { subscription: 'sub-2' }));
      await book.recordAttempt((await book.get('c'))!, attempt(1, 410), 'dead');
      const all = await book.list('sub-1', { limit: 10, offset: 0 });
      // Same creation time: the one added later first.
      expect([all.total, all.items.map((d) => d.id)]).toEqual([4, ['d', 'c', 'b', 'a']]);
      expect((await book.list('sub-1', { limit: 2, offset: 1 })).items.map((d) => d.id)).toEqual(['c', 'b']);
      const dead = await book.list('sub-1', { status: 'dead', limit: 10, offset: 0 });
      expect([dead.total, dead.items.map((d) => d.id)]).toEqual([1, ['c']]);
    });

    it('records replays once, moves them on, and lists the running ones', async () => {
      const book = await open();
      const replay = { id: 'r1', subscription: 'sub-1', since: '2026-11-01T00:00:00.000Z', after: '0', until: '40', createdAt: 5 };
      await book.addReplay(replay);
      await book.addReplay({ ...replay, after: '30' });
      await book.addReplay({ ...replay, id: 'r2', subscription: 'sub-2', createdAt: 6 });
      await book.advanceReplay('r1', 17n, 2, false);
      await book.advanceReplay('r1', 21n, 1, false);
      expect(await book.replays('sub-1')).toEqual([{ ...replay, after: '21', status: 'running', delivered: 3 }]);
      await book.advanceReplay('r2', 40n, 0, true);
      expect((await book.replays()).map((r) => r.id)).toEqual(['r1']);
    });

    it('keeps everything for the next handle on the same book', async () => {
      const book = await open();
      const pending = await book.enqueue(delivery('d1', { position: '3' }));
      await book.recordAttempt(pending, attempt(1, 200), 'delivered');
      const other = await open();
      expect(await other.cursor('sub-1')).toBe(3n);
      expect((await other.get('d1'))?.status).toBe('delivered');
    });
  });

describeBook('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mrw-delivery-book-'));
  return { open: async () => new SqliteDeliveryBook(join(dir, 'webhooks.sqlite')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeWithPostgres('shared by registry replicas', (url) => {
  describeBook('PostgreSQL', async () => {
    const schema = uniqueSchema();
    return {
      open: () => PostgresDeliveryBook.open({ connectionString: url, schema, poolSize: 2 }),
      cleanup: () => dropTestSchema(url, schema),
    };
  });
});
