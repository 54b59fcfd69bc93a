import { failureKind } from './failure-kind';

export interface BackoffOptions {
  /** The first delay (default 200 ms). */
  readonly initialMs?: number;
  /** The longest delay (default 30 s). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /**
   * Fraction of the delay drawn at random, so that many waiters cut off by one outage do not
   * all come back in the same millisecond: the delay is in `[base·(1−jitter), base]` (default 0.5).
   */
  readonly jitter?: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  readonly random?: () => number;
}

/** The wait before attempt `attempt + 1` after `attempt` failures: capped exponential backoff with jitter. */
export const backoffDelay = (attempt: number, options: BackoffOptions = {}): number => {
  const { initialMs = 200, maxMs = 30_000, factor = 2, jitter = 0.5, random = Math.random } = options;
  // The exponent is capped: 2^30 times any sane first delay is past every cap.
  const base = Math.min(maxMs, initialMs * factor ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(0, Math.round(base * (1 - jitter + jitter * random())));
};

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export interface RetryOptions {
  readonly backoff?: BackoffOptions;
  /** Whether to try again after this failure (default: transient failures, without limit). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Told of each failure that will be retried, with the wait before the next attempt. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>;
  /** Stops waiting: the last failure is thrown. */
  readonly signal?: AbortSignal;
}

/** Runs `work` until it succeeds or a failure is not to be retried, waiting with backoff between attempts. */
export const retry = async <T>(work: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> => {
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => failureKind(error) === 'transient');
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (options.signal?.aborted || !shouldRetry(error, attempt)) throw error;
      const delay = backoffDelay(attempt, options.backoff);
      await options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
};
