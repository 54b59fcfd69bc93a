import { escapeIdentifier, type Client } from 'pg';
import { loggerFor } from '@mrw/logging';
import {
  isTransientStoreError,
  type EventFilter,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
  type SubscriptionStatus,
} from '../event-store.port';
import { backoffDelayMs, sleepUnless, type BackoffOptions } from '../backoff';
import { CaughtUpWaiters, reportSubscriptionFailure, validateSubscriptionOptions } from '../subscription-support';
import { describeError, toPostgresStoreError } from './postgres-errors';

const log = loggerFor('event-store');

/** What the listening connection tells the subscriptions of its store. */
export interface ListenerMember {
  /** A transaction committed; every position up to `head` is visible. */
  notified(head: bigint): void;
  /** LISTEN is in force again after a loss: what was committed meanwhile must be read. */
  listening(): void;
  /** The connection is gone: nothing will be notified until `listening`. */
  lost(): void;
}

/**
 * The one LISTEN connection of a store, shared by its subscriptions: a subscription per SSE
 * client must not cost a server connection each. It reconnects on its own, with backoff.
 */
export class AppendListener {
  private state: 'idle' | 'connecting' | 'listening' | 'lost' | 'closed' = 'idle';
  private readonly members = new Set<ListenerMember>();
  private client: Client | undefined;
  private loop: Promise<void> = Promise.resolve();
  /** Losses in a row, each without a session in between that lasted; drives the backoff. */
  private failures = 0;
  private lastError: string | undefined;
  /** Counts LISTEN sessions: a subscription that saw it change may have missed notifications. */
  private sessions = 0;
  private waiters: Array<() => void> = [];
  private signalClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => (this.signalClosed = resolve));

  constructor(
    private readonly connect: () => Client,
    private readonly channel: string,
    private readonly reconnect: BackoffOptions,
  ) {}

  join(member: ListenerMember): void {
    this.members.add(member);
    if (this.state === 'idle') {
      this.state = 'connecting';
      this.loop = this.run();
    }
  }

  leave(member: ListenerMember): void {
    this.members.delete(member);
  }

  /** The current LISTEN session's number, while it lasts; undefined while not listening. */
  session(): number | undefined {
    return this.state === 'listening' ? this.sessions : undefined;
  }

  /** Why and for how long it has been trying, while it has lost the server; undefined otherwise. */
  trouble(): { readonly attempts: number; readonly detail: string } | undefined {
    if (this.state === 'listening' || this.failures === 0) return undefined;
    return { attempts: this.failures, detail: this.lastError ?? 'reconnecting' };
  }

  /** Resolves once LISTEN is in force, or `interrupt` settles. */
  whenListening(interrupt: Promise<unknown>): Promise<void> {
    if (this.state === 'listening') return Promise.resolve();
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    return Promise.race([ready, interrupt.then(() => undefined)]);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasIdle = this.state === 'idle';
    this.state = 'closed';
    this.signalClosed();
    if (!wasIdle) await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed()) {
      const started = Date.now();
      const client = this.connect();
      // Reported by `lost`; without a listener an 'error' event would crash the process.
      const lost = new Promise<unknown>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('the listening connection ended')));
      });
      client.on('notification', (message) => this.deliver(message.payload));
      try {
        await Promise.race([client.connect(), lost.then((error) => Promise.reject(error))]);
        await Promise.race([client.query(`LISTEN ${escapeIdentifier(this.channel)}`), lost.then((error) => Promise.reject(error))]);
        if (this.closed()) break;
        this.client = client;
        this.state = 'listening';
        this.sessions += 1;
        this.lastError = undefined;
        for (const resolve of this.waiters.splice(0)) resolve();
        for (const member of this.members) member.listening();
        const reason = await Promise.race([lost, this.closedSignal.then(() => undefined)]);
        if (this.closed()) break;
        throw reason;
      } catch (error) {
        this.client = undefined;
        await client.end().catch(() => undefined);
        if (this.closed()) break;
        // A session that lasted longer than the longest backoff was a recovery: start over.
        if (Date.now() - started >= this.reconnect.maxDelayMs) this.failures = 0;
        this.failures += 1;
        this.lastError = describeError(toPostgresStoreError(error, 'listening for appends'));
        this.state = 'lost';
        for (const member of this.members) member.lost();
        const delayMs = backoffDelayMs(this.failures, this.reconnect);
        log.warn(
          { err: error, attempt: this.failures, delayMs },
          `event-store: the PostgreSQL listening connection failed (${this.lastError}); reconnecting in ${delayMs} ms`,
        );
        await sleepUnless(delayMs, this.closedSignal);
      }
    }
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Read through a method: `close()` changes the state while `run` awaits. */
  private closed(): boolean {
    return this.state === 'closed';
  }

  private deliver(payload: string | undefined): void {
    let head: bigint;
    try {
      head = BigInt(payload ?? '');
    } catch {
      return; // not one of ours
    }
    for (const member of this.members) member.notified(head);
  }
}

/** What a subscription needs from its store; kept off the store's public API. */
export interface SubscriptionHost {
  head(): Promise<bigint>;
  read(after: bigint, upTo: bigint, limit: number, filter: EventFilter | undefined): Promise<RecordedEvent[]>;
  loadCheckpoint(name: string): Promise<bigint | undefined>;
  saveCheckpoint(name: string, position: bigint): void;
  flushCheckpoints(): Promise<void>;
  readonly listener: AppendListener;
  readonly reconnect: BackoffOptions;
  isClosed(): boolean;
  finished(subscription: PostgresSubscription): void;
}

/**
 * A catch-up subscription: reads `(position, head]` in batches, then sleeps until a
 * notification names a higher head. Positions are gap-free and visible in order (see the
 * store), so reading up to a head it was told about never skips an event that commits later.
 */
export class PostgresSubscription implements Subscription, ListenerMember {
  readonly name: string;
  private position: bigint | undefined;
  /** The highest head a notification (or this store's own commit) announced. */
  private announced = 0n;
  private stopping = false;
  private failure: unknown = undefined;
  private finished = false;
  private live = false;
  /** Reads or checkpoint loads that failed in a row (the server unreachable): waiting it out. */
  private failures = 0;
  private lastFailure: string | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly waiters = new CaughtUpWaiters();
  private wakeUp: (() => void) | undefined;
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));

  constructor(
    private readonly host: SubscriptionHost,
    private readonly options: SubscriptionOptions,
  ) {
    this.name = options.name;
    validateSubscriptionOptions(options);
    if (options.startAfter !== undefined && options.startAfter < 0n) {
      throw new RangeError(`subscription ${options.name}: invalid startAfter ${options.startAfter}`);
    }
  }

  get checkpoint(): bigint | undefined {
    return this.position;
  }

  status(): SubscriptionStatus {
    if (this.failure !== undefined) return { state: 'failed', detail: describeError(this.failure) };
    if (this.stopping || this.finished) return { state: 'stopped' };
    if (this.failures > 0) return { state: 'reconnecting', attempts: this.failures, detail: this.lastFailure ?? 'reconnecting' };
    const trouble = this.host.listener.trouble();
    if (trouble !== undefined) return { state: 'reconnecting', ...trouble };
    return { state: this.live ? 'live' : 'catching-up' };
  }

  start(): void {
    // Deferred so no handler runs before subscribeToAll has returned the subscription.
    this.loop = Promise.resolve()
      .then(() => this.run())
      .finally(() => {
        this.finished = true;
        this.host.finished(this);
        this.waiters.rejectAll(this.failure ?? new Error(`subscription ${this.name} stopped before catching up`));
      });
  }

  /** Resolves once every event in the log when it was called (or up to `upTo`) is handled (or passed over by the filter). */
  async caughtUp(upTo?: bigint): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.host.isClosed() && this.finished) throw new Error(`subscription ${this.name}: the store is closed`);
    const target = upTo ?? (await this.host.head());
    if (this.failure !== undefined) throw this.failure;
    if ((this.position ?? 0n) >= target) return;
    if (this.finished || this.stopping) throw new Error(`subscription ${this.name} is stopped`);
    return this.waiters.wait(target);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.wake();
    await this.loop;
    if (this.options.startAfter === undefined) await this.host.flushCheckpoints();
  }

  notified(head: bigint): void {
    if (head <= this.announced) return;
    this.announced = head;
    this.wake();
  }

  listening(): void {
    this.wake();
  }

  lost(): void {
    this.live = false;
    this.wake();
  }

  private wake(): void {
    this.wakeUp?.();
  }

  /**
   * Sessions until stopped or failed for good. A session waits for LISTEN to be in force, reads
   * the head (anything committed later is notified), catches up to it, then follows
   * notifications. A lost listening connection ends the session; a failed read is retried with
   * backoff. Either way the next session starts after the last handled event: nothing is
   * skipped and nothing handled is delivered again. Handler errors and permanent store errors
   * end the subscription.
   */
  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    let loaded = false;
    while (!this.stopping) {
      try {
        if (!loaded) {
          this.position = this.options.startAfter ?? (await this.host.loadCheckpoint(this.name));
          loaded = true;
          if (this.position !== undefined) this.waiters.reached(this.position);
        }
        await this.host.listener.whenListening(this.stopped);
        const session = this.host.listener.session();
        if (this.stopping || session === undefined) continue;
        this.live = false;
        let target = await this.host.head();
        this.failures = 0;
        for (;;) {
          if (this.stopping) return;
          const after = this.position ?? 0n;
          if (after >= target) {
            this.live = true;
            if (this.announced > after) {
              target = this.announced;
              continue;
            }
            // Lost (or replaced) LISTEN session: notifications may have been missed; start a new session.
            if (this.host.listener.session() !== session) break;
            await this.idle();
            continue;
          }
          const events = await this.host.read(after, target, batchSize, this.options.filter);
          if (!(await this.handle(events))) return;
          if (events.length < batchSize) this.advance(target);
        }
      } catch (error) {
        if (this.stopping) return;
        const mapped = toPostgresStoreError(error, `subscription ${this.name}`);
        if (!isTransientStoreError(mapped)) {
          this.fail(mapped);
          return;
        }
        this.failures += 1;
        this.lastFailure = describeError(mapped);
        this.live = false;
        const delayMs = backoffDelayMs(this.failures, this.host.reconnect);
        log.warn(
          { err: mapped, subscription: this.name, attempt: this.failures, delayMs, position: this.position?.toString() },
          `event-store subscription ${this.name} lost the server (${this.lastFailure}); resubscribing after position ${this.position ?? 'start'} in ${delayMs} ms`,
        );
        await sleepUnless(delayMs, this.stopped);
      }
    }
  }

  /** Hands events to the handler(s); false when the subscription must end (stopped, or a handler failed). */
  private async handle(events: readonly RecordedEvent[]): Promise<boolean> {
    const { handler, handleBatch } = this.options;
    if (handleBatch && events.length > 0) {
      if (this.stopping) return false;
      try {
        await handleBatch(events);
      } catch (error) {
        this.fail(error);
        return false;
      }
      this.advance((events[events.length - 1] as RecordedEvent).position);
    }
    for (const event of events) {
      if (!handler) break;
      if (this.stopping) return false;
      try {
        await handler(event);
      } catch (error) {
        this.fail(error);
        return false;
      }
      this.advance(event.position);
    }
    return !this.stopping;
  }

  private advance(position: bigint): void {
    if (this.position !== undefined && position <= this.position) return;
    this.position = position;
    this.waiters.reached(position);
    // With `startAfter` the consumer keeps its own checkpoint; the store keeps none.
    if (this.options.startAfter === undefined) this.host.saveCheckpoint(this.name, position);
  }

  private fail(error: unknown): void {
    this.failure = error ?? new Error(`subscription ${this.name}: handler threw ${String(error)}`);
    this.stopping = true;
    this.signalStop();
    reportSubscriptionFailure(this.options, error);
  }

  /** Waits for a notification, a change of the listening connection, or stop: no timer, no query. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = () => {
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}
