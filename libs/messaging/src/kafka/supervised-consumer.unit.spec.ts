import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { SupervisedConsumer, type ConsumerSupervision } from './supervised-consumer';

/** The part of a kafkajs consumer the supervisor uses: its instrumentation events and disconnect. */
class FakeConsumer extends EventEmitter {
  readonly events = { FETCH_START: 'consumer.fetch_start', CRASH: 'consumer.crash' };
  disconnected = false;
  constructor(private readonly hangOnDisconnect = false) {
    super();
  }
  fetchStarted(): void {
    this.emit(this.events.FETCH_START, { payload: { nodeId: 0 } });
  }
  crashed(restart: boolean): void {
    this.emit(this.events.CRASH, { payload: { error: new Error('The coordinator is not aware of this member'), groupId: 'g', restart } });
  }
  disconnect(): Promise<void> {
    this.disconnected = true;
    return this.hangOnDisconnect ? new Promise(() => undefined) : Promise.resolve();
  }
}

const supervise = (options: { failFirstStarts?: number; hangOnDisconnect?: boolean } = {}) => {
  let clock = 0;
  const started: FakeConsumer[] = [];
  const logs: string[] = [];
  let failures = options.failFirstStarts ?? 0;
  let supervision: ConsumerSupervision | undefined;
  const supervisor = new SupervisedConsumer({
    name: 'mrw-archival',
    stalledAfterMs: 60_000,
    checkEveryMs: 3_600_000, // the test calls check()
    now: () => clock,
    log: (_level, message) => logs.push(message),
    start: async (given) => {
      supervision = given;
      if (started.length > 0 && failures > 0) {
        failures -= 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
      }
      const consumer = new FakeConsumer(options.hangOnDisconnect && started.length === 0);
      started.push(consumer);
      return consumer as unknown as Consumer;
    },
  });
  return {
    supervisor,
    started,
    logs,
    latest: () => started[started.length - 1] as FakeConsumer,
    advance: (ms: number) => {
      clock += ms;
    },
    batch: <T>(work: () => Promise<T>) => (supervision as ConsumerSupervision).batch(work),
  };
};

describe('SupervisedConsumer', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves alone a consumer that keeps starting fetches', async () => {
    const s = supervise();
    await s.supervisor.start();
    for (let i = 0; i < 30; i += 1) {
      s.advance(5_000);
      s.latest().fetchStarted();
      s.supervisor.check();
    }
    expect(s.started).toHaveLength(1);
    expect(s.logs).toEqual([]);
    await s.supervisor.stop();
    expect(s.started[0]?.disconnected).toBe(true);
  });

  it('replaces a consumer that started no fetch for longer than allowed, saying so', async () => {
    const s = supervise();
    await s.supervisor.start();
    s.advance(60_000);
    s.supervisor.check();
    expect(s.started).toHaveLength(1);
    s.advance(1);
    s.supervisor.check();
    await s.supervisor.settled();
    expect(s.started).toHaveLength(2);
    expect(s.started[0]?.disconnected).toBe(true);
    expect(s.logs).toEqual(['consumer group mrw-archival: the consumer started no fetch for 60 s; starting a new one']);
    // The stalled one is forgotten: its late events do not count for the new one.
    s.advance(61_000);
    s.started[0]?.fetchStarted();
    s.supervisor.check();
    await s.supervisor.settled();
    expect(s.started).toHaveLength(3);
    await s.supervisor.stop();
  });

  it('does not count the time spent handling a batch as a stall', async () => {
    const s = supervise();
    await s.supervisor.start();
    let finish: () => void = () => undefined;
    const handling = s.batch(() => new Promise<void>((resolve) => (finish = resolve)));
    s.advance(10 * 60_000);
    s.supervisor.check();
    expect(s.started).toHaveLength(1);
    finish();
    await handling;
    s.advance(59_000);
    s.supervisor.check();
    expect(s.started).toHaveLength(1);
    await s.supervisor.stop();
  });

  it('replaces a consumer kafkajs stopped for good, and leaves one kafkajs restarts itself', async () => {
    const s = supervise();
    await s.supervisor.start();
    s.latest().crashed(true);
    await s.supervisor.settled();
    expect(s.started).toHaveLength(1);
    s.latest().crashed(false);
    await s.supervisor.settled();
    expect(s.started).toHaveLength(2);
    expect(s.logs[0]).toMatch(/was stopped by kafkajs: The coordinator is not aware of this member/);
    await s.supervisor.stop();
  });

  it('keeps trying to start a new consumer while the broker refuses, with backoff, and says so on /readyz meanwhile', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const s = supervise({ failFirstStarts: 3 });
    await s.supervisor.start();
    expect(s.supervisor.status()).toEqual({ ready: true });
    s.latest().crashed(false);
    expect(s.supervisor.status()).toEqual({
      ready: true,
      detail: 'replacing the consumer, which was stopped by kafkajs: The coordinator is not aware of this member',
    });
    await jest.advanceTimersByTimeAsync(60_000);
    await s.supervisor.settled();
    expect(s.started).toHaveLength(2);
    expect(s.logs.filter((line) => line.includes('ECONNREFUSED'))).toHaveLength(3);
    expect(s.supervisor.status()).toEqual({ ready: true });
    await s.supervisor.stop();
  });

  it('gives up on a stalled consumer that does not answer its disconnect, and stops cleanly while retrying', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const s = supervise({ hangOnDisconnect: true, failFirstStarts: 100 });
    await s.supervisor.start();
    s.advance(61_000);
    s.supervisor.check();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(s.started[0]?.disconnected).toBe(true);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(s.logs.some((line) => line.includes('starting a new consumer failed'))).toBe(true);
    await s.supervisor.stop();
    expect(s.started).toHaveLength(1);
  });
});
