import { isPrivateStream, modelOfStream, streamCategory } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { AuditRows } from './audit-index.writer';

/**
 * Categories that are operations rather than audit facts: dead letters (with their own admin
 * view, GET /api/v1/dead-letters) and webhook notices (a disabled subscription, told to its
 * owner; the subscription itself is private, so its receiver's origin and owner stay with
 * those who manage it: GET /api/v1/webhooks/{id}).
 */
const NOT_AUDITED: ReadonlySet<string> = new Set(['deadLetter', 'webhookNotice']);

/**
 * Every event of the log, indexed by model, actor, type and time for the registry-wide audit,
 * except the private streams (a verifier is not an audit fact) and operations (NOT_AUDITED).
 * The index holds what a search filters on and the event's position; the event itself is read
 * from the log (`EventStore.readAt`), which is the audit trail: no second copy of every event's
 * data to write, keep and rebuild. Adds the event's row, if it has one, to `rows` (written by
 * `AuditIndexWriter`).
 */
export const addAuditRow = (rows: AuditRows, event: RecordedEvent): void => {
  if (isPrivateStream(event.streamName) || NOT_AUDITED.has(streamCategory(event.streamName))) return;
  rows.push(event.position, modelOfStream(event.streamName) ?? null, event.type, event.metadata.actor.id, event.metadata.occurredAt);
};
