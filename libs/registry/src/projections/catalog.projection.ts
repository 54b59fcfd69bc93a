import type Database from 'better-sqlite3';
import {
  parseModelVersionStream,
  streamCategory,
  type ModelEvent,
  type ModelVersionEvent,
} from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

/**
 * Model catalog and stage board: models with their aliases and serving version; versions with
 * stage, tags, latest evaluation verdict and pending approval. One event at a time, in log order.
 */
export class CatalogProjection {
  private readonly statements;

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
      registerVersion: db.prepare(
        `INSERT OR IGNORE INTO versions (model, version, stage, source, digest, tags, registered_by, registered_at, updated_at)
         VALUES (?, ?, 'None', ?, ?, ?, ?, ?, ?)`,
      ),
      versionTags: db.prepare(`SELECT tags FROM versions WHERE model = ? AND version = ?`),
      touchVersion: db.prepare(`UPDATE versions SET updated_at = ? WHERE model = ? AND version = ?`),
      setVersion: (column: string) =>
        db.prepare(`UPDATE versions SET ${column} = ?, updated_at = ? WHERE model = ? AND version = ?`),
      evaluation: db.prepare(
        `UPDATE versions SET evaluation_status = ?, evaluation_passed = ?, updated_at = ? WHERE model = ? AND version = ?`,
      ),
    };
  }

  private readonly setters = new Map<string, Database.Statement>();

  private setVersionColumn(column: 'stage' | 'tags' | 'pending_approval' | 'serving'): Database.Statement {
    let statement = this.setters.get(column);
    if (!statement) {
      statement = this.statements.setVersion(column);
      this.setters.set(column, statement);
    }
    return statement;
  }

  apply(event: RecordedEvent): void {
    const category = streamCategory(event.streamName);
    if (category === 'model') this.applyModel(event as unknown as ModelEvent, event.metadata.occurredAt);
    if (category === 'modelVersion') {
      const id = parseModelVersionStream(event.streamName);
      if (id) this.applyVersion(id.model, id.version, event as unknown as ModelVersionEvent, event.metadata.occurredAt);
    }
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

  private applyVersion(model: string, version: number, event: ModelVersionEvent, at: string): void {
    const s = this.statements;
    switch (event.type) {
      case 'ModelVersionRegistered': {
        const d = event.data;
        s.registerVersion.run(model, version, d.source, d.artifactDigest, JSON.stringify(d.tags), d.registeredBy.id, at, at);
        return;
      }
      case 'ModelVersionTagSet':
      case 'ModelVersionTagRemoved': {
        const row = s.versionTags.get(model, version) as { tags: string } | undefined;
        const tags = JSON.parse(row?.tags ?? '{}') as Record<string, string>;
        if (event.type === 'ModelVersionTagSet') tags[event.data.key] = event.data.value;
        else delete tags[event.data.key];
        this.setVersionColumn('tags').run(JSON.stringify(tags), at, model, version);
        return;
      }
      case 'ModelVersionDescriptionUpdated':
        // The description is read from the stream; the board only shows that the version changed.
        s.touchVersion.run(at, model, version);
        return;
      case 'StageTransitioned':
        this.setVersionColumn('stage').run(event.data.toStage, at, model, version);
        return;
      case 'EvaluationRequested':
        s.evaluation.run('running', null, at, model, version);
        return;
      case 'EvaluationCompleted':
        s.evaluation.run('completed', event.data.verdict.passed ? 1 : 0, at, model, version);
        return;
      case 'EvaluationFailed':
        s.evaluation.run('failed', null, at, model, version);
        return;
      case 'ApprovalRequested':
        if (!event.data.afterTheFact) this.setVersionColumn('pending_approval').run(event.data.approvalId, at, model, version);
        return;
      case 'ApprovalQuorumReached':
      case 'ApprovalRejected':
      case 'ApprovalExpired':
        this.setVersionColumn('pending_approval').run(null, at, model, version);
        return;
      case 'ApprovalEvidenceChanged':
        if (event.data.outcome === 'closed') this.setVersionColumn('pending_approval').run(null, at, model, version);
        return;
      case 'DeploymentSucceeded':
        this.setVersionColumn('serving').run(1, at, model, version);
        return;
      case 'ServingEnded':
        this.setVersionColumn('serving').run(0, at, model, version);
        return;
      default:
        return;
    }
  }
}
