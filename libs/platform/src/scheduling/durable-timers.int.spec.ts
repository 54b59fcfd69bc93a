import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentError, TransientError } from '@mrw/resilience';
import type { Clock } from '../persistence/clock';
import { DurableTimers, type DueTimer, type DurableTimersOptions } from './durable-timers';

/** A clock that moves only when the test moves it. */
class TestClock implements Clock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const T0 = Date.parse('2025-03-01T09:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0 + offsetMs);

/** Resolves when `predicate` holds, checked after each handler run (no sleeping). */
const until = async (predicate: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
};

describe('DurableTimers', () => {
  let dir: string;
  let file: string;
  const open: DurableTimers[] = [];
  const timers = (clock: Clock, options: Partial<DurableTimersOptions> = {}): DurableTimers => {
    const scheduler = new DurableTimers({ file, clock, ...options });
    open.push(scheduler);
    return scheduler;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-timers-'));
    file = join(dir, 'svc-timers.sqlite');
  });

  afterEach(async () => {
    jest.useRealTimers();
    await Promise.all(open.splice(0).map((t) => t.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('sleeps until the due time and fires then, not before, with the payload', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    const fired: Array<{ timer: DueTimer; at: number }> = [];
    const scheduler = timers({ now: () => new Date() }).on('reminder', async (timer) => void fired.push({ timer, at: Date.now() }));
    scheduler.start();
    expect(scheduler.schedule('r-1', at(60_000), 'reminder', { approvalId: 'a-1' })).toBe('scheduled');

    await jest.advanceTimersByTimeAsync(59_999);
    expect(fired).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([
      {
        timer: expect.objectContaining({ id: 'r-1', kind: 'reminder', dueAt: at(60_000).toISOString(), payload: { approvalId: 'a-1' }, attempt: 1 }),
        at: T0 + 60_000,
      },
    ]);
    expect(scheduler.get('r-1')).toMatchObject({ status: 'fired', attempts: 1, settledAt: at(60_000).toISOString() });
  });

  it('re-arms for an earlier timer scheduled while it sleeps, and sleeps past setTimeout’s 24.8-day ceiling', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    const fired: string[] = [];
    const scheduler = timers({ now: () => new Date() }).on('k', async (timer) => void fired.push(timer.id));
    scheduler.start();
    const days = (n: number) => n * 86_400_000;
    scheduler.schedule('late', at(days(30)), 'k', null);
    scheduler.schedule('soon', at(1_000), 'k', null);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(['soon']);
    await jest.advanceTimersByTimeAsync(days(30) - 1_001);
    expect(fired).toEqual(['soon']);
    await jest.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['soon', 'late']);
  });

  it('is idempotent by id: the same due time changes nothing, another one moves the timer', async () => {
    const clock = new TestClock(T0);
    const fired: string[] = [];
    const scheduler = timers(clock).on('expiry', async (timer) => void fired.push(`${timer.id}@${timer.dueAt}`));
    scheduler.start();
    expect(scheduler.schedule('e-1', at(1_000), 'expiry', { n: 1 })).toBe('scheduled');
    expect(scheduler.schedule('e-1', at(1_000).toISOString(), 'expiry', { n: 2 })).toBe('unchanged');
    expect(scheduler.list()).toEqual([expect.objectContaining({ id: 'e-1', payload: { n: 1 }, status: 'pending' })]);

    clock.advance(1_000);
    await scheduler.wake();
    expect(fired).toEqual([`e-1@${at(1_000).toISOString()}`]);
    // A redelivered event schedules the fired timer again: it stays fired.
    expect(scheduler.schedule('e-1', at(1_000), 'expiry', { n: 1 })).toBe('unchanged');
    await scheduler.wake();
    expect(fired).toHaveLength(1);

    expect(scheduler.schedule('e-1', at(5_000), 'expiry', { n: 3 })).toBe('rescheduled');
    expect(scheduler.get('e-1')).toMatchObject({ status: 'pending', attempts: 0, payload: { n: 3 } });
    await scheduler.wake();
    expect(fired).toHaveLength(1);
    clock.advance(4_000);
    await scheduler.wake();
    expect(fired).toEqual([`e-1@${at(1_000).toISOString()}`, `e-1@${at(5_000).toISOString()}`]);
    expect(() => scheduler.schedule('e-1', at(5_000), 'reminder', null)).toThrow('timer e-1 is of kind expiry, not reminder');
  });

  it('does not fire a cancelled timer, and the same schedule does not revive it', async () => {
    const clock = new TestClock(T0);
    const fired: string[] = [];
    const scheduler = timers(clock).on('expiry', async (timer) => void fired.push(timer.id));
    scheduler.start();
    scheduler.schedule('keep', at(1_000), 'expiry', null);
    scheduler.schedule('drop', at(500), 'expiry', null);
    expect(scheduler.cancel('drop')).toBe(true);
    expect(scheduler.cancel('drop')).toBe(false);
    expect(scheduler.cancel('unknown')).toBe(false);
    expect(scheduler.schedule('drop', at(500), 'expiry', null)).toBe('unchanged');

    clock.advance(2_000);
    await scheduler.wake();
    expect(fired).toEqual(['keep']);
    expect(scheduler.get('drop')).toMatchObject({ status: 'cancelled', attempts: 0, settledAt: at(0).toISOString() });
    expect(scheduler.cancel('keep')).toBe(false);
    expect(scheduler.get('keep')?.status).toBe('fired');
  });

  it('records a run that its own effect cancelled as fired, and retries no failed run cancelled meanwhile', async () => {
    const clock = new TestClock(T0);
    const runs: string[] = [];
    let scheduler: DurableTimers | undefined;
    scheduler = timers(clock, { backoff: { initialMs: 1, maxMs: 2 } }).on('expiry', async (timer) => {
      runs.push(`${timer.id}#${timer.attempt}`);
      // As the approval's closing event does: it arrives while the handler that caused it runs.
      scheduler?.cancel(timer.id);
      if (timer.id === 'flaky') throw new TransientError('broker away');
    });
    scheduler.schedule('done', at(0), 'expiry', null);
    scheduler.schedule('flaky', at(0), 'expiry', null);
    scheduler.start();
    await until(() => runs.length === 2, 'both runs');
    await scheduler.wake();
    expect(runs).toEqual(['done#1', 'flaky#1']);
    expect(scheduler.get('done')).toMatchObject({ status: 'fired', attempts: 1 });
    expect(scheduler.get('flaky')).toMatchObject({ status: 'cancelled', attempts: 1 });
  });

  it('keeps its timers across a close and a reopen of the file', async () => {
    const clock = new TestClock(T0);
    const first = timers(clock);
    first.schedule('e-1', at(10_000), 'expiry', { approvalId: 'a-1' });
    first.schedule('e-2', at(20_000), 'expiry', { approvalId: 'a-2' });
    first.cancel('e-2');
    await first.close();

    const fired: DueTimer[] = [];
    const second = timers(clock).on('expiry', async (timer) => void fired.push(timer));
    second.start();
    expect(second.list().map((t) => [t.id, t.status])).toEqual([
      ['e-1', 'pending'],
      ['e-2', 'cancelled'],
    ]);
    clock.advance(10_000);
    await second.wake();
    expect(fired.map((t) => [t.id, t.payload])).toEqual([['e-1', { approvalId: 'a-1' }]]);
  });

  it('fires a timer that fell due while the process was down once, late, after the restart', async () => {
    const clock = new TestClock(T0);
    const before = timers(clock).on('expiry', async () => {
      throw new Error('must not fire before its due time');
    });
    before.start();
    before.schedule('e-1', at(60_000), 'expiry', null);
    await before.close();

    clock.advance(3_600_000); // the process was down past the due time
    const fired: DueTimer[] = [];
    const after = timers(clock).on('expiry', async (timer) => void fired.push(timer));
    after.start(); // no wake(): starting fires what is overdue
    await until(() => after.get('e-1')?.status === 'fired', 'the overdue timer');
    expect(fired.map((t) => [t.id, t.attempt])).toEqual([['e-1', 1]]);
    expect(after.get('e-1')).toMatchObject({ attempts: 1, settledAt: at(3_600_000).toISOString() });
    await after.close();

    const again = timers(clock).on('expiry', async (timer) => void fired.push(timer));
    again.start();
    await again.wake();
    expect(fired).toHaveLength(1);
  });

  it('fires again after a crash between the handler and marking it fired: at least once', async () => {
    const clock = new TestClock(T0);
    clock.advance(1_000);
    let release: () => void = () => undefined;
    const runs: number[] = [];
    // The first process runs the handler, then "dies" before the handler resolves.
    const crashed = timers(clock).on('expiry', async (timer) => {
      runs.push(timer.attempt);
      await new Promise<void>((resolve) => (release = resolve));
    });
    crashed.schedule('e-1', at(0), 'expiry', null);
    crashed.start();
    await until(() => runs.length === 1, 'the first run');

    const restarted = timers(clock).on('expiry', async (timer) => void runs.push(timer.attempt));
    restarted.start();
    await until(() => restarted.get('e-1')?.status === 'fired', 'the second run');
    expect(runs).toEqual([1, 2]);
    release();
    await crashed.close();
    expect(restarted.get('e-1')).toMatchObject({ status: 'fired', attempts: 2 });
  });

  it('retries a transient failure with backoff until it passes, without holding up other timers', async () => {
    const clock = new TestClock(T0);
    const runs: string[] = [];
    const scheduler = timers(clock, { backoff: { initialMs: 2, maxMs: 5 } }).on('expiry', async (timer) => {
      runs.push(`${timer.id}#${timer.attempt}`);
      if (timer.id === 'flaky' && timer.attempt < 4) throw new TransientError(`broker away (${timer.attempt})`);
    });
    scheduler.schedule('flaky', at(0), 'expiry', null);
    scheduler.schedule('steady', at(1), 'expiry', null);
    clock.advance(1);
    scheduler.start();
    await until(() => scheduler.get('steady')?.status === 'fired', 'the other timer');
    expect(runs.slice(0, 2)).toEqual(['flaky#1', 'steady#1']);
    await until(() => scheduler.get('flaky')?.status === 'fired', 'the flaky timer');
    expect(runs.filter((r) => r.startsWith('flaky'))).toEqual(['flaky#1', 'flaky#2', 'flaky#3', 'flaky#4']);
    expect(scheduler.get('flaky')).toMatchObject({ attempts: 4, lastError: null });
  });

  it('marks a timer failed with the reason on a permanent failure, and after a few unknown ones', async () => {
    const clock = new TestClock(T0);
    const runs: string[] = [];
    const scheduler = timers(clock, { backoff: { initialMs: 1, maxMs: 2 }, unknownAttempts: 3 }).on('expiry', async (timer) => {
      runs.push(`${timer.id}#${timer.attempt}`);
      if (timer.id === 'refused') throw new PermanentError('approval not found');
      throw new TypeError('payload.x is undefined');
    });
    scheduler.schedule('refused', at(0), 'expiry', null);
    scheduler.schedule('buggy', at(0), 'expiry', null);
    scheduler.start();
    await until(() => scheduler.list({ status: 'failed' }).length === 2, 'both timers to fail');
    expect(runs.filter((r) => r.startsWith('refused'))).toEqual(['refused#1']);
    expect(runs.filter((r) => r.startsWith('buggy'))).toEqual(['buggy#1', 'buggy#2', 'buggy#3']);
    expect(scheduler.list({ status: 'failed' })).toEqual([
      expect.objectContaining({ id: 'buggy', attempts: 3, lastError: 'TypeError: payload.x is undefined' }),
      expect.objectContaining({ id: 'refused', attempts: 1, lastError: 'PermanentError: approval not found' }),
    ]);
  });

  it('keeps a timer of a kind nobody handles pending until its handler is registered', async () => {
    const clock = new TestClock(T0);
    const scheduler = timers(clock);
    scheduler.start();
    scheduler.schedule('later', at(0), 'archival', { model: 'm' });
    await scheduler.wake();
    expect(scheduler.get('later')).toMatchObject({ status: 'pending', attempts: 0 });
    const fired: string[] = [];
    scheduler.on('archival', async (timer) => void fired.push(timer.id));
    await until(() => scheduler.get('later')?.status === 'fired', 'the timer once handled');
    expect(fired).toEqual(['later']);
  });

  it('stops without judging a run cut short by the shutdown: it fires again after the restart', async () => {
    const clock = new TestClock(T0);
    const started: number[] = [];
    const first = timers(clock).on('expiry', async (timer) => {
      started.push(timer.attempt);
      await new Promise((_, reject) => timer.signal.addEventListener('abort', () => reject(new DOMException('stopping', 'AbortError'))));
    });
    first.schedule('e-1', at(0), 'expiry', null);
    first.start();
    await until(() => started.length === 1, 'the run');
    await first.close();
    const second = timers(clock).on('expiry', async (timer) => void started.push(timer.attempt));
    expect(second.get('e-1')).toMatchObject({ status: 'pending', lastError: 'AbortError: stopping' });
    second.start();
    await until(() => second.get('e-1')?.status === 'fired', 'the run after the restart');
    expect(started).toEqual([1, 2]);
  });
});
