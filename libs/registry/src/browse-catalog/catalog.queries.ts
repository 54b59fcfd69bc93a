import { Inject, Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { STAGES, type Stage } from '@mrw/contracts';
import type { VersionRow } from '../projections/read-model.database';
import { READ_MODEL_DB } from '../projections/registry-projector';

interface ModelRow {
  name: string;
  description: string;
  tags: string;
  aliases: string;
  last_version: number;
  serving_version: number | null;
  created_at: string;
  updated_at: string;
}

export interface ModelFilter {
  /** Only these models (a scoped caller's); undefined for every model. */
  readonly scope?: readonly string[];
  readonly stage?: Stage;
  readonly tag?: string;
  readonly q?: string;
  readonly limit: number;
  readonly offset: number;
}

const modelSummary = (row: ModelRow) => ({
  name: row.name,
  description: row.description,
  tags: JSON.parse(row.tags) as Record<string, string>,
  aliases: JSON.parse(row.aliases) as Record<string, number>,
  latestVersion: row.last_version,
  servingVersion: row.serving_version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const versionSummary = (row: VersionRow) => ({
  model: row.model,
  version: row.version,
  stage: row.stage,
  serving: row.serving === 1,
  source: row.source,
  digest: row.digest,
  tags: JSON.parse(row.tags) as Record<string, string>,
  registeredBy: row.registered_by,
  registeredAt: row.registered_at,
  updatedAt: row.updated_at,
  latestEvaluation:
    row.evaluation_status === null
      ? null
      : { status: row.evaluation_status, passed: row.evaluation_passed === null ? null : row.evaluation_passed === 1 },
  pendingApproval: row.pending_approval,
});

/**
 * How far into the log the catalog has been projected: the registry's projector in the suite,
 * the read model's own checkpoint row in a reader process (which reads the suite's file).
 */
export abstract class CatalogCheckpoint {
  abstract get checkpoint(): bigint;
}

/** Read-side queries over the catalog projection: lists, filters and the stage board. */
@Injectable()
export class CatalogQueries {
  /** Statements by their SQL, compiled once: the queries differ only by which filters are given. */
  private readonly statements = new Map<string, Database.Statement>();
  /**
   * Boards by scope, each with the read-model checkpoint it was built at. The projection is the
   * read model's only writer and moves its checkpoint in the turn it commits, so a board built
   * at the current checkpoint is the board a query would build now. Dashboards poll the board
   * far more often than events arrive.
   */
  private readonly boards = new Map<string, { readonly at: bigint; readonly board: Board }>();

  constructor(
    @Inject(READ_MODEL_DB) private readonly db: Database.Database,
    private readonly projected: CatalogCheckpoint,
  ) {}

  /**
   * Statements are kept per SQL text. Their limits are written `LIMIT +? OFFSET +?`: SQLite would
   * prepare a statement with a bare `LIMIT ?` again on every run (see the SQLite event store).
   */
  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  listModels(filter: ModelFilter) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.scope) {
      where.push(`m.name IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(filter.scope));
    }
    if (filter.stage) {
      where.push('EXISTS (SELECT 1 FROM versions v WHERE v.model = m.name AND v.stage = ?)');
      params.push(filter.stage);
    }
    if (filter.tag) {
      const [key, value] = splitTag(filter.tag);
      where.push(value === undefined ? `json_extract(m.tags, ?) IS NOT NULL` : `json_extract(m.tags, ?) = ?`);
      params.push(`$."${key.replace(/"/g, '')}"`, ...(value === undefined ? [] : [value]));
    }
    if (filter.q) {
      where.push(`(m.name LIKE ? ESCAPE '\\' OR m.description LIKE ? ESCAPE '\\')`);
      const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      params.push(like, like);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.prepare(`SELECT COUNT(*) AS n FROM models m ${clause}`).get(...params) as { n: number }).n;
    const rows = this
      .prepare(`SELECT * FROM models m ${clause} ORDER BY m.name LIMIT +? OFFSET +?`)
      .all(...params, filter.limit, filter.offset) as ModelRow[];
    return { total, items: rows.map(modelSummary) };
  }

  listVersions(model: string, stage: Stage | undefined, limit: number, offset: number) {
    const clause = stage ? 'WHERE model = ? AND stage = ?' : 'WHERE model = ?';
    const params = stage ? [model, stage] : [model];
    const total = (this.prepare(`SELECT COUNT(*) AS n FROM versions ${clause}`).get(...params) as { n: number }).n;
    const rows = this
      .prepare(`SELECT * FROM versions ${clause} ORDER BY version DESC LIMIT +? OFFSET +?`)
      .all(...params, limit, offset) as VersionRow[];
    return { total, items: rows.map(versionSummary) };
  }

  /**
   * The stage board (of the scope's models): every version not archived, by stage, counts per
   * stage, and each model with what it serves and its counts, so a model with only archived
   * versions, or none yet, is on the board too.
   */
  board(scope?: readonly string[]): Board {
    const key = scope ? JSON.stringify(scope) : '';
    const at = this.projected.checkpoint;
    const kept = this.boards.get(key);
    if (kept?.at === at) return kept.board;
    const board = this.buildBoard(scope);
    // Scopes are few (one per token's model list); a full map means many distinct scopes: start over.
    if (this.boards.size >= BOARDS_KEPT) this.boards.clear();
    this.boards.set(key, { at, board });
    return board;
  }

  private buildBoard(scope: readonly string[] | undefined) {
    const inScope = scope ? `AND model IN (SELECT value FROM json_each(?))` : '';
    const params = scope ? [JSON.stringify(scope)] : [];
    const rows = this
      .prepare(`SELECT * FROM versions WHERE stage IN ('None', 'Staging', 'Production') ${inScope} ORDER BY model, version`)
      .all(...params) as VersionRow[];
    const counts = this
      .prepare(`SELECT model, stage, COUNT(*) AS n FROM versions WHERE 1 = 1 ${inScope} GROUP BY model, stage`)
      .all(...params) as Array<{ model: string; stage: Stage; n: number }>;
    const models = this
      .prepare(`SELECT name, serving_version FROM models ${scope ? 'WHERE name IN (SELECT value FROM json_each(?))' : ''} ORDER BY name`)
      .all(...params) as Array<{ name: string; serving_version: number | null }>;
    const stageCounts = (rowsOf: typeof counts) => Object.fromEntries(STAGES.map((s) => [s, rowsOf.filter((c) => c.stage === s).reduce((n, c) => n + c.n, 0)]));
    const byModel = new Map<string, typeof counts>();
    for (const c of counts) byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
    return {
      counts: stageCounts(counts),
      models: models.map((m) => ({ name: m.name, servingVersion: m.serving_version, counts: stageCounts(byModel.get(m.name) ?? []) })),
      None: rows.filter((r) => r.stage === 'None').map(versionSummary),
      Staging: rows.filter((r) => r.stage === 'Staging').map(versionSummary),
      Production: rows.filter((r) => r.stage === 'Production').map(versionSummary),
    };
  }
}

/** What the board answers; shared by every request at one checkpoint, so never changed in place. */
type Board = Readonly<ReturnType<CatalogQueries['buildBoard']>>;

const BOARDS_KEPT = 256;

const splitTag = (tag: string): [string, string | undefined] => {
  const i = tag.indexOf(':');
  return i < 0 ? [tag, undefined] : [tag.slice(0, i), tag.slice(i + 1)];
};
