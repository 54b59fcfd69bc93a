import { backoffDelay, failureKind, PermanentError, retry, TransientError } from './index';

describe('failureKind', () => {
  it.each([
    [new TransientError('store unavailable'), 'transient'],
    [new PermanentError('refused'), 'permanent'],
    [Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'transient'],
    [Object.assign(new Error('disk'), { code: 'SQLITE_IOERR_WRITE' }), 'transient'],
    [Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }), 'transient'],
    [Object.assign(new Error('kafka'), { retriable: true }), 'transient'],
    [Object.assign(new Error('kafka'), { retriable: false }), 'unknown'],
    [new DOMException('timed out', 'TimeoutError'), 'transient'],
    [new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ETIMEDOUT' }) }), 'transient'],
    [new TypeError('x is undefined'), 'unknown'],
    ['a string', 'unknown'],
  ])('%s is %s', (error, kind) => {
    expect(failureKind(error)).toBe(kind);
  });

  it('lets an error mark itself permanent even when its cause is transient', () => {
    expect(failureKind(Object.assign(new PermanentError('refused'), { cause: new TransientError('x') }))).toBe('permanent');
  });
});

describe('backoffDelay', () => {
  const top = () => 1;
  it('grows exponentially from the first delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 10, 500].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 1_000, random: top }))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('draws each delay between (1 − jitter) and all of it', () => {
    expect(backoffDelay(1, { initialMs: 1_000, jitter: 0.5, random: () => 0 })).toBe(500);
    expect(backoffDelay(1, { initialMs: 1_000, jitter: 0.2, random: () => 0 })).toBe(800);
    expect(backoffDelay(1, { initialMs: 1_000, random: () => 0.5 })).toBe(750);
  });
});

describe('retry', () => {
  it('retries transient failures until the work succeeds, telling each retry', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 4) throw new TransientError(`down ${attempt}`);
        return attempt;
      },
      { backoff: { initialMs: 1, maxMs: 2 }, onRetry: (_, attempt) => void seen.push(attempt) },
    );
    expect(result).toBe(4);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('throws a failure that is not to be retried at once', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        throw new PermanentError('refused');
      }),
    ).rejects.toThrow('refused');
    expect(calls).toBe(1);
  });

  it('stops waiting when aborted and throws the last failure', async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw new TransientError('still down');
      },
      { backoff: { initialMs: 60_000 }, signal: controller.signal, onRetry: () => controller.abort() },
    );
    await expect(pending).rejects.toThrow('still down');
  });
});
