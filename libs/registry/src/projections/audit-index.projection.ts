import type Database from 'better-sqlite3';
import { isPrivateStream, parseModelVersionStream, streamCategory } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

/**
 * Categories that are operations rather than audit facts: dead letters (with their own admin
 * view, GET /api/v1/dead-letters) and webhook notices (a disabled subscription, told to its
 * owner; the subscription itself is private, so its receiver's origin and owner stay with
 * those who manage it: GET /api/v1/webhooks/{id}).
 */
const NOT_AUDITED: ReadonlySet<string> = new Set(['deadLetter', 'webhookNotice']);

/**
 * Every event of the log, indexed by model, actor, type and time for the registry-wide
 * audit, except the private streams (a verifier is not an audit fact) and operations (NOT_AUDITED).
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
    if (isPrivateStream(event.streamName) || NOT_AUDITED.has(streamCategory(event.streamName))) return;
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
