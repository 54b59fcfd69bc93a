import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { EVENT_STORE, type EventStore, type RecordedEvent, type Subscription } from '@mrw/event-store';
import { Readiness } from '@mrw/platform';
import { AuditIndexProjection } from './audit-index.projection';
import { CatalogProjection } from './catalog.projection';
import { beginBulkBuild, READ_MODEL_INDEXES } from './read-model.database';
import { ApprovalsProjection } from '../decide-approvals/approvals.projection';
import { DeadLettersProjection } from '../redrive-dead-letters/dead-letters.projection';

export const READ_MODEL_DB = Symbol('READ_MODEL_DB');

const REBUILD_BATCH = 2_000;

/**
 * Feeds the catalog, the audit index, the approvals inbox and the dead-letter list from the log. Each event's effect and the checkpoint
 * commit in one read-model transaction, so a crash neither loses nor doubles an event; a
 * missing read-model file simply starts again from the beginning of the log.
 */
@Injectable()
export class RegistryProjector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projections');
  private readonly catalog: CatalogProjection;
  private readonly audit: AuditIndexProjection;
  private readonly deadLetters: DeadLettersProjection;
  private readonly approvals: ApprovalsProjection;
  private readonly applyInTransaction: (events: readonly RecordedEvent[]) => void;
  private subscription: Subscription | undefined;
  private started: Promise<void> = Promise.resolve();
  private position: bigint;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];
  private failure: unknown;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: Database.Database,
    readiness: Readiness,
  ) {
    this.catalog = new CatalogProjection(db);
    this.audit = new AuditIndexProjection(db);
    this.deadLetters = new DeadLettersProjection(db);
    this.approvals = new ApprovalsProjection(db);
    const saveCheckpoint = db.prepare(`INSERT OR REPLACE INTO checkpoint (name, position) VALUES ('registry', ?)`);
    this.applyInTransaction = db.transaction((events: readonly RecordedEvent[]) => {
      for (const event of events) {
        this.catalog.apply(event);
        this.audit.apply(event);
        this.deadLetters.apply(event);
        this.approvals.apply(event);
      }
      const last = events[events.length - 1];
      if (last) saveCheckpoint.run(last.position);
    });
    const row = db.prepare(`SELECT position FROM checkpoint WHERE name = 'registry'`).safeIntegers(true).get() as
      | { position: bigint }
      | undefined;
    this.position = row?.position ?? 0n;
    readiness.register({
      name: 'registry-projections',
      check: async () => {
        if (this.failure) return { ready: false, detail: String(this.failure) };
        const status = this.subscription?.status();
        if (status?.state === 'reconnecting') return { ready: false, detail: `reconnecting to the event store (attempt ${status.attempts ?? 1}): ${status.detail ?? ''}` };
        const head = await this.store.headPosition();
        return { ready: this.position >= head, detail: `at ${this.position} of ${head}` };
      },
    });
  }

  onApplicationBootstrap(): void {
    this.started = this.run().catch((error: unknown) => this.fail(error));
  }

  /**
   * Catches up in large batches (one read-model transaction per batch: a rebuild of 100k
   * events is one pass), then follows the log, a transaction per batch of what arrived.
   */
  private async run(): Promise<void> {
    const build = this.position === 0n ? beginBulkBuild(this.db) : undefined;
    if (build) this.logger.log('read model is empty: building it from the event log');
    for (;;) {
      const batch = await this.store.readAll({ after: this.position, maxCount: REBUILD_BATCH });
      if (batch.length > 0) this.commit(batch);
      if (batch.length < REBUILD_BATCH) break;
    }
    // Built after the bulk load of a rebuild; a no-op once they exist.
    this.db.exec(READ_MODEL_INDEXES);
    build?.finish();
    this.subscription = this.store.subscribeToAll({
      name: 'registry-projections',
      startAfter: this.position,
      // What has arrived since the last commit is applied in one read-model transaction: under
      // load one commit serves many events (and the requests waiting for them).
      handleBatch: async (events) => this.commit(events),
      onError: (error) => this.fail(error),
    });
  }

  private commit(events: readonly RecordedEvent[]): void {
    this.applyInTransaction(events);
    this.position = (events[events.length - 1] as RecordedEvent).position;
    this.release();
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.logger.error(`projection stopped: ${error instanceof Error ? error.stack : String(error)}`);
  }

  /** Resolves once the read model includes the event at `position` (read-your-writes). */
  async waitFor(position: bigint | undefined, timeoutMs = 10_000): Promise<void> {
    if (position === undefined || this.position >= position) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read model did not reach ${position} in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Catches up with everything in the log now; used by tests and the rebuild benchmark. */
  async caughtUp(): Promise<void> {
    await this.started;
    await this.subscription?.caughtUp();
  }

  get checkpoint(): bigint {
    return this.position;
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.position <= this.position);
    this.waiters = this.waiters.filter((w) => w.position > this.position);
    for (const waiter of ready) waiter.resolve();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
    this.db.close();
  }
}
