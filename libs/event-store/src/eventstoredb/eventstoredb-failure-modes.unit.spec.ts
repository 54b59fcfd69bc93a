/**
 * The EventStoreDB adapter under the server's failure modes, played by `InMemoryEsdbClient`
 * (a stand-in for the client, NOT EventStoreDB): dropped and refused subscriptions, a node that
 * is not the leader, an unavailable server, access denied, tombstoned streams, appends over the
 * server's MaxAppendSize, and lost expected-version races.
 */
import { MAX_APPEND_BYTES, assertAppendFits } from '../encode-append';
import {
  EventStoreAccessDeniedError,
  EventStoreUnavailableError,
  EventTooLargeError,
  StreamDeletedError,
  WrongExpectedRevisionError,
  isTransientStoreError,
  type EventToAppend,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
  type SubscriptionStatus,
} from '../event-store.port';
import { testEvent, waitFor } from '../testing';
import { EventStoreDbEventStore, type EventStoreDbClientLike, type EventStoreDbEventStoreOptions } from './eventstoredb-event-store.adapter';
import { CHECKPOINT_STREAM_PREFIX, toStoreError } from './eventstoredb-mapping';
import { InMemoryEsdbClient, esdbErrors } from './testing/in-memory-esdb-client.fake';

const asClient = (fake: InMemoryEsdbClient): EventStoreDbClientLike => fake as unknown as EventStoreDbClientLike;
const numbered = (n: number) => testEvent('Counted', { n });
const numberOf = (event: RecordedEvent): number => (event.data as { n: number }).n;
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, index) => from + index);

describe('EventStoreDB adapter under server failures (in-memory client stand-in)', () => {
  let fake: InMemoryEsdbClient;
  let store: EventStoreDbEventStore;
  const subscriptions: Subscription[] = [];
  const stores: EventStoreDbEventStore[] = [];

  const open = (options: EventStoreDbEventStoreOptions = {}): EventStoreDbEventStore => {
    const opened = new EventStoreDbEventStore(asClient(fake), { reconnect: { initialDelayMs: 1, maxDelayMs: 4 }, ...options });
    stores.push(opened);
    return opened;
  };

  const appendNumbered = async (from: number, count: number): Promise<void> => {
    await store.appendToStream('counter-1', range(from, from + count).map(numbered), {
      expectedRevision: from === 0 ? 'no_stream' : from - 1,
    });
  };

  /** A subscription recording the numbers it handled, the errors it reported and every status it was seen in. */
  const recording = (name: string, overrides: Partial<SubscriptionOptions> = {}) => {
    const handled: number[] = [];
    const errors: unknown[] = [];
    const subscription = store.subscribeToAll({
      name,
      filter: { streamPrefixes: ['counter-'] },
      handler: async (event) => void handled.push(numberOf(event)),
      onError: (error) => errors.push(error),
      ...overrides,
    });
    subscriptions.push(subscription);
    return { subscription, handled, errors };
  };

  /** Until the server holds the subscription's call (caughtUp() on an empty log can resolve before that). */
  const subscribed = async (count = 1): Promise<void> => {
    for (let turn = 0; turn < 1_000 && fake.liveSubscriptions < count; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(fake.liveSubscriptions).toBe(count);
  };

  beforeEach(() => {
    fake = new InMemoryEsdbClient();
    fake.writeSystemEvent();
    store = open();
  });

  afterEach(async () => {
    for (const subscription of subscriptions.splice(0)) await subscription.stop();
    for (const opened of stores.splice(0)) await opened.close();
  });

  describe('subscriptions', () => {
    it('resumes a dropped subscription after its last handled event: every event once, in order, reconnecting → live', async () => {
      store = open({ reconnect: { initialDelayMs: 40, maxDelayMs: 40 } }); // long enough to watch `reconnecting`
      await appendNumbered(0, 5);
      const seen: SubscriptionStatus[] = [];
      let dropped = false;
      const handled: number[] = [];
      const subscription = store.subscribeToAll({
        name: 'resuming',
        filter: { streamPrefixes: ['counter-'] },
        handler: async (event) => {
          handled.push(numberOf(event));
          if (numberOf(event) === 1 && !dropped) {
            dropped = true;
            // The connection goes while 1 is being handled; 2–4 were on their way and are lost with it.
            fake.dropSubscriptions(esdbErrors.unavailable(), { losingBuffered: true });
          }
        },
      });
      subscriptions.push(subscription);
      const positions = (await store.readAll({ filter: { streamPrefixes: ['counter-'] } })).map((event) => event.position);

      await waitFor(() => subscription.status().state === 'reconnecting', 2_000, 'reconnecting');
      seen.push(subscription.status());
      await subscription.caughtUp();
      await waitFor(() => subscription.status().state === 'live', 2_000, 'live again');
      await appendNumbered(5, 2); // and it follows the log live afterwards
      await waitFor(() => handled.length >= 7, 2_000, 'live events handled');

      expect(handled).toEqual(range(0, 7));
      expect(seen[0]).toEqual({ state: 'reconnecting', detail: expect.stringMatching(/^EventStoreUnavailableError: .*UNAVAILABLE/), attempts: 1 });
      expect(subscription.status()).toEqual({ state: 'live' });
      // It went back to the server from the handled event's position (inclusive, skipped), not from the start.
      expect(fake.subscribedFrom).toHaveLength(2);
      expect(fake.subscribedFrom[1]).toEqual({ commit: positions[1], prepare: positions[1] });
    });

    it('delivers events buffered before the drop, then resumes without repeating them (handleBatch)', async () => {
      await appendNumbered(0, 6);
      const batches: number[][] = [];
      let dropped = false;
      const subscription = store.subscribeToAll({
        name: 'batches',
        filter: { streamPrefixes: ['counter-'] },
        batchSize: 2,
        handleBatch: async (events) => {
          batches.push(events.map(numberOf));
          if (!dropped) {
            dropped = true;
            fake.dropSubscriptions(); // the client still hands out what it had buffered
          }
        },
      });
      subscriptions.push(subscription);
      await subscription.caughtUp();
      await appendNumbered(6, 1);
      await waitFor(() => batches.flat().length >= 7, 2_000, 'the live event handled');

      expect(batches.flat()).toEqual(range(0, 7));
      expect(fake.subscribedFrom).toHaveLength(2);
    });

    it.each([
      ['unavailable', () => fake.dropSubscriptions(esdbErrors.unavailable())],
      ['not leader', () => fake.dropSubscriptions(esdbErrors.notLeader())],
      ['deadline exceeded', () => fake.dropSubscriptions(esdbErrors.deadlineExceeded())],
      ['an unknown gRPC error', () => fake.dropSubscriptions(esdbErrors.unknown())],
      ['the server ending the call', () => fake.endSubscriptions()],
    ])('resubscribes after %s and handles what was appended meanwhile', async (_what, drop) => {
      await appendNumbered(0, 2);
      const { subscription, handled, errors } = recording('resubscribing');
      await subscription.caughtUp();
      drop();
      await appendNumbered(2, 2);
      await waitFor(() => handled.length >= 4 && fake.liveSubscriptions === 1, 2_000, 'resubscribed and caught up');

      expect(handled).toEqual(range(0, 4));
      expect(errors).toEqual([]);
      expect(fake.subscribedFrom).toHaveLength(2);
      await waitFor(() => subscription.status().state === 'live', 2_000, 'live');
    });

    it('ends through onError when the server denies access, and does not resubscribe', async () => {
      await appendNumbered(0, 1);
      const { subscription, errors } = recording('denied');
      await subscription.caughtUp();
      fake.dropSubscriptions(esdbErrors.accessDenied());
      await waitFor(() => errors.length === 1, 2_000, 'onError');

      expect(errors[0]).toBeInstanceOf(EventStoreAccessDeniedError);
      expect(isTransientStoreError(errors[0])).toBe(false);
      expect(subscription.status()).toEqual({ state: 'failed', detail: expect.stringMatching(/^EventStoreAccessDeniedError: /) });
      await expect(subscription.caughtUp()).rejects.toBeInstanceOf(EventStoreAccessDeniedError);
      expect(fake.subscribedFrom).toHaveLength(1);
    });

    it('ends through onError when a resubscribe is refused with access denied, after a transient drop', async () => {
      const { subscription, errors } = recording('denied-later');
      await subscribed();
      fake.failNext('subscribeToAll', esdbErrors.accessDenied());
      fake.dropSubscriptions();
      await waitFor(() => errors.length === 1, 2_000, 'onError');

      expect(errors[0]).toBeInstanceOf(EventStoreAccessDeniedError);
      expect(subscription.status().state).toBe('failed');
      expect(fake.subscribedFrom).toHaveLength(2);
    });

    it('retries a checkpoint load the server could not answer instead of failing', async () => {
      await appendNumbered(0, 3);
      fake.failNext('readStream', esdbErrors.unavailable(), 2); // the checkpoint read, twice
      const { subscription, handled, errors } = recording('late-start');
      await waitFor(() => handled.length === 3, 2_000, 'handled after the server came back');
      await subscription.caughtUp();

      expect(handled).toEqual([0, 1, 2]);
      expect(errors).toEqual([]);
    });

    it('does not deliver a handled event again when its checkpoint write found the server away', async () => {
      await appendNumbered(0, 1);
      let failed = false;
      const handled: number[] = [];
      const subscription = store.subscribeToAll({
        name: 'checkpoint-lost',
        filter: { streamPrefixes: ['counter-'] },
        handler: async (event) => {
          handled.push(numberOf(event));
          if (!failed) {
            failed = true;
            fake.failNext('appendToStream', esdbErrors.unavailable()); // the checkpoint write that follows
          }
        },
      });
      subscriptions.push(subscription);
      await waitFor(() => fake.subscribedFrom.length === 2, 2_000, 'resubscribed');
      await subscription.caughtUp();
      await appendNumbered(1, 1);
      await waitFor(() => handled.length >= 2, 2_000, 'the next event handled');
      await subscription.stop();

      expect(handled).toEqual([0, 1]);
      const head = (await store.readAll({ filter: { streamPrefixes: ['counter-'] } })).at(-1);
      const checkpoint = await fake.readStream(`${CHECKPOINT_STREAM_PREFIX}checkpoint-lost`).toArray();
      expect(checkpoint.at(-1)?.event?.data).toEqual({ position: String(head?.position) });
    });

    it('keeps a handler error fatal: onError, failed, no resubscribe', async () => {
      await appendNumbered(0, 2);
      const failure = new Error('handler broke');
      const { subscription, errors } = recording('handler-error', {
        handler: async () => {
          throw failure;
        },
      });
      await waitFor(() => errors.length === 1, 2_000, 'onError');
      expect(errors).toEqual([failure]);
      expect(subscription.status()).toEqual({ state: 'failed', detail: 'Error: handler broke' });
      expect(fake.subscribedFrom).toHaveLength(1);
    });

    it('reports stopped after stop(), also while waiting to reconnect', async () => {
      store = open({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
      const { subscription } = recording('stopping');
      await subscribed();
      fake.dropSubscriptions();
      await waitFor(() => subscription.status().state === 'reconnecting', 2_000, 'reconnecting');
      const started = Date.now();
      await subscription.stop(); // does not sit out the minute of backoff
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(subscription.status()).toEqual({ state: 'stopped' });
    });
  });

  describe('subscription backoff (fake timers)', () => {
    // Timers are fake; setImmediate stays real so the stand-in's streams still flow.
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    const turns = async (count = 100): Promise<void> => {
      for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
    };

    it('backs off exponentially up to the cap while the server keeps refusing, counting attempts, then goes live', async () => {
      store = open({ reconnect: { initialDelayMs: 100, maxDelayMs: 400, random: () => 1 } });
      const { subscription, handled, errors } = recording('backing-off');
      await subscribed();
      fake.failNext('subscribeToAll', esdbErrors.unavailable(), 3);
      fake.dropSubscriptions();
      await turns();
      expect(subscription.status()).toMatchObject({ state: 'reconnecting', attempts: 1 });

      // Drop at t=0; resubscribes at 100 (refused), 300 (refused), 700 (refused), 1100 (accepted): 100, 200, 400, 400 capped.
      const subscribesAt = async (ms: number): Promise<number> => {
        await jest.advanceTimersByTimeAsync(ms);
        await turns();
        return fake.subscribedFrom.length;
      };
      expect(await subscribesAt(99)).toBe(1);
      expect(await subscribesAt(1)).toBe(2);
      expect(await subscribesAt(199)).toBe(2);
      expect(await subscribesAt(1)).toBe(3);
      expect(await subscribesAt(399)).toBe(3);
      expect(await subscribesAt(1)).toBe(4);
      expect(subscription.status()).toMatchObject({ state: 'reconnecting', attempts: 4 });
      expect(await subscribesAt(399)).toBe(4);
      expect(await subscribesAt(1)).toBe(5);

      expect(subscription.status()).toEqual({ state: 'live' });
      await appendNumbered(0, 1);
      await turns();
      expect(handled).toEqual([0]);
      expect(errors).toEqual([]);
    });
  });

  describe('subscription backoff when every resubscribe drops at once (fake timers)', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('keeps backing off although each new session re-sends the checkpoint event before dropping', async () => {
      store = open({ reconnect: { initialDelayMs: 100, maxDelayMs: 400, random: () => 1 } });
      await appendNumbered(0, 1);
      const { subscription, handled } = recording('flapping');
      await subscription.caughtUp();
      await subscribed();
      const turns = async (): Promise<void> => {
        for (let turn = 0; turn < 100; turn++) await new Promise((resolve) => setImmediate(resolve));
      };
      const delays: number[] = [];
      let last = Date.now();
      for (let drop = 0; drop < 4; drop++) {
        fake.dropSubscriptions(); // the session had received the event at its checkpoint again, nothing newer
        await turns();
        const before = fake.subscribedFrom.length;
        while (fake.subscribedFrom.length === before) {
          await jest.advanceTimersByTimeAsync(10);
          await turns();
        }
        delays.push(Date.now() - last);
        last = Date.now();
      }
      expect(delays).toEqual([100, 200, 400, 400]);
      expect(subscription.status()).toEqual({ state: 'live' });
      expect(handled).toEqual([0]);
    });
  });

  describe('appends', () => {
    it.each([
      ['unavailable', () => esdbErrors.unavailable(), 'unavailable'],
      ['deadline exceeded', () => esdbErrors.deadlineExceeded(), 'deadline-exceeded'],
    ])('maps %s to EventStoreUnavailableError, a transient error', async (_what, error, reason) => {
      fake.failNext('appendToStream', error());
      const failure = await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(EventStoreUnavailableError);
      expect(failure).toMatchObject({ reason, operation: 'append to thing-1' });
      expect(isTransientStoreError(failure)).toBe(true);
      // Retrying the same events is safe and appends them once.
      const retried = await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'no_stream' });
      expect(retried.appended).toBe(true);
    });

    it('retries on the leader the client was pointed to when a follower answers "not leader"', async () => {
      fake.failNext('appendToStream', esdbErrors.notLeader());
      const result = await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'no_stream' });
      expect(result).toMatchObject({ nextExpectedRevision: 0, appended: true });
      expect(fake.appendCalls).toBe(2);
      expect(await store.readStream('thing-1')).toHaveLength(1);
    });

    it('gives up with a transient EventStoreUnavailableError when no leader answers within appendAttempts', async () => {
      store = open({ appendAttempts: 3 });
      fake.failNext('appendToStream', esdbErrors.notLeader(), 3);
      const failure = await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(EventStoreUnavailableError);
      expect(failure).toMatchObject({ reason: 'not-leader' });
      expect(isTransientStoreError(failure)).toBe(true);
      expect(fake.appendCalls).toBe(3);
    });

    it.each([
      ['a denied gRPC call', () => esdbErrors.accessDenied()],
      ['a denied batch append', () => esdbErrors.appendAccessDenied()],
    ])('maps %s to EventStoreAccessDeniedError, a permanent error', async (_what, error) => {
      fake.failNext('appendToStream', error());
      const failure = await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'any' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(EventStoreAccessDeniedError);
      expect(isTransientStoreError(failure)).toBe(false);
    });

    it('maps a read the server could not answer to EventStoreUnavailableError', async () => {
      fake.failNext('readStream', esdbErrors.unavailable());
      await expect(store.readStream('thing-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      fake.failNext('readAll', esdbErrors.unavailable());
      await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      fake.failNext('readAll', esdbErrors.accessDenied());
      await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreAccessDeniedError);
    });

    it('fails readAt as a whole when one of its reads fails, mapped like any read', async () => {
      const appended = await store.appendToStream('thing-1', [testEvent('A'), testEvent('B'), testEvent('C')], { expectedRevision: 'no_stream' });
      const positions = (await store.readStream('thing-1')).map((event) => event.position);
      expect(positions).toHaveLength(3);
      fake.failNext('readAll', esdbErrors.unavailable());
      await expect(store.readAt(positions)).rejects.toBeInstanceOf(EventStoreUnavailableError);
      // Nothing was left behind: the same read answers once the server does.
      expect((await store.readAt(positions)).map((event) => event.position)).toEqual(positions);
      expect(positions.at(-1)).toBe(appended.position);
    });

    it('refuses reads and appends of a tombstoned stream with StreamDeletedError', async () => {
      await store.appendToStream('thing-1', [testEvent('A')], { expectedRevision: 'no_stream' });
      fake.tombstone('thing-1');
      const append = await store.appendToStream('thing-1', [testEvent('B')], { expectedRevision: 'any' }).catch((e: unknown) => e);
      expect(append).toBeInstanceOf(StreamDeletedError);
      expect(append).toMatchObject({ streamName: 'thing-1' });
      expect(isTransientStoreError(append)).toBe(false);
      await expect(store.readStream('thing-1')).rejects.toBeInstanceOf(StreamDeletedError);
      // The tombstone record is a system event: $all readers do not see it.
      expect((await store.readAll()).map((event) => event.type)).toEqual(['A']);
    });

    it('holds appends to what a 1 MiB server takes: the largest append our check lets through, the server accepts', async () => {
      const metadata = testEvent('Big').metadata;
      const big = (length: number): EventToAppend => ({ type: 'Big', data: { blob: 'x'.repeat(length) }, metadata });
      const fits = (length: number): boolean => {
        try {
          assertAppendFits('big-1', [big(length)]);
          return true;
        } catch {
          return false;
        }
      };
      let low = 0;
      let high = MAX_APPEND_BYTES;
      while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (fits(middle)) low = middle;
        else high = middle - 1;
      }
      const calls = fake.appendCalls;
      await expect(store.appendToStream('big-1', [big(low + 1)], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(EventTooLargeError);
      expect(fake.appendCalls).toBe(calls); // refused before the server was asked
      const accepted = await store.appendToStream('big-1', [big(low)], { expectedRevision: 'no_stream' });
      expect(accepted.appended).toBe(true); // the stand-in counts like the server: data + metadata (chain included) + 2 × type
    });

    it("maps the server's MaxAppendSize refusal to EventTooLargeError (a server configured below 1 MiB)", async () => {
      fake = new InMemoryEsdbClient({ maxAppendSize: 1_000 });
      store = open();
      const failure = await store
        .appendToStream('big-1', [testEvent('Big', { blob: 'x'.repeat(1_000) })], { expectedRevision: 'no_stream' })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(EventTooLargeError);
      expect((failure as Error).message).toMatch(/MaxAppendSize of 1000 bytes/);
      expect(isTransientStoreError(failure)).toBe(false);
      expect(await store.readStream('big-1')).toEqual([]);
    });

    it('turns a lost expected-version race on the server into WrongExpectedRevisionError with the actual revision', async () => {
      await store.appendToStream('race-1', [testEvent('Started')], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled([
        store.appendToStream('race-1', [testEvent('First')], { expectedRevision: 0 }),
        store.appendToStream('race-1', [testEvent('Second')], { expectedRevision: 0 }),
      ]);
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toBeInstanceOf(WrongExpectedRevisionError);
      expect(failures[0]).toMatchObject({ expected: 0, actual: 1 });
      // Both reached the server: the conflict was the server's answer, not our pre-read.
      expect(fake.appendCalls).toBe(3);
    });
  });

  describe('toStoreError', () => {
    it('maps the client errors by type and leaves the rest alone', () => {
      expect(toStoreError(esdbErrors.unavailable(), 'x')).toBeInstanceOf(EventStoreUnavailableError);
      expect(toStoreError(esdbErrors.notLeader(), 'x')).toMatchObject({ name: 'EventStoreUnavailableError', reason: 'not-leader' });
      expect(toStoreError(esdbErrors.accessDenied(), 'x')).toBeInstanceOf(EventStoreAccessDeniedError);
      expect(toStoreError(new Error('Failed to discover after 10 attempts.'), 'x')).toMatchObject({ reason: 'discovery-failed' });
      const unknown = esdbErrors.unknown();
      expect(toStoreError(unknown, 'x')).toBe(unknown);
      const ours = new TypeError('not JSON');
      expect(toStoreError(ours, 'x')).toBe(ours);
    });
  });
});

describe('isTransientStoreError', () => {
  it('recognises unavailable stores and SQLite busy, locked, I/O and full-disk errors, nothing else', () => {
    const sqlite = (code: string): Error => Object.assign(new Error(code), { code });
    expect(isTransientStoreError(new EventStoreUnavailableError('append to x-1', 'unavailable'))).toBe(true);
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL']) {
      expect(isTransientStoreError(sqlite(code))).toBe(true);
    }
    for (const error of [
      sqlite('SQLITE_CONSTRAINT_TRIGGER'),
      sqlite('SQLITE_CORRUPT'),
      new EventStoreAccessDeniedError('append to x-1'),
      new WrongExpectedRevisionError('x-1', 0, 1),
      new StreamDeletedError('x-1'),
      new Error('boom'),
      { code: 'SQLITE_BUSY' }, // not an Error
      undefined,
    ]) {
      expect(isTransientStoreError(error)).toBe(false);
    }
  });
});
