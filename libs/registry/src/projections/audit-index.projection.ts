import type Database from 'better-sqlite3';
import { isPrivateStream, parseModelVersionStream, streamCategory } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

/**
 * Every event of the log, indexed by model, actor, type and time for the registry-wide
 * audit, except the private credential streams (a verifier is not an audit fact) and the
 * dead letters (operations, with their own admin view: GET /api/v1/dead-letters).
 */
export class AuditIndexProjection {
  private readonly insert;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO audit (position, stream, revision, model, version, type, actor_kind, actor_id, occurred_at, event_id, hash, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  apply(event: RecordedEvent): void {
    if (isPrivateStream(event.streamName) || streamCategory(event.streamName) === 'deadLetter') return;
    const versionId = parseModelVersionStream(event.streamName);
    const model =
      versionId?.model ?? (streamCategory(event.streamName) === 'model' ? event.streamName.slice('model-'.length) : null);
    const m = event.metadata;
    this.insert.run(
      event.position,
      event.streamName,
      event.revision,
      model,
      versionId?.version ?? null,
      event.type,
      m.actor.kind,
      m.actor.id,
      m.occurredAt,
      m.eventId,
      m.hash,
      JSON.stringify(event.data),
    );
  }
}
