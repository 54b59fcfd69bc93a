import { backoffDelay } from '@mrw/resilience';

/** Capped exponential backoff with jitter, for reconnecting to a store that went away. */
export interface BackoffOptions {
  /** Delay before the first retry (ms). */
  readonly initialDelayMs: number;
  /** No delay is longer than this (ms). */
  readonly maxDelayMs: number;
  /** A number in [0, 1); `Math.random` unless a test pins it. */
  readonly random?: () => number;
}

/**
 * The delay before retry number `attempt` (1-based): `initialDelayMs · 2^(attempt-1)`, capped at
 * `maxDelayMs`, then scaled by a random factor in [0.5, 1] (the suite's one backoff, @mrw/resilience).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new RangeError(`backoff: invalid attempt ${attempt}`);
  return backoffDelay(attempt, {
    initialMs: options.initialDelayMs,
    maxMs: options.maxDelayMs,
    jitter: 0.5,
    ...(options.random ? { random: options.random } : {}),
  });
}

/** Checks backoff options once, where they are configured. */
export function validateBackoffOptions(options: BackoffOptions, owner: string): void {
  const { initialDelayMs, maxDelayMs } = options;
  if (!Number.isFinite(initialDelayMs) || initialDelayMs < 0 || !Number.isFinite(maxDelayMs) || maxDelayMs < initialDelayMs) {
    throw new RangeError(`${owner}: backoff needs 0 <= initialDelayMs <= maxDelayMs, got ${initialDelayMs} and ${maxDelayMs}`);
  }
}

/**
 * Waits `ms`, or less if `interrupt` settles first (e.g. a stop signal). The timer keeps the
 * process alive on purpose: a subscriber waiting to reconnect is still work in progress.
 */
export function sleepUnless(ms: number, interrupt: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([elapsed, interrupt.then(() => undefined)]).finally(() => clearTimeout(timer));
}
