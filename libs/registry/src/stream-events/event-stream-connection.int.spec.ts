import { Writable } from 'node:stream';
import { SqliteEventStore } from '@mrw/event-store';
import { testEvent, waitFor } from '@mrw/event-store/testing';
import { EventStreamConnection } from './event-stream-connection';

/** A socket that takes one chunk and then holds every write until the test lets it go. */
class SlowClient extends Writable {
  readonly chunks: string[] = [];
  /** Writes asked for, taken or buffered: what the stream sent, whatever the client read. */
  writes = 0;
  private held: Array<() => void> = [];

  constructor() {
    super({ highWaterMark: 1, decodeStrings: false });
  }

  override write(chunk: any, encoding?: any, callback?: any): boolean {
    this.writes += 1;
    return super.write(chunk, encoding, callback);
  }

  override _write(chunk: string, _: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    this.held.push(done);
  }

  /** Lets every held write complete. */
  release(): void {
    this.held.splice(0).forEach((done) => done());
  }
}

describe('EventStreamConnection', () => {
  let store: SqliteEventStore;

  beforeEach(async () => {
    store = new SqliteEventStore({ file: ':memory:' });
    for (let i = 0; i < 5; i += 1) await store.appendToStream('modelVersion-churn@1', [testEvent('Tagged', { i })], { expectedRevision: 'any' });
  });

  afterEach(async () => {
    await store.close();
  });

  const connect = (client: SlowClient, onClosed = (): void => undefined, heartbeatMs = 60_000) =>
    new EventStreamConnection(client, { models: undefined, heartbeatMs, authorized: () => true, onClosed, onError: (error) => fail(error) });

  it('reads no further from the log while the client has not taken what was written', async () => {
    const client = new SlowClient();
    const connection = connect(client);
    connection.start(store, 0n);
    await waitFor(() => client.chunks.length === 1, 2_000, 'the first event written');
    // Nothing to await for "nothing more happens": give the subscription time it would use to run ahead.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.writes).toBe(1);

    for (let n = 2; n <= 5; n += 1) {
      client.release();
      await waitFor(() => client.chunks.length === n, 2_000, `event ${n} written`);
      expect(client.writes).toBe(n);
    }
    expect(client.chunks.map((c) => /^id: (\d+)\n/.exec(c)?.[1])).toEqual(['1', '2', '3', '4', '5']);
    client.release();
    await connection.close();
  });

  it('closes at once, without waiting for a drain that will not come, once its subscription has stopped', async () => {
    const client = new SlowClient();
    let closed = 0;
    const connection = connect(client, () => (closed += 1));
    connection.start(store, 0n);
    await waitFor(() => client.chunks.length === 1, 2_000, 'the first event written');
    await connection.close();
    await connection.close();
    expect(closed).toBe(1);
    expect(client.destroyed).toBe(true);
  });

  it('drops a client that reads nothing for four heartbeats', async () => {
    const client = new SlowClient();
    let closed = false;
    connect(client, () => (closed = true), 20).start(store, 0n);
    await waitFor(() => closed, 2_000, 'the stalled client dropped');
    expect(client.destroyed).toBe(true);
    expect(client.chunks).toHaveLength(1);
  });
});
