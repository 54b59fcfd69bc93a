import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { CaughtUpWaiters, EVENT_STORE, type EventStore, type RecordedEvent, type Subscription } from '@mrw/event-store';
import { ProblemException, Readiness } from '@mrw/platform';
import { addAuditRow } from './audit-index.projection';
import { AuditIndexWriter, type AuditRows } from './audit-index.writer';
import { CatalogProjection } from './catalog.projection';
import { auditIndexFileOf, beginBulkBuild, markBulkBuild, openAuditIndex } from './read-model.database';
import { ApprovalsProjection } from '../decide-approvals/approvals.projection';
import { DeadLettersProjection } from '../redrive-dead-letters/dead-letters.projection';

export const READ_MODEL_DB = Symbol('READ_MODEL_DB');

/**
 * Events per page while catching up, and per read-model transaction. Small enough that a page
 * dies young: a page of 2,000 parsed events outlived two scavenges, was promoted to the old
 * generation and had to be marked and compacted there (heap 84 MB against 36 MB), and a rebuild
 * ran ~15% slower than with pages of 400–1,000. Larger pages bought nothing.
 */
const CATCH_UP_BATCH = 500;

/**
 * Requests the audit index's writer may have waiting while catching up: the catch-up reads on
 * while the writer inserts the pages before, but does not run further ahead than this.
 */
const AUDIT_WRITES_AHEAD = 4;

/**
 * How long the audit index may lag the log while nobody searches it: its rows are written in a
 * transaction per this interval (or per AUDIT_GATHER_MAX events), not one per batch of appends.
 */
const AUDIT_LAG_MS = 200;

/**
 * The most events gathered for the audit index before they are written. Under load the lag
 * decides (~1,600 events per 200 ms at 2,700 registrations/s); at 500, the index was written
 * three times as often and registrations on one model were ~5% slower.
 */
const AUDIT_GATHER_MAX = 2_000;

/** What a search is told once the projector has stopped. */
const stoppedFollowing = (): ProblemException =>
  new ProblemException('READ_MODEL_BEHIND', 'the read model stopped following the log; see the registry-projections readiness check', {}, 503);

/** The position a projection has reached, and the callers waiting for one. */
class Reached {
  private readonly waiters = new CaughtUpWaiters();

  constructor(public position: bigint) {}

  get awaited(): boolean {
    return this.waiters.pending;
  }

  /** Resolves once `position` is reached; rejects with `timedOut()` after `timeoutMs`. */
  wait(position: bigint, timeoutMs: number, timedOut: () => Error): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.waiters.wait(position).finally(() => clearTimeout(timer)),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), timeoutMs))),
    ]);
  }

  reach(position: bigint): void {
    if (position > this.position) this.position = position;
    this.waiters.reached(this.position);
  }

  /** It will not move again: whoever waits is told why at once. */
  stopped(reason: unknown): void {
    this.waiters.rejectAll(reason);
  }
}

/**
 * Feeds the catalog, the audit index, the approvals inbox and the dead-letter list from the log.
 * Each batch's effects and its checkpoint commit in one read-model transaction, so a crash
 * neither loses nor doubles an event; a missing read-model file simply starts again from the
 * beginning of the log.
 *
 * The audit index follows the log on its own, in a file of its own with its own checkpoint,
 * written by a thread of its own (`AuditIndexWriter`): keeping its four indexes in order cost
 * about as much as the rest of the read model, and in a rebuild it now runs on the other core.
 * Nothing waits for it on the write path (a registration waits for the catalog), so live it
 * gathers what arrives for up to AUDIT_LAG_MS and hands it over in one transaction; an audit
 * search first brings it up to the log's head (`auditCaughtUp`), so a search still sees every
 * event acknowledged before it. Catching up at start, one read of the log feeds both.
 */
@Injectable()
export class RegistryProjector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projections');
  private readonly catalog: CatalogProjection;
  private readonly deadLetters: DeadLettersProjection;
  private readonly approvals: ApprovalsProjection;
  private readonly applyInTransaction: (events: readonly RecordedEvent[]) => void;
  /** The audit index's file, read here (searches, its checkpoint) and written by `auditWriter`. */
  readonly auditIndex: Database.Database;
  private auditWriter: AuditIndexWriter | undefined;
  /** The last position whose audit row (if any) was handed to the writer. */
  private auditSent: bigint;
  /** The audit index's build from empty, finishing on the writer's thread. */
  private auditBuilt: Promise<void> = Promise.resolve();
  private subscription: Subscription | undefined;
  private auditSubscription: Subscription | undefined;
  private started: Promise<void> = Promise.resolve();
  private readonly reached: Reached;
  private readonly audited: Reached;
  /** Rows for the audit index and the position they reach, not handed over yet (see AUDIT_LAG_MS). */
  private auditPending: AuditRows = [];
  private auditPendingTo = 0n;
  private auditPendingEvents = 0;
  private auditTimer: NodeJS.Timeout | undefined;
  private failure: unknown;
  private stopping = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: Database.Database,
    readiness: Readiness,
  ) {
    this.catalog = new CatalogProjection(db);
    this.deadLetters = new DeadLettersProjection(db);
    this.approvals = new ApprovalsProjection(db);
    const saveCheckpoint = db.prepare(`INSERT OR REPLACE INTO checkpoint (name, position) VALUES (?, ?)`);
    this.applyInTransaction = db.transaction((events: readonly RecordedEvent[]) => {
      this.catalog.forget();
      for (const event of events) {
        this.catalog.apply(event);
        this.deadLetters.apply(event);
        this.approvals.apply(event);
      }
      this.catalog.write();
      const last = events[events.length - 1];
      if (last) saveCheckpoint.run('registry', last.position);
    });
    const checkpointOf = (file: Database.Database) =>
      file.prepare<[string], bigint>(`SELECT position FROM checkpoint WHERE name = ?`).pluck().safeIntegers(true);
    this.reached = new Reached(checkpointOf(db).get('registry') ?? 0n);
    if (db.memory) throw new Error('the read model must be a file: the audit index next to it is written by another thread');
    this.auditIndex = openAuditIndex(auditIndexFileOf(db.name));
    this.audited = new Reached(checkpointOf(this.auditIndex).get('audit') ?? 0n);
    this.auditSent = this.audited.position;
    readiness.register({
      name: 'registry-projections',
      check: async () => {
        if (this.failure) return { ready: false, detail: String(this.failure) };
        const status = this.subscription?.status();
        if (status?.state === 'reconnecting') return { ready: false, detail: `reconnecting to the event store (attempt ${status.attempts ?? 1}): ${status.detail ?? ''}` };
        const head = await this.store.headPosition();
        return { ready: this.reached.position >= head, detail: `at ${this.reached.position} of ${head}` };
      },
    });
  }

  onApplicationBootstrap(): void {
    this.started = this.run().catch((error: unknown) => this.fail(error));
  }

  /**
   * Catches up a page at a time (CATCH_UP_BATCH events, one read-model transaction each, their
   * audit rows handed to the writer's thread), then follows the log, a transaction per batch of
   * what arrived.
   */
  private async run(): Promise<void> {
    const build = this.reached.position === 0n ? beginBulkBuild(this.db) : undefined;
    if (build) this.logger.log('read model is empty: building it from the event log');
    const writer = new AuditIndexWriter(this.auditIndex.name, {
      written: (to) => this.audited.reach(to),
      failed: (error) => this.fail(error),
    });
    this.auditWriter = writer;
    const auditBuild = this.audited.position === 0n ? markBulkBuild(this.auditIndex.name) : undefined;
    if (auditBuild) writer.beginBulk();
    // An audit index left behind (the process stopped before it wrote what it had gathered)
    // catches up to the rest first; from there one pass feeds both.
    while (!this.stopping && this.failure === undefined && this.auditSent < this.reached.position) {
      const upTo = this.reached.position;
      const batch = (await this.store.readAll({ after: this.auditSent, maxCount: CATCH_UP_BATCH })).filter((e) => e.position <= upTo);
      if (batch.length === 0) break;
      this.sendAudit(batch);
      await writer.fewerWaitingThan(AUDIT_WRITES_AHEAD);
    }
    for (;;) {
      if (this.stopping) return;
      const batch = await this.store.readAll({ after: this.reached.position, maxCount: CATCH_UP_BATCH });
      if (batch.length > 0) {
        this.commit(batch);
        this.sendAudit(batch);
        await writer.fewerWaitingThan(AUDIT_WRITES_AHEAD);
      }
      if (batch.length < CATCH_UP_BATCH) break;
    }
    // Stopped while catching up: a build not finished keeps its marker and starts over.
    if (this.stopping) return;
    build?.finish();
    // The audit index's bulk load ends on the writer's thread, after the pages handed over.
    if (auditBuild) {
      this.auditBuilt = writer
        .finishBulk()
        .then((synced) => (synced ? auditBuild.remove() : undefined))
        // The marker stays: the next start builds the index again. A failed writer is reported by `fail`.
        .catch((error: unknown) => this.logger.warn(`the audit index's build did not finish: ${String(error)}`));
    }
    this.subscription = this.store.subscribeToAll({
      name: 'registry-projections',
      startAfter: this.reached.position,
      // What has arrived since the last commit is applied in one read-model transaction: under
      // load one commit serves many events (and the requests waiting for them).
      handleBatch: async (events) => this.commit(events),
      onError: (error) => this.fail(error),
    });
    this.auditSubscription = this.store.subscribeToAll({
      name: 'registry-audit-index',
      startAfter: this.auditSent,
      handleBatch: async (events) => this.gatherAudit(events),
      onError: (error) => this.fail(error),
    });
  }

  private commit(events: readonly RecordedEvent[]): void {
    this.applyInTransaction(events);
    this.reached.reach((events[events.length - 1] as RecordedEvent).position);
  }

  /** Hands the rows of the events not handed over yet to the audit index's writer. */
  private sendAudit(events: readonly RecordedEvent[]): void {
    const last = (events[events.length - 1] as RecordedEvent).position;
    if (last <= this.auditSent) return;
    const rows: AuditRows = [];
    for (const event of events) if (event.position > this.auditSent) addAuditRow(rows, event);
    this.auditSent = last;
    this.auditWriter?.write(rows, last);
  }

  /** Audit rows wait to be handed over together, unless a search is waiting for them or enough have gathered. */
  private gatherAudit(events: readonly RecordedEvent[]): void {
    // Stopped by a failure: nothing more is gathered; the next start reads it from its checkpoint.
    if (this.failure !== undefined || events.length === 0) return;
    for (const event of events) addAuditRow(this.auditPending, event);
    this.auditPendingTo = (events[events.length - 1] as RecordedEvent).position;
    this.auditPendingEvents += events.length;
    if (this.audited.awaited || this.auditPendingEvents >= AUDIT_GATHER_MAX) this.writeAudit();
    else this.auditTimer ??= setTimeout(() => this.writeAudit(), AUDIT_LAG_MS);
  }

  private writeAudit(): void {
    clearTimeout(this.auditTimer);
    this.auditTimer = undefined;
    if (this.auditPendingTo <= this.auditSent || this.failure !== undefined) return;
    const rows = this.auditPending;
    this.auditPending = [];
    this.auditPendingEvents = 0;
    this.auditSent = this.auditPendingTo;
    this.auditWriter?.write(rows, this.auditPendingTo);
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.logger.error(`projection stopped: ${error instanceof Error ? error.stack : String(error)}`);
    // A search waiting for the audit index hears it now rather than at its timeout.
    this.audited.stopped(stoppedFollowing());
  }

  /** Resolves once the read model (all but the audit index) includes the event at `position` (read-your-writes). */
  async waitFor(position: bigint | undefined, timeoutMs = 10_000): Promise<void> {
    if (position === undefined) return;
    await this.reached.wait(position, timeoutMs, () => new Error(`read model did not reach ${position} in ${timeoutMs} ms`));
  }

  /**
   * Resolves once the audit index holds every event the log held when asked, so a search sees
   * whatever was acknowledged before it: what has gathered is written at once. A 503 problem
   * when that takes longer than `timeoutMs`. `head`: the log's head as the request's
   * read-your-writes check already read it when the request arrived (replicas), not read again.
   */
  async auditCaughtUp(options: { readonly head?: bigint; readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.failure !== undefined) throw stoppedFollowing();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const head = options.head ?? (await this.store.headPosition());
    if (this.audited.position >= head) return;
    const waiting = this.audited.wait(head, timeoutMs, () => new ProblemException('READ_MODEL_BEHIND', `the audit index has not reached position ${head} of the log yet; retry`, {}, 503));
    this.writeAudit();
    await waiting;
  }

  /** Catches up with everything in the log now, the audit index included; used by tests and the rebuild benchmark. */
  async caughtUp(): Promise<void> {
    await this.started;
    await Promise.all([this.subscription?.caughtUp(), this.auditSubscription?.caughtUp()]);
    this.writeAudit();
    await this.auditBuilt;
    if (this.failure === undefined) await this.audited.wait(this.auditSent, 60_000, () => new Error('the audit index did not catch up in a minute'));
  }

  get checkpoint(): bigint {
    return this.reached.position;
  }

  /** Where the audit index has reached (its own checkpoint). */
  get auditCheckpoint(): bigint {
    return this.audited.position;
  }

  async onApplicationShutdown(): Promise<void> {
    // A start still catching up stops at its next batch, before it subscribes.
    this.stopping = true;
    await this.started;
    await Promise.all([this.subscription?.stop(), this.auditSubscription?.stop()]);
    // What the audit index gathered is written rather than read again at the next start.
    this.writeAudit();
    await this.auditBuilt;
    await this.auditWriter?.close();
    this.db.close();
    this.auditIndex.close();
  }
}
