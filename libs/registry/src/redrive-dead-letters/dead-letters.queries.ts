import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { READ_MODEL_DB } from '../projections/registry-projector';

interface DeadLetterRow {
  letter_id: string;
  position: number;
  group_name: string;
  topic: string;
  key: string;
  type: string;
  reason: string;
  attempts: number;
  origin: string;
  truncated: number;
  size: number;
  dead_lettered_at: string;
  redriven_at: string | null;
  redriven_by: string | null;
}

export interface DeadLetterFilter {
  readonly group?: string;
  readonly status: 'open' | 'redriven' | 'all';
  readonly limit: number;
  readonly offset: number;
}

const summary = (row: DeadLetterRow) => ({
  id: row.letter_id,
  group: row.group_name,
  topic: row.topic,
  key: row.key,
  type: row.type,
  reason: row.reason,
  attempts: row.attempts,
  origin: row.origin,
  truncated: row.truncated === 1,
  size: row.size,
  deadLetteredAt: row.dead_lettered_at,
  redrivenAt: row.redriven_at,
  redrivenBy: row.redriven_by,
});

export type DeadLetterSummary = ReturnType<typeof summary>;

/** The dead-letter list from the read model, oldest first. */
@Injectable()
export class DeadLetterQueries {
  constructor(@Inject(READ_MODEL_DB) private readonly db: Database.Database) {}

  list(filter: DeadLetterFilter): { total: number; items: DeadLetterSummary[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.group) (where.push('group_name = ?'), params.push(filter.group));
    if (filter.status === 'open') where.push('redriven_at IS NULL');
    if (filter.status === 'redriven') where.push('redriven_at IS NOT NULL');
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM dead_letters ${clause}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM dead_letters ${clause} ORDER BY position LIMIT +? OFFSET +?`)
      .all(...params, filter.limit, filter.offset) as DeadLetterRow[];
    return { total, items: rows.map(summary) };
  }

  get(id: string): DeadLetterSummary | undefined {
    const row = this.db.prepare(`SELECT * FROM dead_letters WHERE letter_id = ?`).get(id) as DeadLetterRow | undefined;
    return row ? summary(row) : undefined;
  }
}
