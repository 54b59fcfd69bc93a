import { modelOfStream, parseModelVersionStream } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { redactSecretSettings } from '@mrw/platform';

/** One event as people read it: in the audit search (`GET /api/v1/audit`) and on the live stream (`GET /api/v1/events/stream`). */
export interface AuditEntry {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly model: string | null;
  readonly version: number | null;
  readonly type: string;
  readonly actor: { readonly kind: string; readonly id: string };
  readonly occurredAt: string;
  readonly eventId: string;
  readonly hash: string;
  readonly data: unknown;
}

/**
 * The entry people see: a policy's sealed channel secrets as `[encrypted]` and plain secret
 * settings by host only, as every other read of a policy shows them. The stored event keeps its
 * sealed values (and its hash), so the chain still verifies.
 */
export const auditEntry = (entry: AuditEntry): AuditEntry => ({ ...entry, data: redactSecretSettings(entry.data) });

/** An event of the log as an audit entry (see `auditEntry`). */
export const auditEntryOf = (event: RecordedEvent): AuditEntry =>
  auditEntry({
    position: Number(event.position),
    stream: event.streamName,
    revision: event.revision,
    model: modelOfStream(event.streamName) ?? null,
    version: parseModelVersionStream(event.streamName)?.version ?? null,
    type: event.type,
    actor: { kind: event.metadata.actor.kind, id: event.metadata.actor.id },
    occurredAt: event.metadata.occurredAt,
    eventId: event.metadata.eventId,
    hash: event.metadata.hash,
    data: event.data,
  });
