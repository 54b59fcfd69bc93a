import type Database from 'better-sqlite3';
import {
  parseModelVersionStream,
  streamCategory,
  type ModelEvent,
  type ModelVersionEvent,
  type Stage,
} from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { VersionRow } from './read-model.database';

/** A version's row of the catalog and the stage board, as a batch folds its events into it. */
export interface VersionRecord {
  readonly model: string;
  readonly version: number;
  stage: Stage;
  readonly source: string;
  readonly digest: string | null;
  tags: Record<string, string>;
  readonly registeredBy: string;
  readonly registeredAt: string;
  updatedAt: string;
  evaluationStatus: VersionRow['evaluation_status'];
  evaluationPassed: boolean | null;
  pendingApproval: string | null;
  serving: boolean;
}

/** The version events that may change a version's row (see evolveVersionRecord): for the others no row is read. */
const VERSION_ROW_EVENTS: ReadonlySet<string> = new Set<ModelVersionEvent['type']>([
  'ModelVersionRegistered',
  'ModelVersionTagSet',
  'ModelVersionTagRemoved',
  'ModelVersionDescriptionUpdated',
  'StageTransitioned',
  'EvaluationRequested',
  'EvaluationCompleted',
  'EvaluationFailed',
  'ApprovalRequested',
  'ApprovalQuorumReached',
  'ApprovalRejected',
  'ApprovalExpired',
  'ApprovalEvidenceChanged',
  'DeploymentSucceeded',
  'ServingEnded',
]);

/**
 * What a version event does to its row: the row it makes (`ModelVersionRegistered`) or changes,
 * or undefined when it changes nothing (no row yet, an event the board does not show). Pure but
 * for `row`.
 */
export const evolveVersionRecord = (
  row: VersionRecord | undefined,
  model: string,
  version: number,
  event: ModelVersionEvent,
  at: string,
): VersionRecord | undefined => {
  if (event.type === 'ModelVersionRegistered') {
    const d = event.data;
    if (row) return undefined;
    return {
      model, version, stage: 'None', source: d.source, digest: d.artifactDigest, tags: { ...d.tags }, registeredBy: d.registeredBy.id,
      registeredAt: at, updatedAt: at, evaluationStatus: null, evaluationPassed: null, pendingApproval: null, serving: false,
    };
  }
  if (!row) return undefined;
  switch (event.type) {
    case 'ModelVersionTagSet':
      row.tags[event.data.key] = event.data.value;
      break;
    case 'ModelVersionTagRemoved':
      delete row.tags[event.data.key];
      break;
    case 'ModelVersionDescriptionUpdated':
      // The description is read from the stream; the board only shows that the version changed.
      break;
    case 'StageTransitioned':
      row.stage = event.data.toStage;
      break;
    case 'EvaluationRequested':
      row.evaluationStatus = 'running';
      row.evaluationPassed = null;
      break;
    case 'EvaluationCompleted':
      row.evaluationStatus = 'completed';
      row.evaluationPassed = event.data.verdict.passed;
      break;
    case 'EvaluationFailed':
      row.evaluationStatus = 'failed';
      row.evaluationPassed = null;
      break;
    case 'ApprovalRequested':
      if (event.data.afterTheFact) return undefined;
      row.pendingApproval = event.data.approvalId;
      break;
    case 'ApprovalQuorumReached':
    case 'ApprovalRejected':
    case 'ApprovalExpired':
      row.pendingApproval = null;
      break;
    case 'ApprovalEvidenceChanged':
      if (event.data.outcome !== 'closed') return undefined;
      row.pendingApproval = null;
      break;
    case 'DeploymentSucceeded':
      row.serving = true;
      break;
    case 'ServingEnded':
      row.serving = false;
      break;
    default:
      return undefined;
  }
  row.updatedAt = at;
  return row;
};

/** A row taken into a batch (undefined: none yet), and whether an event of the batch changed it. */
interface Staged<R> {
  row: R | undefined;
  changed: boolean;
}

/**
 * Model catalog and stage board: models with their aliases and serving version; versions with
 * stage, tags, latest evaluation verdict and pending approval, in log order.
 *
 * A version's row takes its whole lifecycle (registration, tags, transitions, evaluations,
 * approvals, deployments), so a batch's events are folded into the version rows they touch in
 * memory, each read at most once, and each changed row is written once as the batch ends
 * (`write`): a version's ten events of a rebuild are one read and one write instead of ten
 * statements. A
 * model's row takes about one event per version (its number reserved), mostly one per batch,
 * where reading and rewriting the whole row costs more than the one statement it is given.
 */
export class CatalogProjection {
  private readonly statements;
  private readonly versions = new Map<string, Staged<VersionRecord>>();

  constructor(db: Database.Database) {
    this.statements = {
      createModel: db.prepare(
        `INSERT OR IGNORE INTO models (name, description, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
      ),
      touchModel: db.prepare(`UPDATE models SET updated_at = ? WHERE name = ?`),
      describeModel: db.prepare(`UPDATE models SET description = ?, updated_at = ? WHERE name = ?`),
      modelTags: db.prepare(`SELECT tags FROM models WHERE name = ?`),
      setModelTags: db.prepare(`UPDATE models SET tags = ?, updated_at = ? WHERE name = ?`),
      reserve: db.prepare(`UPDATE models SET last_version = MAX(last_version, ?), updated_at = ? WHERE name = ?`),
      aliases: db.prepare(`SELECT aliases FROM models WHERE name = ?`),
      setAliases: db.prepare(`UPDATE models SET aliases = ?, updated_at = ? WHERE name = ?`),
      serving: db.prepare(`UPDATE models SET serving_version = ?, updated_at = ? WHERE name = ?`),
      version: db.prepare<[string, number], VersionRow>(
        `SELECT model, version, stage, source, digest, tags, registered_by, registered_at, updated_at, evaluation_status, evaluation_passed,
           pending_approval, serving
         FROM versions WHERE model = ? AND version = ?`,
      ),
      saveVersion: db.prepare(
        `INSERT INTO versions (model, version, stage, source, digest, tags, registered_by, registered_at, updated_at, evaluation_status, evaluation_passed, pending_approval, serving)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, version) DO UPDATE SET stage = excluded.stage, tags = excluded.tags, updated_at = excluded.updated_at,
           evaluation_status = excluded.evaluation_status, evaluation_passed = excluded.evaluation_passed,
           pending_approval = excluded.pending_approval, serving = excluded.serving`,
      ),
    };
  }

  /** Applies one event: a model's at once, a version's folded into the batch's rows (written by `write`). */
  apply(event: RecordedEvent): void {
    const category = streamCategory(event.streamName);
    if (category === 'model') this.applyModel(event as unknown as ModelEvent, event.metadata.occurredAt);
    if (category === 'modelVersion') {
      const id = parseModelVersionStream(event.streamName);
      if (!id || !VERSION_ROW_EVENTS.has(event.type)) return;
      const staged = this.stagedVersion(id.model, id.version);
      const next = evolveVersionRecord(staged.row, id.model, id.version, event as unknown as ModelVersionEvent, event.metadata.occurredAt);
      if (next) {
        staged.row = next;
        staged.changed = true;
      }
    }
  }

  /** Writes each version row the batch changed, once, and forgets the batch. Called inside the batch's transaction. */
  write(): void {
    for (const { row, changed } of this.versions.values()) {
      if (!changed || !row) continue;
      this.statements.saveVersion.run(
        row.model, row.version, row.stage, row.source, row.digest, JSON.stringify(row.tags), row.registeredBy, row.registeredAt, row.updatedAt,
        row.evaluationStatus, row.evaluationPassed === null ? null : row.evaluationPassed ? 1 : 0, row.pendingApproval, row.serving ? 1 : 0,
      );
    }
    this.forget();
  }

  /** Drops what a batch staged without writing it: called as a batch begins, in case the last one failed before `write`. */
  forget(): void {
    this.versions.clear();
  }

  private applyModel(event: ModelEvent, at: string): void {
    const s = this.statements;
    const model = event.data.model;
    switch (event.type) {
      case 'ModelCreated':
        s.createModel.run(model, event.data.description, JSON.stringify(event.data.tags), at, at);
        return;
      case 'ModelPolicySet':
        s.touchModel.run(at, model);
        return;
      case 'ModelVersionNumberReserved':
        s.reserve.run(event.data.version, at, model);
        return;
      case 'ModelAliasSet':
      case 'ModelAliasRemoved': {
        const row = s.aliases.get(model) as { aliases: string } | undefined;
        const aliases = JSON.parse(row?.aliases ?? '{}') as Record<string, number>;
        if (event.type === 'ModelAliasSet') aliases[event.data.alias] = event.data.version;
        else delete aliases[event.data.alias];
        s.setAliases.run(JSON.stringify(aliases), at, model);
        return;
      }
      case 'ModelServingVersionChanged':
        s.serving.run(event.data.version, at, model);
        return;
      case 'ModelDescriptionUpdated':
        s.describeModel.run(event.data.description, at, model);
        return;
      case 'ModelTagSet':
      case 'ModelTagRemoved': {
        const row = s.modelTags.get(model) as { tags: string } | undefined;
        const tags = JSON.parse(row?.tags ?? '{}') as Record<string, string>;
        if (event.type === 'ModelTagSet') tags[event.data.key] = event.data.value;
        else delete tags[event.data.key];
        s.setModelTags.run(JSON.stringify(tags), at, model);
        return;
      }
    }
  }

  /**
   * The version's row in this batch, read once. Read for a registration too: a second one (a
   * log with a repeated event) changes nothing, as it never did, rather than starting the row
   * over.
   */
  private stagedVersion(model: string, version: number): Staged<VersionRecord> {
    const key = `${version}@${model}`;
    let staged = this.versions.get(key);
    if (!staged) {
      const r = this.statements.version.get(model, version);
      const row = r && {
        model, version, stage: r.stage, source: r.source, digest: r.digest, tags: JSON.parse(r.tags) as Record<string, string>,
        registeredBy: r.registered_by, registeredAt: r.registered_at, updatedAt: r.updated_at, evaluationStatus: r.evaluation_status,
        evaluationPassed: r.evaluation_passed === null ? null : r.evaluation_passed === 1, pendingApproval: r.pending_approval, serving: r.serving === 1,
      };
      staged = { row, changed: false };
      this.versions.set(key, staged);
    }
    return staged;
  }
}
