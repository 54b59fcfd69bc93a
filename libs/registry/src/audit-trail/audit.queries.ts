import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { READ_MODEL_DB, RegistryProjector } from '../projections/registry-projector';
import { auditEntry } from './audit-entry.view';

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

interface AuditRow {
  position: number;
  stream: string;
  revision: number;
  model: string | null;
  version: number | null;
  type: string;
  actor_kind: string;
  actor_id: string;
  occurred_at: string;
  event_id: string;
  hash: string;
  data: string;
}

/**
 * The registry-wide audit trail from the audit index, oldest first, with a position cursor. A
 * search first brings the index up to the log's head: it holds every event acknowledged before.
 */
@Injectable()
export class AuditQueries {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: Database.Database,
    private readonly projector: RegistryProjector,
  ) {}

  async search(filter: AuditFilter) {
    await this.projector.auditCaughtUp();
    const where: string[] = ['position > ?'];
    const params: unknown[] = [filter.after ?? 0];
    if (filter.model) (where.push('model = ?'), params.push(filter.model));
    if (filter.scope) (where.push('model IN (SELECT value FROM json_each(?))'), params.push(JSON.stringify(filter.scope)));
    if (filter.actor) (where.push('actor_id = ?'), params.push(filter.actor));
    if (filter.type) (where.push('type = ?'), params.push(filter.type));
    if (filter.since) (where.push('occurred_at >= ?'), params.push(filter.since));
    if (filter.until) (where.push('occurred_at <= ?'), params.push(filter.until));
    const rows = this.db
      .prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY position LIMIT +?`)
      .all(...params, filter.limit) as AuditRow[];
    const items = rows.map((r) =>
      auditEntry({
        position: r.position,
        stream: r.stream,
        revision: r.revision,
        model: r.model,
        version: r.version,
        type: r.type,
        actor: { kind: r.actor_kind, id: r.actor_id },
        occurredAt: r.occurred_at,
        eventId: r.event_id,
        hash: r.hash,
        data: JSON.parse(r.data) as unknown,
      }),
    );
    const last = items[items.length - 1];
    return { items, next: items.length === filter.limit && last ? last.position : null };
  }
}
