import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { loggerFor } from '@mrw/logging';
import { backoffDelay, failureKind, type BackoffOptions } from '@mrw/resilience';
import type { Clock } from '../persistence/clock';
import { openWorkingDatabase } from '../persistence/working-database';

/** Where a timer stands: waiting, done, given up on, or called off. */
export type TimerState = 'pending' | 'fired' | 'failed' | 'cancelled';

/** A timer as the scheduler keeps it (`list()`, `get()`): what an operator sees. */
export interface TimerStatus {
  readonly id: string;
  readonly kind: string;
  /** When it is due (ISO 8601), by the injected clock. */
  readonly dueAt: string;
  readonly payload: unknown;
  readonly status: TimerState;
  /** Handler runs started, counted before each run: a run cut short by a crash counts too. */
  readonly attempts: number;
  /** Why the last run failed (a retry is pending) or why the timer was given up on. */
  readonly lastError: string | null;
  readonly scheduledAt: string;
  /** When it fired, failed for good or was cancelled. */
  readonly settledAt: string | null;
}

/** What a handler is given when its timer is due. */
export interface DueTimer<P = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly dueAt: string;
  readonly payload: P;
  /** 1 for the first run; more after failures or a crash mid-run. */
  readonly attempt: number;
  /** Aborted when the scheduler stops: a long handler should give up (its timer fires again after the restart). */
  readonly signal: AbortSignal;
}

/** Runs a due timer. It may run more than once for one timer (at least once), so its effect must be idempotent. */
export type TimerHandler<P = unknown> = (timer: DueTimer<P>) => Promise<void>;

/** How `schedule` found the timer: new, already there with this due time, or moved to a new one. */
export type ScheduleOutcome = 'scheduled' | 'unchanged' | 'rescheduled';

export interface DurableTimersOptions {
  /** The owning service's SQLite file, e.g. `<dataDir>/approvals-timers.sqlite`. */
  readonly file: string;
  /** What "now" is: due times are judged by it, so tests move time by moving the clock. */
  readonly clock: Clock;
  /** Waits between runs of a failing handler (default: 200 ms doubling to 30 s, as the bus's delivery). */
  readonly backoff?: BackoffOptions;
  /** Runs a failure of unknown kind (probably a bug) gets before the timer is marked failed (default 5, as the bus's delivery). */
  readonly unknownAttempts?: number;
  /**
   * The longest the scheduler sleeps without reading the clock again (default 5 minutes), so
   * a wall-clock jump (a suspended host, an NTP step) delays a timer by at most this.
   */
  readonly maxSleepMs?: number;
}

interface TimerRow {
  id: string;
  kind: string;
  due_at: number;
  payload: string;
  status: TimerState;
  attempts: number;
  last_error: string | null;
  scheduled_at: number;
  settled_at: number | null;
}

const SCHEMA_VERSION = 1;
const DEFAULT_MAX_SLEEP_MS = 5 * 60_000;
/** setTimeout's own ceiling (2^31 − 1 ms, about 24.8 days): longer delays fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;

const reasonOf = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const toStatus = (row: TimerRow): TimerStatus => ({
  id: row.id,
  kind: row.kind,
  dueAt: new Date(row.due_at).toISOString(),
  payload: JSON.parse(row.payload) as unknown,
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  scheduledAt: new Date(row.scheduled_at).toISOString(),
  settledAt: iso(row.settled_at),
});

/**
 * The suite's one durable timer scheduler (approval expiry, reminders, archival): timers are
 * rows in the owning service's SQLite file, so they outlive the process. It sleeps until the
 * earliest due timer (one setTimeout, re-armed on schedule and cancel; no polling beyond
 * re-reading the clock every few minutes),
 * runs the kind's handler, and marks the timer fired only after the handler resolved: a
 * crash in between fires it again after the restart — at least once, late rather than
 * never — and handlers make that effectively once with ids derived from the timer.
 * A failing run is retried with `@mrw/resilience`'s backoff, in real time and without
 * holding up other timers: a transient failure without limit, an unknown one a few times,
 * and a permanent one (or unknown ones past their tries) marks the timer failed with the
 * reason. A cancel that arrives while the timer's handler runs (often caused by that very
 * run) does not undo it: a successful run still counts as fired, a failed one is not
 * retried. Timers run one at a time, oldest due first.
 */
export class DurableTimers {
  private readonly log = loggerFor('durable-timers');
  private readonly db: Database.Database;
  private readonly handlers = new Map<string, TimerHandler>();
  /** Real-time (monotonic) moments before which a failed timer is not run again; kept in memory, a restart retries at once. */
  private readonly retryAt = new Map<string, number>();
  private readonly unknownAttempts: number;
  private readonly maxSleepMs: number;
  private running = false;
  private sleeping: NodeJS.Timeout | undefined;
  private firing: Promise<void> | undefined;
  private again = false;
  private abort = new AbortController();

  constructor(private readonly options: DurableTimersOptions) {
    this.unknownAttempts = options.unknownAttempts ?? 5;
    this.maxSleepMs = Math.min(options.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS, MAX_TIMEOUT_MS);
    // A timer that was scheduled must survive power loss: the consumer commits its offset right after.
    this.db = openWorkingDatabase(options.file, 'FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS timers (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      scheduled_at INTEGER NOT NULL,
      settled_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS timers_pending ON timers (due_at) WHERE status = 'pending';`);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Registers the handler of a kind; timers of a kind without one stay pending until it is registered. */
  on<P>(kind: string, handler: TimerHandler<P>): this {
    this.handlers.set(kind, handler as TimerHandler);
    this.arm();
    return this;
  }

  /**
   * Schedules timer `id`, idempotently: the same id with the same due time changes nothing
   * (a redelivered event does not revive a fired or cancelled timer); another due time
   * moves it and makes it pending again.
   */
  schedule(id: string, dueAt: Date | string, kind: string, payload: unknown): ScheduleOutcome {
    const due = typeof dueAt === 'string' ? Date.parse(dueAt) : dueAt.getTime();
    if (id.length === 0 || kind.length === 0) throw new TypeError('a timer needs an id and a kind');
    if (!Number.isFinite(due)) throw new TypeError(`timer ${id}: due time ${String(dueAt)} is not a date`);
    const body = JSON.stringify(payload ?? null);
    const now = this.options.clock.now().getTime();
    const outcome = this.db.transaction((): ScheduleOutcome => {
      const existing = this.db.prepare(`SELECT kind, due_at FROM timers WHERE id = ?`).get(id) as Pick<TimerRow, 'kind' | 'due_at'> | undefined;
      if (existing && existing.kind !== kind) throw new TypeError(`timer ${id} is of kind ${existing.kind}, not ${kind}`);
      if (existing?.due_at === due) return 'unchanged';
      this.db
        .prepare(
          `INSERT INTO timers (id, kind, due_at, payload, status, attempts, last_error, scheduled_at, settled_at)
           VALUES (@id, @kind, @due, @body, 'pending', 0, NULL, @now, NULL)
           ON CONFLICT (id) DO UPDATE SET due_at = @due, payload = @body, status = 'pending', attempts = 0,
             last_error = NULL, scheduled_at = @now, settled_at = NULL`,
        )
        .run({ id, kind, due, body, now });
      return existing ? 'rescheduled' : 'scheduled';
    })();
    if (outcome !== 'unchanged') {
      this.retryAt.delete(id);
      this.arm();
    }
    return outcome;
  }

  /** Calls off a pending timer; true if it was pending. A fired or failed timer stays as it was. */
  cancel(id: string): boolean {
    const now = this.options.clock.now().getTime();
    const changed = this.db.prepare(`UPDATE timers SET status = 'cancelled', settled_at = ? WHERE id = ? AND status = 'pending'`).run(now, id).changes > 0;
    if (changed) {
      this.retryAt.delete(id);
      this.arm();
    }
    return changed;
  }

  /** One timer as stored, or undefined. */
  get(id: string): TimerStatus | undefined {
    const row = this.db.prepare(`SELECT * FROM timers WHERE id = ?`).get(id) as TimerRow | undefined;
    return row ? toStatus(row) : undefined;
  }

  /** The timers, earliest due first, optionally of one status or kind: failed ones carry their reason. */
  list(filter: { status?: TimerState; kind?: string } = {}): TimerStatus[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM timers WHERE (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind) ORDER BY due_at, id`,
      )
      .all({ status: filter.status ?? null, kind: filter.kind ?? null }) as TimerRow[];
    return rows.map(toStatus);
  }

  /** Starts firing: whatever fell due while the process was down fires now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.arm();
  }

  /**
   * Reads the clock now and fires what is due, resolving when those runs are over. The
   * scheduler does this by itself at the next due time; call it after moving a test's clock.
   */
  async wake(): Promise<void> {
    if (!this.running) return;
    await this.pass();
  }

  /** Stops firing and waits for the run in progress (its handler's signal is aborted). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.sleeping) clearTimeout(this.sleeping);
    this.sleeping = undefined;
    this.abort.abort();
    await this.firing;
  }

  /** Stops and closes the file. */
  async close(): Promise<void> {
    await this.stop();
    if (this.db.open) this.db.close();
  }

  /** Sleeps until the earliest pending timer this process can run is due, or a retry may run. */
  private arm(): void {
    // A pass in progress re-arms when it ends, with whatever changed meanwhile.
    if (!this.running || this.firing) return;
    if (this.sleeping) clearTimeout(this.sleeping);
    this.sleeping = undefined;
    const waits = this.runnable().map((row) => this.waitFor(row));
    if (waits.length === 0) return;
    const delay = Math.min(Math.max(0, Math.min(...waits)), this.maxSleepMs);
    this.sleeping = setTimeout(() => {
      this.sleeping = undefined;
      void this.pass();
    }, delay);
    // The service's servers keep the process alive; a timer alone must not.
    this.sleeping.unref();
  }

  /** Milliseconds until a timer may run: its due time by the clock, or its retry by real time, whichever is later. */
  private waitFor(row: Pick<TimerRow, 'id' | 'due_at'>): number {
    const untilDue = row.due_at - this.options.clock.now().getTime();
    const retry = this.retryAt.get(row.id);
    return retry === undefined ? untilDue : Math.max(untilDue, retry - performance.now());
  }

  /**
   * Pending timers of the kinds this process handles, earliest first: the next of each
   * retrying timer is not known to SQLite, so the ones held back by a retry are included.
   */
  private runnable(limit = 1 + this.retryAt.size): Array<Pick<TimerRow, 'id' | 'due_at'>> {
    if (this.handlers.size === 0) return [];
    return this.db
      .prepare(
        `SELECT id, due_at FROM timers WHERE status = 'pending' AND kind IN (SELECT value FROM json_each(?))
         ORDER BY due_at, id LIMIT +?`,
      )
      .all(JSON.stringify([...this.handlers.keys()]), limit) as Array<Pick<TimerRow, 'id' | 'due_at'>>;
  }

  /** Runs every timer that may run now, one at a time; a second call during a pass makes the pass look again. */
  private pass(): Promise<void> {
    if (this.firing) {
      this.again = true;
      return this.firing;
    }
    this.firing = (async () => {
      do {
        this.again = false;
        for (;;) {
          if (!this.running) return;
          const next = this.runnable().find((row) => this.waitFor(row) <= 0);
          if (!next) break;
          const row = this.db.prepare(`SELECT * FROM timers WHERE id = ?`).get(next.id) as TimerRow;
          await this.fire(row);
        }
      } while (this.again && this.running);
    })()
      .catch((error: unknown) => {
        // The file itself failed (disk, closed under us): log it; the next arm tries again.
        this.log.error({ error: reasonOf(error) }, 'timer pass failed');
      })
      .finally(() => {
        this.firing = undefined;
        this.arm();
      });
    return this.firing;
  }

  private async fire(row: TimerRow): Promise<void> {
    const handler = this.handlers.get(row.kind) as TimerHandler;
    const attempt = row.attempts + 1;
    // Counted before the run, so a run cut short by a crash shows as an attempt.
    this.db.prepare(`UPDATE timers SET attempts = ? WHERE id = ?`).run(attempt, row.id);
    const due = { id: row.id, due: row.due_at };
    try {
      await handler({
        id: row.id,
        kind: row.kind,
        dueAt: new Date(row.due_at).toISOString(),
        payload: JSON.parse(row.payload) as unknown,
        attempt,
        signal: this.abort.signal,
      });
    } catch (error) {
      this.failed(row, attempt, error);
      return;
    }
    this.retryAt.delete(row.id);
    // A cancel that came during this run (the handler's own effect often causes it) does not
    // undo the run: the timer fired. One moved to another due time meanwhile stays pending.
    this.db
      .prepare(
        `UPDATE timers SET status = 'fired', last_error = NULL, settled_at = @at
         WHERE id = @id AND due_at = @due AND status IN ('pending', 'cancelled')`,
      )
      .run({ ...due, at: this.options.clock.now().getTime() });
  }

  /** After a failed run: retry later, or give up with the reason; a timer cancelled meanwhile stays cancelled. */
  private failed(row: TimerRow, attempt: number, error: unknown): void {
    const reason = reasonOf(error);
    const kind = failureKind(error);
    const stillPending = { id: row.id, due: row.due_at };
    if (!this.running && kind !== 'permanent') {
      // Stopping: the run was cut short, not judged; the timer fires again after the restart.
      this.db.prepare(`UPDATE timers SET last_error = ? WHERE id = ?`).run(reason, row.id);
      return;
    }
    if (kind === 'permanent' || (kind === 'unknown' && attempt >= this.unknownAttempts)) {
      this.retryAt.delete(row.id);
      const settled = this.db
        .prepare(`UPDATE timers SET status = 'failed', last_error = @reason, settled_at = @at WHERE id = @id AND due_at = @due AND status = 'pending'`)
        .run({ ...stillPending, reason, at: this.options.clock.now().getTime() });
      if (settled.changes > 0) {
        this.log.error({ timer: row.id, timerKind: row.kind, attempts: attempt, kind, reason }, `timer ${row.id} failed: ${reason}`);
      }
      return;
    }
    const retrying = this.db
      .prepare(`UPDATE timers SET last_error = @reason WHERE id = @id AND due_at = @due AND status = 'pending'`)
      .run({ ...stillPending, reason });
    if (retrying.changes === 0) return;
    const delay = Math.max(1, backoffDelay(attempt, this.options.backoff));
    this.retryAt.set(row.id, performance.now() + delay);
    this.log.warn({ timer: row.id, timerKind: row.kind, attempt, kind, delayMs: delay, reason }, `timer ${row.id} will be retried`);
  }
}
