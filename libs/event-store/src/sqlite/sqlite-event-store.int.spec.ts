import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describeEventStoreConformance, waitFor, testEvent } from '../testing';
import type { EventToAppend, RecordedEvent } from '../event-store.port';
import { verifyChain } from '../hash-chain';
import { SqliteEventStore } from './sqlite-event-store.adapter';

const event = (type: string, data: unknown = {}): EventToAppend => testEvent(type, data);

describeEventStoreConformance('SQLite (temp file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mrw-event-store-'));
  const file = join(dir, 'events.db');
  return {
    store: new SqliteEventStore({ file, pollIntervalMs: 20 }),
    reopen: async () => new SqliteEventStore({ file, pollIntervalMs: 20 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('SqliteEventStore', () => {
  let dir: string;
  const stores: SqliteEventStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof SqliteEventStore>[0]> = {}): SqliteEventStore => {
    const store = new SqliteEventStore({ file: join(dir, 'events.db'), ...options });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-event-store-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode with synchronous=FULL by default', () => {
    const store = open();
    expect(store.pragmas()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
  });

  it('is back to synchronous=FULL after writing checkpoints (which skip the fsync)', async () => {
    const store = open();
    await store.appendToStream('thing-1', [event('ThingCreated'), event('ThingRenamed')], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({ name: 'checkpointed', handler: async () => undefined });
    await subscription.caughtUp();
    expect(subscription.checkpoint).toBe(2n);
    // Checkpoints are written together once per turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.pragmas().synchronous).toBe('FULL');
    const raw = new Database(join(dir, 'events.db'), { readonly: true });
    try {
      expect(raw.prepare('SELECT name, position FROM checkpoints').all()).toEqual([{ name: 'checkpointed', position: 2 }]);
    } finally {
      raw.close();
    }
  });

  it('uses synchronous=NORMAL when asked', () => {
    const store = open({ synchronous: 'NORMAL' });
    expect(store.pragmas()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL' });
  });

  it('stores canonical JSON and refuses updates and deletes of events', async () => {
    const store = open();
    await store.appendToStream('thing-1', [event('ThingCreated', { b: 1, a: { d: 2, c: 3 } })], { expectedRevision: 'no_stream' });
    const raw = new Database(join(dir, 'events.db'));
    try {
      expect(raw.prepare('SELECT data FROM events').pluck().get()).toBe('{"a":{"c":3,"d":2},"b":1}');
      expect(() => raw.prepare(`UPDATE events SET data = '{}'`).run()).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
  });

  it('a subscription sees appends made through another connection to the same file', async () => {
    const writer = open();
    const reader = open({ pollIntervalMs: 10 });
    const handled: RecordedEvent[] = [];
    const subscription = reader.subscribeToAll({ name: 'cross-process', handler: async (e) => void handled.push(e) });
    await subscription.caughtUp();

    await writer.appendToStream('thing-1', [event('ThingCreated'), event('ThingRenamed')], { expectedRevision: 'no_stream' });
    await waitFor(() => handled.length === 2, 3_000, 'events from the other connection handled');
    expect(handled.map((e) => e.type)).toEqual(['ThingCreated', 'ThingRenamed']);
  });

  it('wakes a subscription at once on appends through the same instance, without waiting for the poll', async () => {
    const store = open({ pollIntervalMs: 60_000 });
    const handled: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ name: 'woken', handler: async (e) => void handled.push(e) });
    await subscription.caughtUp();

    await store.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    await waitFor(() => handled.length === 1, 2_000, 'the append woke the subscription');
  });

  it('keeps only its latest 10,000 appended events in memory, oldest out first, and a subscription still reads every event in order', async () => {
    const store = open({ synchronous: 'NORMAL', pollIntervalMs: 60_000 });
    // 1,010 appends of 10: 100 events more than are kept.
    for (let s = 0; s < 101; s += 1) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          store.appendToStream(`thing-${s}-${k}`, Array.from({ length: 10 }, (_, e) => event('ThingTagged', { e })), { expectedRevision: 'no_stream' }),
        ),
      );
    }
    const kept = (store as unknown as { recent: Map<bigint, RecordedEvent> }).recent;
    expect(kept.size).toBe(10_000);
    expect(Math.min(...[...kept.keys()].map(Number))).toBe(101);
    const positions: bigint[] = [];
    const subscription = store.subscribeToAll({ name: 'all', handler: async (e) => void positions.push(e.position) });
    await subscription.caughtUp();
    expect(positions).toEqual(Array.from({ length: 10_100 }, (_, i) => BigInt(i + 1)));
  });

  it('appends from several threads at once: each fails only with WrongExpectedRevisionError, and the chain holds', async () => {
    const file = join(dir, 'events.db');
    await open().close();
    const outcomes = await Promise.all(Array.from({ length: 3 }, (_, worker) => raceInWorker(file, worker, 40)));
    const wins = outcomes.reduce((sum, outcome) => sum + outcome.wins, 0);
    expect(outcomes.flatMap((outcome) => outcome.unexpected)).toEqual([]);
    const read = await open().readStream('race-1');
    expect(read).toHaveLength(wins);
    expect(verifyChain(read)).toMatchObject({ valid: true, events: wins });
  });

  it('two connections racing on the same expected revision: one wins, the chain stays intact', async () => {
    const one = open();
    const two = open();
    await one.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    const outcomes = await Promise.allSettled(
      [one, two, one, two].map((store) => store.appendToStream('thing-1', [event('ThingRenamed')], { expectedRevision: 0 })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(verifyChain(await two.readStream('thing-1'))).toMatchObject({ valid: true, events: 2 });
  });

  describe('group commit', () => {
    it('commits the appends of one turn together, each refused or kept on its own, in the order asked', async () => {
      const store = open();
      await store.appendToStream('kept-b', [event('ThingCreated')], { expectedRevision: 'no_stream' });
      const replayed = event('ThingCreated');
      const outcomes = await Promise.allSettled([
        store.appendToStream('kept-a', [event('ThingCreated')], { expectedRevision: 'no_stream' }),
        store.appendToStream('kept-b', [event('ThingRenamed')], { expectedRevision: 5 }),
        store.appendToStream('kept-a', [event('ThingRenamed')], { expectedRevision: 0 }),
        store.appendToStream('kept-c', [replayed], { expectedRevision: 'no_stream' }),
        store.appendToStream('kept-c', [replayed], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'WrongExpectedRevisionError' });
      const [first, , second, stored, retried] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
      // Later in the batch sees earlier: kept-a's second append found revision 0 written a moment before.
      expect([first?.nextExpectedRevision, second?.nextExpectedRevision]).toEqual([0, 1]);
      expect(second!.position).toBeGreaterThan(first!.position);
      // The same event ids twice in one batch: the second is the first's replay, not a new event.
      expect(retried).toEqual({ nextExpectedRevision: stored?.nextExpectedRevision, position: stored?.position, appended: false });
      expect((await store.readStream('kept-b')).map((e) => e.type)).toEqual(['ThingCreated']);
      expect(verifyChain(await store.readStream('kept-a'))).toMatchObject({ valid: true, events: 2 });
    });

    it('refuses an append in a group whose later event reuses a stored id, and keeps the rest of the group', async () => {
      const store = open();
      const stored = event('ThingCreated');
      await store.appendToStream('dup-a', [stored], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled([
        store.appendToStream('dup-b', [event('ThingCreated')], { expectedRevision: 'no_stream' }),
        // Its first event is new, its second was stored in dup-a: the event-id index refuses it.
        store.appendToStream('dup-c', [event('ThingCreated'), stored], { expectedRevision: 'no_stream' }),
        store.appendToStream('dup-d', [event('ThingCreated')], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'DuplicateEventIdError', eventId: stored.metadata.eventId });
      expect(await store.readStream('dup-c')).toEqual([]);
      expect((await store.readStream('dup-b')).length + (await store.readStream('dup-d')).length).toBe(2);
      expect(await store.headPosition()).toBe(3n);
    });

    it('answers an append only once it is committed: another connection reads it at once', async () => {
      const store = open();
      const other = open();
      const appended = await store.appendToStream('durable-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
      expect((await other.readStream('durable-1')).map((e) => e.position)).toEqual([appended.position]);
    });

    it('commits appends asked for just before close, and refuses those asked after', async () => {
      const file = join(dir, 'events.db');
      const store = new SqliteEventStore({ file });
      const pending = store.appendToStream('closing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
      await store.close();
      await expect(pending).resolves.toMatchObject({ appended: true });
      await expect(store.appendToStream('closing-1', [event('ThingRenamed')], { expectedRevision: 0 })).rejects.toThrow('closed');
      expect(await open().readStream('closing-1')).toHaveLength(1);
    });
  });

  it('works in memory', async () => {
    const store = new SqliteEventStore({ file: ':memory:' });
    stores.push(store);
    const result = await store.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    expect(result).toMatchObject({ appended: true, nextExpectedRevision: 0, position: 1n });
    expect(await store.headPosition()).toBe(1n);
  });

  it('refuses a second running subscription with the same name, and use after close', async () => {
    const store = open();
    store.subscribeToAll({ name: 'once', handler: async () => undefined });
    expect(() => store.subscribeToAll({ name: 'once', handler: async () => undefined })).toThrow(/already running/);
    await store.close();
    await expect(store.readAll()).rejects.toThrow(/closed/);
  });

  it('writes checkpoints past a long filtered-out stretch without handling anything', async () => {
    const store = open();
    const events = Array.from({ length: 50 }, () => event('Ignored'));
    const last = await store.appendToStream('thing-1', events, { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({
      name: 'sparse',
      batchSize: 7,
      filter: { eventTypes: ['Wanted'] },
      handler: async () => {
        throw new Error('nothing should match');
      },
    });
    await subscription.caughtUp();
    expect(subscription.checkpoint).toBe(last.position);
  });

  it("catches up at once with another process's appends when asked to, not at the next poll", async () => {
    // Two stores on one file stand for two processes; the follower would poll only once a minute.
    const writer = open();
    const follower = open({ pollIntervalMs: 60_000 });
    const seen: string[] = [];
    const subscription = follower.subscribeToAll({ name: 'tokens', startAfter: 0n, handler: async (e) => void seen.push(e.type) });
    await subscription.caughtUp();
    const { position } = await writer.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    const started = Date.now();
    // With no target, it asks the database for the log's head, as a reader's auth guard does per request.
    await subscription.caughtUp();
    expect(seen).toEqual(['ThingCreated']);
    expect(subscription.checkpoint).toBe(position);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});


/** `@mrw/<lib>` → its index.ts, from tsconfig.base.json. */
const workspaceAliases = (): Record<string, string> => {
  const root = join(__dirname, '../../../..');
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, [string]> };
  };
  return Object.fromEntries(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, join(root, target)]));
};

/**
 * Appends `rounds` times to one stream from a worker thread, each time expecting the
 * revision it last saw, so that threads collide. The worker loads the TypeScript adapter
 * through @swc/core, as jest does.
 */
function raceInWorker(file: string, worker: number, rounds: number): Promise<{ wins: number; unexpected: string[] }> {
  const source = `
    const { readFileSync } = require('node:fs');
    const { workerData, parentPort } = require('node:worker_threads');
    const { transformSync } = require(workerData.swc);
    require.extensions['.ts'] = (module, filename) => {
      const { code } = transformSync(readFileSync(filename, 'utf8'), {
        filename, swcrc: false, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
    // The workspace's path aliases (@mrw/...), as jest's moduleNameMapper resolves them.
    const Module = require('node:module');
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      return resolveFilename.call(this, workerData.aliases[request] ?? request, ...rest);
    };
    const { SqliteEventStore } = require(workerData.adapter);
    const { WrongExpectedRevisionError } = require(workerData.port);
    (async () => {
      const store = new SqliteEventStore({ file: workerData.file });
      let wins = 0;
      const unexpected = [];
      for (let round = 0; round < workerData.rounds; round++) {
        const [last] = await store.readStream('race-1', { direction: 'backwards', maxCount: 1 });
        const metadata = {
          eventId: workerData.worker + '-' + round, occurredAt: '2030-01-01T00:00:00.000Z',
          actor: { kind: 'service', id: 'race' }, correlationId: 'c', causationId: null, schemaVersion: 1,
        };
        try {
          await store.appendToStream('race-1', [{ type: 'Raced', data: { round }, metadata }], {
            expectedRevision: last === undefined ? 'no_stream' : last.revision,
          });
          wins++;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) unexpected.push(String(error));
        }
      }
      await store.close();
      parentPort.postMessage({ wins, unexpected });
    })().catch((error) => parentPort.postMessage({ wins: 0, unexpected: [String(error)] }));
  `;
  return new Promise((resolve, reject) => {
    const thread = new Worker(source, {
      eval: true,
      workerData: {
        file,
        worker,
        rounds,
        adapter: require.resolve('./sqlite-event-store.adapter.ts'),
        port: require.resolve('../event-store.port.ts'),
        swc: require.resolve('@swc/core'),
        aliases: workspaceAliases(),
      },
    });
    thread.once('message', resolve);
    thread.once('error', reject);
  });
}
