/**
 * The PostgreSQL adapter against a real server: MRW_POSTGRES_URL, which tools/jest/global-setup.js
 * sets (a server given, one already on 127.0.0.1:15432, or a throwaway cluster it starts from
 * Debian's postgresql package). Each test works in a schema of its own, dropped afterwards.
 * Without a server every test here is reported SKIPPED, with the reason.
 */
import { Client } from 'pg';
import { describeEventStoreConformance, describeWithPostgres, dropTestSchema, testEvent, uniqueSchema, waitFor } from '../testing';
import { EventStoreUnavailableError, isTransientStoreError, type EventToAppend, type RecordedEvent, type Subscription } from '../event-store.port';
import { verifyChain } from '../hash-chain';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.adapter';
import { MIGRATIONS } from './migrations';
import { LOCK_CLASS, schemaLockKey } from './postgres-migrations';

const event = (type: string, data: unknown = {}): EventToAppend => testEvent(type, data, 'postgres-int');

/** A plain connection for what the tests do behind the store's back. */
const rawClient = async (url: string): Promise<Client> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
};

describeWithPostgres('PostgreSQL event store', (url) => {
  describeEventStoreConformance('PostgreSQL', async () => {
    const schema = uniqueSchema();
    return {
      store: await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 }),
      reopen: () => PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 }),
      cleanup: () => dropTestSchema(url, schema),
    };
  });

  describe('PostgresEventStore', () => {
    let schema: string;
    let raw: Client;
    const stores: PostgresEventStore[] = [];
    const subscriptions: Subscription[] = [];
    const open = async (options: Partial<PostgresEventStoreOptions> = {}): Promise<PostgresEventStore> => {
      const store = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4, ...options });
      stores.push(store);
      return store;
    };

    beforeEach(async () => {
      schema = uniqueSchema();
      raw = await rawClient(url);
    });

    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) await subscription.stop();
      for (const store of stores.splice(0)) await store.close();
      await raw.end();
      await dropTestSchema(url, schema);
    });

    it('stores canonical JSON and refuses UPDATE, DELETE and TRUNCATE of events', async () => {
      const store = await open();
      await store.appendToStream('thing-1', [event('ThingCreated', { b: 1, a: { d: 2, c: 3 } })], { expectedRevision: 'no_stream' });
      const stored = await raw.query<{ data: string }>(`SELECT data::text AS data FROM "${schema}".events`);
      expect(stored.rows).toEqual([{ data: '{"a":{"c":3,"d":2},"b":1}' }]);

      await expect(raw.query(`UPDATE "${schema}".events SET type = 'Changed'`)).rejects.toThrow(/events are append-only: UPDATE refused/);
      await expect(raw.query(`DELETE FROM "${schema}".events`)).rejects.toThrow(/events are append-only: DELETE refused/);
      await expect(raw.query(`TRUNCATE "${schema}".events`)).rejects.toThrow(/events are append-only: TRUNCATE refused/);
      expect(await store.readStream('thing-1')).toHaveLength(1);
    });

    it('migrates once when two processes open a new schema at the same time, and again finds nothing to do', async () => {
      await Promise.all([open(), open(), open()]);
      const applied = await raw.query<{ version: number; name: string }>(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
      expect(applied.rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));

      const again = await open();
      await again.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
      expect((await raw.query(`SELECT 1 FROM "${schema}".schema_migrations`)).rowCount).toBe(MIGRATIONS.length);
    });

    it('refuses to open a schema migrated by newer code', async () => {
      await open();
      const newer = MIGRATIONS.length + 1;
      await raw.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, 'from the future')`, [newer]);
      await expect(open()).rejects.toThrow(new RegExp(`schema ${schema} is at version ${newer}, newer than this code \\(${MIGRATIONS.length}\\)`));
    });

    it('keeps revisions unique and positions gap-free, in order, for a reader while two stores write one stream', async () => {
      const [one, two, reader] = await Promise.all([open(), open(), open()]);
      const seen: RecordedEvent[] = [];
      const subscription = reader.subscribeToAll({ name: 'reader', handler: async (recorded) => void seen.push(recorded) });
      subscriptions.push(subscription);
      const perWriter = 40;
      let writing = true;
      // Every read of the whole log, taken while the writers commit, must be a prefix 1..n.
      const snapshots = (async () => {
        let reads = 0;
        while (writing || reads === 0) {
          const positions = (await reader.readAll()).map((recorded) => recorded.position);
          expect(positions).toEqual(positions.map((_, index) => BigInt(index + 1)));
          reads += 1;
        }
        return reads;
      })();
      const write = (store: PostgresEventStore, writer: string) =>
        Promise.all(
          Array.from({ length: perWriter }, (_, n) =>
            store.appendToStream('race-1', [event('Written', { writer, n }), event('Written', { writer, n, second: true })], { expectedRevision: 'any' }),
          ),
        );
      await Promise.all([write(one, 'one'), write(two, 'two')]);
      writing = false;
      expect(await snapshots).toBeGreaterThan(0);

      const stream = await reader.readStream('race-1');
      expect(stream.map((recorded) => recorded.revision)).toEqual(Array.from({ length: 4 * perWriter }, (_, index) => index));
      expect(stream.map((recorded) => recorded.position)).toEqual(stream.map((_, index) => BigInt(index + 1)));
      expect(verifyChain(stream)).toMatchObject({ valid: true, events: 4 * perWriter });
      // A batch is never split by another writer's events.
      for (let index = 0; index < stream.length; index += 2) {
        expect(stream[index + 1]?.data).toMatchObject({ ...(stream[index]?.data as object), second: true });
      }
      await subscription.caughtUp();
      expect(seen.map((recorded) => recorded.position)).toEqual(stream.map((recorded) => recorded.position));
    });

    it('refuses an append the server fails alone: the others of its group commit are stored, with no gap', async () => {
      const store = await open();
      // A server-side failure of one insert (here a trigger of the test's own), not a decision of the adapter.
      await raw.query(`
        CREATE FUNCTION "${schema}".refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.type = 'Poison' THEN RAISE EXCEPTION 'poisoned event'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_poison BEFORE INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse_poison();`);
      // Asked for in one turn of the event loop: one transaction, one savepoint each.
      const outcomes = await Promise.allSettled([
        store.appendToStream('thing-1', [event('A')], { expectedRevision: 'no_stream' }),
        store.appendToStream('thing-2', [event('Poison')], { expectedRevision: 'no_stream' }),
        store.appendToStream('thing-3', [event('B')], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'poisoned event' });
      const all = await store.readAll();
      expect(all.map((recorded) => [recorded.streamName, recorded.position])).toEqual([
        ['thing-1', 1n],
        ['thing-3', 2n],
      ]);
    });

    it('plans its statements with their parameters on every connection (no generic plan from a young log)', async () => {
      const store = await open();
      const pool = (store as unknown as { pool: { query: (sql: string) => Promise<{ rows: Array<{ plan_cache_mode: string }> }> } }).pool;
      expect((await pool.query('SHOW plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_custom_plan' }]);
    });

    it('decides the appends of one group commit in order, as if committed one by one', async () => {
      const store = await open();
      await store.appendToStream('group-0', [event('Existing')], { expectedRevision: 'no_stream' });
      const first = event('First');
      const retried = { ...first, metadata: { ...first.metadata } };
      const shared = event('Shared');
      // Asked for in one turn of the event loop: decided together from one lookup, written by one insert.
      const outcomes = await Promise.allSettled([
        store.appendToStream('group-1', [first, event('Second')], { expectedRevision: 'no_stream' }),
        store.appendToStream('group-1', [event('Third')], { expectedRevision: 1 }),
        store.appendToStream('group-1', [event('Stale')], { expectedRevision: 1 }),
        store.appendToStream('group-1', [retried], { expectedRevision: 'no_stream' }),
        store.appendToStream('group-0', [event('More')], { expectedRevision: 0 }),
        store.appendToStream('group-2', [shared], { expectedRevision: 'any' }),
        store.appendToStream('group-3', [shared], { expectedRevision: 'any' }),
        store.appendToStream('group-4', [event('NotANumber', { x: Number.NaN })], { expectedRevision: 'any' }),
      ]);
      const [a, b, stale, replay, more, sharedOnce, sharedTwice, unencodable] = outcomes;
      expect(a).toMatchObject({ status: 'fulfilled', value: { appended: true, nextExpectedRevision: 1, position: 3n } });
      expect(b).toMatchObject({ status: 'fulfilled', value: { appended: true, nextExpectedRevision: 2, position: 4n } });
      expect(stale).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedRevisionError', actual: 2 } });
      // The same first event id again in the same stream: a replay answered as the first append was.
      expect(replay).toMatchObject({ status: 'fulfilled', value: { appended: false, position: 2n } });
      expect(more).toMatchObject({ status: 'fulfilled', value: { appended: true, nextExpectedRevision: 1, position: 5n } });
      expect(sharedOnce).toMatchObject({ status: 'fulfilled', value: { appended: true } });
      expect(sharedTwice).toMatchObject({ status: 'rejected', reason: { name: 'DuplicateEventIdError' } });
      expect(unencodable).toMatchObject({ status: 'rejected', reason: { name: 'TypeError' } });
      const all = await store.readAll();
      expect(all.map((e) => [e.streamName, e.type, e.position])).toEqual([
        ['group-0', 'Existing', 1n],
        ['group-1', 'First', 2n],
        ['group-1', 'Second', 3n],
        ['group-1', 'Third', 4n],
        ['group-0', 'More', 5n],
        ['group-2', 'Shared', 6n],
      ]);
      // What the writers were handed is what a read returns, and every chain verifies.
      expect((a as PromiseFulfilledResult<{ recorded?: readonly RecordedEvent[] }>).value.recorded).toEqual(all.slice(1, 3));
      for (const stream of ['group-0', 'group-1']) expect(verifyChain(await store.readStream(stream))).toMatchObject({ valid: true });
    });

    it('lets exactly one of two stores win a race on the same expected revision', async () => {
      const [one, two] = await Promise.all([open(), open()]);
      await one.appendToStream('race-1', [event('Started')], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, n) => (n % 2 === 0 ? one : two).appendToStream('race-1', [event('Raced', { n })], { expectedRevision: 0 })),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ name: 'WrongExpectedRevisionError', actual: 1 });
      }
    });

    it('delivers an event appended by another store instance promptly, with no query while idle', async () => {
      const applicationName = `mrw-test-${schema}`;
      const subscriber = await open({ applicationName });
      const writer = await open();
      const handled: RecordedEvent[] = [];
      const subscription = subscriber.subscribeToAll({ name: 'live', handler: async (recorded) => void handled.push(recorded) });
      subscriptions.push(subscription);
      await subscription.caughtUp();
      await writer.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
      await waitFor(() => handled.length === 1, 2_000, 'the other store’s event handled');
      await waitFor(async () => (await raw.query(`SELECT 1 FROM "${schema}".checkpoints WHERE name = 'live' AND position = 1`)).rowCount === 1, 2_000, 'checkpoint written');

      // Idle: none of the subscriber's connections (pool and LISTEN) runs a statement for a while: no polling loop.
      const activity = async () =>
        (await raw.query<{ pid: number; state: string; state_change: Date }>(
          'SELECT pid, state, state_change FROM pg_stat_activity WHERE application_name LIKE $1 ORDER BY pid',
          [`${applicationName}%`],
        )).rows;
      await waitFor(async () => (await activity()).every((backend) => backend.state === 'idle'), 2_000, 'the subscriber’s connections idle');
      const before = await activity();
      expect(before.length).toBeGreaterThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await activity()).toEqual(before);
      expect(subscription.status()).toEqual({ state: 'live' });

      const started = Date.now();
      await writer.appendToStream('thing-1', [event('ThingRenamed')], { expectedRevision: 0 });
      await waitFor(() => handled.length === 2, 2_000, 'the second event handled');
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('resubscribes from its checkpoint with backoff after its connections are terminated', async () => {
      const applicationName = `mrw-test-${schema}`;
      const subscriber = await open({ applicationName, reconnect: { initialDelayMs: 300, maxDelayMs: 1_000 } });
      const writer = await open();
      await writer.appendToStream('thing-1', [event('A', { n: 0 })], { expectedRevision: 'no_stream' });
      const handled: number[] = [];
      const subscription = subscriber.subscribeToAll({ name: 'resilient', handler: async (recorded) => void handled.push((recorded.data as { n: number }).n) });
      subscriptions.push(subscription);
      await subscription.caughtUp();
      expect(subscription.status()).toEqual({ state: 'live' });

      const terminated = await raw.query<{ terminated: boolean }>(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name LIKE $1',
        [`${applicationName}%`],
      );
      expect(terminated.rows.length).toBeGreaterThan(0);
      await waitFor(() => subscription.status().state === 'reconnecting', 3_000, 'reconnecting after the backend was terminated');
      expect(subscription.status()).toMatchObject({ state: 'reconnecting', attempts: 1, detail: expect.stringContaining('EventStoreUnavailableError') });

      // Appended while the subscriber is away: read when it is back, after the checkpoint.
      await writer.appendToStream('thing-1', [event('B', { n: 1 }), event('C', { n: 2 })], { expectedRevision: 0 });
      await waitFor(() => handled.length === 3, 5_000, 'events appended during the outage handled');
      await waitFor(() => subscription.status().state === 'live', 3_000, 'live again');
      expect(handled).toEqual([0, 1, 2]);

      await writer.appendToStream('thing-1', [event('D', { n: 3 })], { expectedRevision: 2 });
      await waitFor(() => handled.length === 4, 2_000, 'live notifications after reconnecting');
      expect(handled).toEqual([0, 1, 2, 3]);
    });

    it('refuses to open on an unreachable server, naming it without the password', async () => {
      // Port 1 on loopback: nothing listens there.
      const unreachable = PostgresEventStore.open({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/mrw', schema, connectTimeoutMs: 2_000 });
      await expect(unreachable).rejects.toThrow(/^PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/mrw is not usable/);
    });

    it('fails an append whose connection is lost with a transient EventStoreUnavailableError; the next one succeeds', async () => {
      const applicationName = `mrw-test-${schema}`;
      const store = await open({ applicationName });
      await store.appendToStream('thing-1', [event('A')], { expectedRevision: 'no_stream' });
      // Hold the append lock, so the store's next append waits inside its transaction, then cut it off.
      await raw.query('BEGIN');
      await raw.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS.append, schemaLockKey(schema)]);
      const append = store.appendToStream('thing-1', [event('B')], { expectedRevision: 0 });
      const outcome = append.then(
        () => undefined,
        (error: unknown) => error,
      );
      await waitFor(
        async () =>
          (await raw.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [applicationName])).rowCount === 1,
        3_000,
        'the append waiting for the lock',
      );
      await raw.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [applicationName]);
      const error = await outcome;
      await raw.query('ROLLBACK');
      expect(error).toBeInstanceOf(EventStoreUnavailableError);
      expect(isTransientStoreError(error)).toBe(true);

      await expect(store.appendToStream('thing-1', [event('B')], { expectedRevision: 0 })).resolves.toMatchObject({ appended: true, nextExpectedRevision: 1 });
    });
  });
});
