/**
 * The adapter's own logic, run against `InMemoryEsdbClient`, a stand-in for the client that
 * is NOT EventStoreDB (see that file). The real server is exercised by
 * `eventstoredb-event-store.int.spec.ts`, where one is reachable.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { describeEventStoreConformance, waitFor, testEvent } from '../testing';
import { MaxAppendSizeExceededError, StreamDeletedError as EsdbStreamDeletedError } from '@eventstore/db-client';
import { EventTooLargeError, StreamDeletedError, WrongExpectedRevisionError, type EventToAppend, type RecordedEvent } from '../event-store.port';
import { verifyChain } from '../hash-chain';
import { EventStoreDbEventStore, openEventStoreDb, type EventStoreDbClientLike } from './eventstoredb-event-store.adapter';
import { CHECKPOINT_STREAM_PREFIX, commitPositionOf } from './eventstoredb-mapping';
import { InMemoryEsdbClient } from './testing/in-memory-esdb-client.fake';

const event = (type: string, data: unknown = {}): EventToAppend => testEvent(type, data);

const asClient = (fake: InMemoryEsdbClient): EventStoreDbClientLike => fake as unknown as EventStoreDbClientLike;

describeEventStoreConformance('EventStoreDB adapter on an in-memory client stand-in (not a server)', async () => {
  const fake = new InMemoryEsdbClient();
  fake.writeSystemEvent(); // a real log starts with server events
  return {
    // A small page size so paging through $all is exercised.
    store: new EventStoreDbEventStore(asClient(fake), { pageSize: 3 }),
    reopen: async () => {
      // Same "server", new client: the stand-in outlives the disposal of the first store.
      fake.disposed = false;
      return new EventStoreDbEventStore(asClient(fake), { pageSize: 3 });
    },
    cleanup: async () => undefined,
  };
}, { detectsCrossStreamDuplicateIds: false, caughtUpToAGivenPosition: false });

describe('EventStoreDbEventStore (adapter logic, in-memory client stand-in)', () => {
  let fake: InMemoryEsdbClient;
  let store: EventStoreDbEventStore;

  beforeEach(() => {
    fake = new InMemoryEsdbClient();
    store = new EventStoreDbEventStore(asClient(fake), { pageSize: 2 });
  });

  afterEach(async () => {
    await store.close();
  });

  /** thing-1's one event among a server event and a stopped subscription's checkpoint stream (mrwCheckpoint-everything). */
  const thingAmongServerRecords = async () => {
    const thing = await store.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    fake.writeSystemEvent();
    const subscription = store.subscribeToAll({ name: 'everything', handler: async () => undefined });
    await subscription.caughtUp();
    await subscription.stop(); // writes its checkpoint
    return thing;
  };

  it('leaves system events and checkpoint streams out of readAll, headPosition and subscriptions', async () => {
    const first = await thingAmongServerRecords();
    fake.writeSystemEvent();

    expect(await store.headPosition()).toBe(first.position);
    const all = await store.readAll();
    expect(all.map((e) => e.streamName)).toEqual(['thing-1']);
    const checkpoints = await fake.readStream(`${CHECKPOINT_STREAM_PREFIX}everything`).toArray();
    expect(checkpoints.map((r) => r.event?.data)).toEqual([{ position: String(first.position) }]);

    const handled: RecordedEvent[] = [];
    const again = store.subscribeToAll({ name: 'again', handler: async (e) => void handled.push(e) });
    await again.caughtUp();
    expect(handled.map((e) => e.streamName)).toEqual(['thing-1']);
  });

  it('leaves out of readAt a position that holds a server event or a checkpoint, not an application event', async () => {
    const thing = await thingAmongServerRecords();
    const others = (await fake.readAll().toArray())
      .flatMap((resolved) => (resolved.event && resolved.event.streamId !== 'thing-1' ? [commitPositionOf(resolved.event)] : []));
    // The server event and the checkpoint stream's metadata and event.
    expect(others).toHaveLength(3);
    const at = await store.readAt([...others, thing.position]);
    expect(at.map((e) => [e.streamName, e.position])).toEqual([['thing-1', thing.position]]);
    expect(await store.readAt(others)).toEqual([]);
  });

  it('keeps one checkpoint event per subscription ($maxCount=1 set once, when the stream is created)', async () => {
    await store.appendToStream('thing-1', [event('A'), event('B'), event('C')], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({ name: 'counted', handler: async () => undefined });
    await subscription.caughtUp();
    await subscription.stop();
    expect(await fake.readStream(`${CHECKPOINT_STREAM_PREFIX}counted`).toArray()).toHaveLength(1);
    const metadata = (await fake.readAll().toArray()).filter((r) => r.event?.streamId === `$$${CHECKPOINT_STREAM_PREFIX}counted`);
    expect(metadata).toHaveLength(1);
  });

  it('chains concurrent `any` appends one after the other instead of forking the chain', async () => {
    await store.appendToStream('race-1', [event('Started')], { expectedRevision: 'no_stream' });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => store.appendToStream('race-1', [event('Raced')], { expectedRevision: 'any' })),
    );
    expect(results.map((r) => r.nextExpectedRevision).sort()).toEqual([1, 2, 3, 4]);
    const read = await store.readStream('race-1');
    expect(verifyChain(read)).toMatchObject({ valid: true, events: 5 });
  });

  it('gives up on `any` after appendAttempts lost races, with WrongExpectedRevisionError', async () => {
    const contested = new EventStoreDbEventStore(asClient(fake), { appendAttempts: 1 });
    await contested.appendToStream('race-1', [event('Started')], { expectedRevision: 'no_stream' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 3 }, () => contested.appendToStream('race-1', [event('Raced')], { expectedRevision: 'any' })),
    );
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toBeInstanceOf(WrongExpectedRevisionError);
    await contested.close();
  });

  it('refuses to chain onto a stream it did not write', async () => {
    await fake.appendToStream('foreign-1', { id: randomUUID(), contentType: 'application/json', type: 'X', data: {} });
    await expect(store.appendToStream('foreign-1', [event('Y')], { expectedRevision: 'any' })).rejects.toThrow(/hash chain/);
  });

  it('refuses system stream names, reserved types and non-UUID ids before touching the server', async () => {
    await expect(store.appendToStream('$settings', [event('A')], { expectedRevision: 'any' })).rejects.toThrow(/system stream/);
    await expect(store.appendToStream('mrwCheckpoint-x', [event('A')], { expectedRevision: 'any' })).rejects.toThrow(/reserved/);
    const bad = { ...event('A'), metadata: { ...event('A').metadata, eventId: 'not-a-uuid' } };
    await expect(store.appendToStream('thing-1', [bad], { expectedRevision: 'any' })).rejects.toThrow(/UUID/);
    expect(fake.appendCalls).toBe(0);
  });

  it("maps the server's refusals that input causes: MaxAppendSize → EventTooLargeError, a tombstone → StreamDeletedError", async () => {
    await store.appendToStream('thing-1', [event('ThingCreated')], { expectedRevision: 'no_stream' });
    const server = asClient(fake);
    const refusing = (error: Error): EventStoreDbClientLike => ({ ...server, appendToStream: async () => Promise.reject(error) });
    const small = new EventStoreDbEventStore(refusing(new MaxAppendSizeExceededError(undefined, 1000)));
    await expect(small.appendToStream('thing-1', [event('Noted')], { expectedRevision: 'any' })).rejects.toBeInstanceOf(EventTooLargeError);
    const deleted = new EventStoreDbEventStore(refusing(new EsdbStreamDeletedError(undefined, 'thing-1')));
    await expect(deleted.appendToStream('thing-1', [event('Noted')], { expectedRevision: 'any' })).rejects.toBeInstanceOf(StreamDeletedError);
    const tombstoned = new EventStoreDbEventStore({
      ...server,
      readStream: () => {
        throw new EsdbStreamDeletedError(undefined, 'thing-1');
      },
    } as EventStoreDbClientLike);
    await expect(tombstoned.readStream('thing-1')).rejects.toBeInstanceOf(StreamDeletedError);
    await Promise.all([small.close(), deleted.close(), tombstoned.close()]);
  });

  it('stops without waiting for the server when the subscription is idle', async () => {
    const subscription = store.subscribeToAll({ name: 'idle', handler: async () => undefined });
    await subscription.caughtUp();
    await subscription.stop(); // the stand-in, like a cancelled gRPC call, never ends the stream
  });

  it('a subscription with startAfter keeps no checkpoint stream', async () => {
    await store.appendToStream('thing-1', [event('A'), event('B')], { expectedRevision: 'no_stream' });
    const handled: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ name: 'own', startAfter: 0n, handler: async (e) => void handled.push(e) });
    await waitFor(() => handled.length === 2, 2_000, 'both events handled');
    await subscription.stop();
    await expect(fake.readStream(`${CHECKPOINT_STREAM_PREFIX}own`).toArray()).rejects.toThrow(/not found/);
  });

  it('reports a failed checkpoint load through onError and rejects caughtUp', async () => {
    await fake.appendToStream(`${CHECKPOINT_STREAM_PREFIX}broken`, {
      id: randomUUID(),
      contentType: 'application/json',
      type: 'MrwCheckpointStored',
      data: { position: 'garbage' },
    });
    const errors: unknown[] = [];
    const subscription = store.subscribeToAll({ name: 'broken', handler: async () => undefined, onError: (e) => errors.push(e) });
    await expect(subscription.caughtUp()).rejects.toThrow(/unreadable checkpoint/);
    expect(errors).toHaveLength(1);
  });

  it('refuses use after close and disposes the client', async () => {
    await store.close();
    expect(fake.disposed).toBe(true);
    await expect(store.readAll()).rejects.toThrow(/closed/);
  });
});

describe('openEventStoreDb (real client, no server)', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('fails with a message naming the connection string, password hidden, when nothing listens', async () => {
    // A port that was free a moment ago: connections are refused on loopback.
    const port = await freePort();
    await expect(openEventStoreDb(`esdb://admin:secret@127.0.0.1:${port}?tls=false`, { connectTimeoutMs: 3_000 })).rejects.toThrow(
      new RegExp(`EventStoreDB at esdb://admin:\\*\\*\\*@127\\.0\\.0\\.1:${port}\\?tls=false is not usable`),
    );
  });

  it('gives up after connectTimeoutMs when the server accepts but never answers', async () => {
    server = createServer((socket) => void sockets.add(socket)); // accepts TCP, never speaks HTTP/2
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const started = Date.now();
    await expect(openEventStoreDb(`esdb://127.0.0.1:${port}?tls=false`, { connectTimeoutMs: 500 })).rejects.toThrow(
      /EventStoreDB at esdb:\/\/127\.0\.0\.1:\d+\?tls=false is not usable/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails clearly on a connection string the client cannot parse', async () => {
    await expect(openEventStoreDb('http://localhost:2113')).rejects.toThrow(/invalid connection string http:\/\/localhost:2113/);
  });
});


async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
