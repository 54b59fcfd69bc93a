import { backoffDelayMs, sleepUnless, validateBackoffOptions } from './backoff';

describe('backoffDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles from the initial delay and stops at the cap (no jitter at random = 1)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffDelayMs(attempt, { ...options, random: () => 1 }));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('jitters each delay down to half of it, never above', () => {
    expect(backoffDelayMs(3, { ...options, random: () => 0 })).toBe(200);
    expect(backoffDelayMs(3, { ...options, random: () => 0.5 })).toBe(300);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelayMs(4, options);
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it('refuses attempts below 1 and options with the cap below the initial delay', () => {
    expect(() => backoffDelayMs(0, options)).toThrow(RangeError);
    expect(() => validateBackoffOptions({ initialDelayMs: 10, maxDelayMs: 5 }, 'test')).toThrow(/initialDelayMs <= maxDelayMs/);
    expect(() => validateBackoffOptions({ initialDelayMs: -1, maxDelayMs: 5 }, 'test')).toThrow(RangeError);
    expect(() => validateBackoffOptions(options, 'test')).not.toThrow();
  });
});

describe('sleepUnless', () => {
  it('ends early when interrupted', async () => {
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    const started = Date.now();
    const sleeping = sleepUnless(60_000, interrupted);
    interrupt();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
