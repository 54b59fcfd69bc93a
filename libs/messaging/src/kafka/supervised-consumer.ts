import type { Consumer } from 'kafkajs';
import { retry } from '@mrw/resilience';

/** What a supervised consumer is told about the consumer it keeps running. */
export interface ConsumerSupervision {
  /** Runs one batch's handling: a consumer busy with a long batch fetches nothing meanwhile, and is not stalled. */
  batch<T>(work: () => Promise<T>): Promise<T>;
}

export interface SupervisedConsumerOptions {
  /** The consumer group, for the log. */
  readonly name: string;
  /** Creates a consumer, connects it, subscribes it and runs it; its batches go through `supervision.batch`. */
  readonly start: (supervision: ConsumerSupervision) => Promise<Consumer>;
  readonly log?: (level: 'warn' | 'error', message: string) => void;
  /**
   * How long a running consumer may go without starting a fetch, outside a batch, before it is
   * started again (ms, default 90 s). Longer than the group's rebalance timeout (60 s): a member
   * may wait that long in a rebalance for another member to finish its batch and rejoin.
   */
  readonly stalledAfterMs?: number;
  /** How often that is checked (ms, default 5 s). */
  readonly checkEveryMs?: number;
  /** The clock (tests pass their own). */
  readonly now?: () => number;
}

/** How long a stalled consumer's disconnect may take before it is abandoned (ms). */
const DISCONNECT_TIMEOUT_MS = 10_000;

/**
 * Keeps one kafkajs consumer running, because kafkajs does not always: it gives up on an error
 * it does not class as retriable (a CRASH event with `restart: false`), and after a broker
 * restart a consumer has been seen to stay in its group without fetching or saying a word. Both
 * leave a service deaf while it looks healthy.
 *
 * A running consumer starts a fetch at least every `maxWaitTime` (5 s), even with no partition
 * assigned, unless it is handling a batch. So a consumer that neither fetched for
 * `stalledAfterMs` nor is inside a batch is disconnected and replaced by a new one, as is one
 * kafkajs stopped for good; a start that fails is tried again with backoff until it works or
 * the consumer is stopped. Offsets are committed only after handling, so a replacement resumes
 * where the group's commits are, and handlers recognise anything handled twice.
 */
export class SupervisedConsumer {
  private consumer: Consumer | undefined;
  private lastSignOfLife: number;
  private batches = 0;
  private replacing: Promise<void> | undefined;
  /** Why the consumer is being replaced, while it is (for `/readyz`). */
  private replacingBecause: string | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly stalledAfterMs: number;
  private readonly supervision: ConsumerSupervision;
  private readonly abort = new AbortController();

  constructor(private readonly options: SupervisedConsumerOptions) {
    this.now = options.now ?? Date.now;
    this.stalledAfterMs = options.stalledAfterMs ?? 90_000;
    this.lastSignOfLife = this.now();
    this.supervision = {
      batch: async (work) => {
        this.batches += 1;
        try {
          return await work();
        } finally {
          this.batches -= 1;
          this.lastSignOfLife = this.now();
        }
      },
    };
  }

  /** Starts the first consumer; its failure is the caller's (nothing is supervised yet). */
  async start(): Promise<void> {
    this.watch(await this.options.start(this.supervision));
    this.timer = setInterval(() => this.check(), this.options.checkEveryMs ?? 5_000);
    this.timer.unref();
  }

  /** Replaces the consumer if it stalled; the timer calls this, tests may too. */
  check(): void {
    if (this.stopped || this.replacing || this.batches > 0) return;
    const silentMs = this.now() - this.lastSignOfLife;
    if (silentMs > this.stalledAfterMs) this.replace(`started no fetch for ${Math.round(silentMs / 1000)} s`);
  }

  /**
   * While a consumer is being replaced, `/readyz` says so, and stays ready: a process whose
   * consumers wait for Kafka still serves its HTTP API (the log is the outbox), as kafkajs's
   * own restarts never made it not ready either.
   */
  status(): { readonly ready: boolean; readonly detail?: string } {
    return this.replacingBecause === undefined ? { ready: true } : { ready: true, detail: `replacing the consumer, which ${this.replacingBecause}` };
  }

  /** Resolves once no replacement is under way (for tests). */
  async settled(): Promise<void> {
    await this.replacing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.abort.abort();
    await this.replacing;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private watch(consumer: Consumer): void {
    this.consumer = consumer;
    this.lastSignOfLife = this.now();
    this.batches = 0;
    consumer.on(consumer.events.FETCH_START, () => {
      if (this.consumer === consumer) this.lastSignOfLife = this.now();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // kafkajs restarts the consumer itself after a retriable crash; after any other it has stopped for good.
      if (this.consumer === consumer && !event.payload.restart) this.replace(`was stopped by kafkajs: ${event.payload.error.message}`);
    });
  }

  private replace(reason: string): void {
    if (this.stopped || this.replacing) return;
    const { name, log } = this.options;
    log?.('warn', `consumer group ${name}: the consumer ${reason}; starting a new one`);
    const stalled = this.consumer;
    this.consumer = undefined;
    this.replacingBecause = reason;
    this.replacing = (async () => {
      if (stalled) await disconnectWithin(stalled, DISCONNECT_TIMEOUT_MS);
      const replacement = await retry(() => this.options.start(this.supervision), {
        shouldRetry: () => !this.stopped,
        backoff: { initialMs: 1_000, maxMs: 30_000 },
        onRetry: (error, attempt, delayMs) =>
          log?.('warn', `consumer group ${name}: starting a new consumer failed (attempt ${attempt}, next in ${delayMs} ms): ${(error as Error).message}`),
        signal: this.abort.signal,
      }).catch(() => undefined);
      if (replacement === undefined) return;
      if (this.stopped) await replacement.disconnect();
      else this.watch(replacement);
    })().finally(() => {
      this.replacing = undefined;
      this.replacingBecause = undefined;
    });
  }
}

/** Disconnects, giving up after `ms`: a stalled consumer may not answer its disconnect either. */
const disconnectWithin = async (consumer: Consumer, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    consumer.disconnect().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
};
