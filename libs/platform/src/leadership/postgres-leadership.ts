import { createHash } from 'node:crypto';
import { Client, type ClientConfig } from 'pg';
import { loggerFor } from '@mrw/logging';
import { backoffDelay, sleep } from '@mrw/resilience';
import type { LeaderWork, Leadership, LeadershipState } from './leadership';

const log = loggerFor('leadership');

/** First key of the lease's advisory lock ('mrw' 3; the event store takes 'mrw' 1 and 2 for appends and migrations). */
export const LEASE_LOCK_CLASS = 0x6d727703;

/** The second key: one lease per schema and service, so suites in other schemas never wait for each other. */
export const leaseLockKey = (schema: string, lease: string): number => createHash('sha256').update(`${schema}:${lease}`).digest().readInt32BE(0);

export interface PostgresLeadershipOptions {
  readonly connectionString: string;
  /** The event store's schema: replicas of one suite share it, and so the lease. */
  readonly schema: string;
  /** What the lease is for, e.g. the service (`registry`). */
  readonly lease: string;
  /** How often the leader checks that its connection, and so its lock, still lives (ms, default 5 000). */
  readonly pingIntervalMs?: number;
  /** Waits before contending again after losing the server: capped exponential backoff (default 250 ms doubling to 5 s). */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * A lease held as a PostgreSQL session advisory lock on a connection of its own. A standby
 * waits inside `pg_advisory_lock` (no polling): the server grants it the moment the leader's
 * session ends — a clean shutdown, a crash or SIGKILL (the kernel closes the socket), a lost
 * network (TCP keepalive). The leader pings its connection; when it is lost, the lock is gone
 * with it, so the works stop at once and the process contends again.
 *
 * Two leaders can overlap only in the moment between the server dropping a session and the
 * leader noticing (at most a ping interval): what the works do is deduplicated downstream
 * (event ids, webhook ids), so an overlap repeats, never loses. Needs a session-level
 * connection: not through a transaction-pooling PgBouncer.
 */
export class PostgresLeadership implements Leadership {
  private current: LeadershipState = 'contending';
  private readonly works: LeaderWork[] = [];
  private readonly running = new Set<LeaderWork>();
  /** Starts and stops, one after another. */
  private transitions: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private client: Client | undefined;
  private readonly closing = new AbortController();
  private failures = 0;
  private lastError: string | undefined;
  private readonly key: number;
  private readonly pingIntervalMs: number;

  constructor(private readonly options: PostgresLeadershipOptions) {
    this.key = leaseLockKey(options.schema, options.lease);
    this.pingIntervalMs = options.pingIntervalMs ?? 5_000;
  }

  async run(work: LeaderWork): Promise<void> {
    if (this.closing.signal.aborted) throw new Error('leadership is closed');
    this.works.push(work);
    // The lease is asked for once there is work for it: a service with none holds no connection.
    this.loop ??= this.contend();
    if (this.current === 'leader') await this.serially(() => this.startPending());
  }

  state(): LeadershipState {
    return this.current;
  }

  /**
   * For `/readyz`: a leader and a standby are ready (a standby serves requests; the leader runs
   * the works); a process that cannot reach the server to contend is not. Without works, nothing to say.
   */
  readiness(): { ready: boolean; detail: string } {
    if (this.loop === undefined) return { ready: true, detail: 'no work needs the lease' };
    switch (this.current) {
      case 'leader':
        return { ready: true, detail: `leader of ${this.options.lease}: runs ${this.works.map((w) => w.name).join(', ')}` };
      case 'standby':
        return { ready: true, detail: `standby: another ${this.options.lease} process holds the lease` };
      case 'contending':
        return { ready: false, detail: this.lastError ? `contending for the lease after ${this.failures} failures: ${this.lastError}` : 'contending for the lease' };
      default:
        return { ready: false, detail: 'closed' };
    }
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    // A standby waiting inside pg_advisory_lock is woken by its connection ending.
    if (this.current !== 'leader') await this.client?.end().catch(() => undefined);
    await this.loop;
    this.current = 'closed';
  }

  private async contend(): Promise<void> {
    while (!this.closing.signal.aborted) {
      const started = Date.now();
      const client = new Client({
        connectionString: this.options.connectionString,
        application_name: `mrw-lease:${this.options.lease}`,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: 10_000,
      } satisfies ClientConfig);
      // Without a listener an 'error' event would crash the process; here it means the lock is gone.
      const lost = new Promise<Error>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('the lease connection ended')));
      });
      const orLost = <T>(work: Promise<T>): Promise<T> => Promise.race([work, lost.then((error) => Promise.reject(error))]);
      this.client = client;
      try {
        await orLost(client.connect());
        if (this.closing.signal.aborted) break;
        this.current = 'standby';
        await orLost(client.query('SELECT pg_advisory_lock($1, $2)', [LEASE_LOCK_CLASS, this.key]));
        if (this.closing.signal.aborted) break;
        this.current = 'leader';
        this.lastError = undefined;
        log.info(`this process now leads ${this.options.lease}`);
        await this.serially(() => this.startPending());
        const reason = await Promise.race([lost, this.pings(client), this.closed()]);
        if (this.closing.signal.aborted) break;
        throw reason;
      } catch (error) {
        const wasLeader = this.current === 'leader';
        this.current = 'contending';
        if (wasLeader) log.warn(`lost the lease of ${this.options.lease} (${describe(error)}): stopping ${this.works.map((w) => w.name).join(', ')}`);
        await this.serially(() => this.stopRunning());
        await client.end().catch(() => undefined);
        if (this.closing.signal.aborted) break;
        // A lease held longer than the longest backoff was a recovery: start the count over.
        if (Date.now() - started >= (this.options.reconnect?.maxMs ?? 5_000)) this.failures = 0;
        this.failures += 1;
        this.lastError = describe(error);
        await sleep(backoffDelay(this.failures, { initialMs: 250, maxMs: 5_000, ...this.options.reconnect }), this.closing.signal);
      }
    }
    // Closing: the works stop before the lock goes (with the connection), so a successor never overlaps them.
    await this.serially(() => this.stopRunning());
    await this.client?.end().catch(() => undefined);
  }

  /** Starts the works not running yet; one that fails gives the lease up. */
  private async startPending(): Promise<void> {
    for (const work of this.works) {
      if (this.running.has(work) || this.current !== 'leader') continue;
      try {
        await work.start();
        this.running.add(work);
      } catch (error) {
        log.error(`${work.name} could not start on becoming leader (${describe(error)}): giving the lease up`);
        // Ending the connection releases the lock; the contend loop stops what runs and tries again later.
        void this.client?.end().catch(() => undefined);
        return;
      }
    }
  }

  private async stopRunning(): Promise<void> {
    const running = [...this.running];
    this.running.clear();
    await Promise.all(
      running.map((work) => work.stop().catch((error: unknown) => log.error(`${work.name} did not stop cleanly: ${describe(error)}`))),
    );
  }

  /** Rejects-never: resolves with why the connection is no longer trusted (a failed or slow ping). */
  private async pings(client: Client): Promise<Error> {
    for (;;) {
      await sleep(this.pingIntervalMs, this.closing.signal);
      if (this.closing.signal.aborted) return new Error('closing');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<Error>((resolve) => {
        timer = setTimeout(() => resolve(new Error(`the lease connection did not answer a ping within ${this.pingIntervalMs} ms`)), this.pingIntervalMs);
      });
      const answered = client.query('SELECT 1').then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      );
      const outcome = await Promise.race([answered, timeout]);
      clearTimeout(timer);
      if (outcome) return outcome;
    }
  }

  private closed(): Promise<Error> {
    return new Promise((resolve) => {
      if (this.closing.signal.aborted) resolve(new Error('closing'));
      else this.closing.signal.addEventListener('abort', () => resolve(new Error('closing')), { once: true });
    });
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
