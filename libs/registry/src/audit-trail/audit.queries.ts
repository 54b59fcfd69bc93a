import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { RegistryProjector } from '../projections/registry-projector';
import { auditEntryOf } from './audit-entry.view';

export interface AuditFilter {
  readonly model?: string;
  /** Only these models' events (a scoped caller's); undefined for every event. */
  readonly scope?: readonly string[];
  readonly actor?: string;
  readonly type?: string;
  readonly since?: string;
  readonly until?: string;
  /** Cursor: entries after this position. */
  readonly after?: number;
  readonly limit: number;
}

/**
 * The registry-wide audit trail, oldest first, with a position cursor: the audit index finds
 * the positions, and the events are read from the log itself. A search first brings the index
 * up to the log's head: it holds every event acknowledged before.
 */
@Injectable()
export class AuditQueries {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projector: RegistryProjector,
  ) {}

  /** `logHead`: the log's head as the request's read-your-writes check read it, if one did (see auditCaughtUp). */
  async search(filter: AuditFilter, logHead?: bigint) {
    await this.projector.auditCaughtUp(logHead === undefined ? {} : { head: logHead });
    const where: string[] = ['position > ?'];
    const params: unknown[] = [filter.after ?? 0];
    if (filter.model) (where.push('model = ?'), params.push(filter.model));
    if (filter.scope) (where.push('model IN (SELECT value FROM json_each(?))'), params.push(JSON.stringify(filter.scope)));
    if (filter.actor) (where.push('actor_id = ?'), params.push(filter.actor));
    if (filter.type) (where.push('type = ?'), params.push(filter.type));
    if (filter.since) (where.push('occurred_at >= ?'), params.push(filter.since));
    if (filter.until) (where.push('occurred_at <= ?'), params.push(filter.until));
    const positions = this.projector.auditIndex
      .prepare(`SELECT position FROM audit WHERE ${where.join(' AND ')} ORDER BY position LIMIT +?`)
      .pluck()
      .safeIntegers(true)
      .all(...params, filter.limit) as bigint[];
    // An event the store no longer holds (EventStoreDB drops a deleted stream's events) is left
    // out; the cursor still moves past its position.
    const items = (await this.store.readAt(positions)).map(auditEntryOf);
    const last = positions[positions.length - 1];
    return { items, next: positions.length === filter.limit && last !== undefined ? Number(last) : null };
  }
}
