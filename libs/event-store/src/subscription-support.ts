import { loggerFor } from '@mrw/logging';
import type { SubscriptionOptions } from './event-store.port';

const log = loggerFor('event-store');

/** Checks what every adapter requires of subscription options; throws with the subscription's name. */
export const validateSubscriptionOptions = (options: SubscriptionOptions): void => {
  if (options.batchSize !== undefined && (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1)) {
    throw new RangeError(`subscription ${options.name}: invalid batchSize ${options.batchSize}`);
  }
  if ((options.handler === undefined) === (options.handleBatch === undefined)) {
    throw new TypeError(`subscription ${options.name}: give exactly one of handler and handleBatch`);
  }
};

/** Tells the subscriber that its subscription stopped on an error: `onError`, else the log. */
export const reportSubscriptionFailure = (options: SubscriptionOptions, error: unknown): void => {
  if (options.onError) {
    try {
      options.onError(error);
    } catch {
      // onError is a reporting hook; its own failure must not hide the original error.
    }
  } else {
    // A stopped projection must not go unnoticed when nobody listens for errors.
    log.error({ err: error, subscription: options.name }, `event-store subscription ${options.name} stopped`);
  }
};

/**
 * Promises waiting for a position in the log, settled as the position moves: a subscription's
 * `caughtUp()`, or a reader waiting for a projection to include an event.
 */
export class CaughtUpWaiters {
  private waiters: Array<{ target: bigint; resolve: () => void; reject: (error: unknown) => void }> = [];

  /** Whether anyone is waiting. */
  get pending(): boolean {
    return this.waiters.length > 0;
  }

  wait(target: bigint): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  /** Resolves every waiter whose target the position has reached. */
  reached(position: bigint): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.target > position) return true;
      waiter.resolve();
      return false;
    });
  }

  rejectAll(reason: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }
}
