import type { ComponentChildren } from 'preact';
import type { AuditEvent, ChainVerification } from '@mrw/client/browser';
import { formatActor, formatTime, shortHash } from '../shared/format';
import { Badge, DataTable, type Column } from '../shared/ui';

/** The hash chain's verdict, recomputed by the registry: the badge people look for first. */
export const ChainBadge = ({ verification }: { verification: ChainVerification | undefined }) => {
  if (!verification) return <Badge tone="muted">verifying…</Badge>;
  return verification.valid ? (
    <Badge tone="ok" title={`head ${verification.head ?? ''}`}>
      ✓ hash chain verified ({verification.events} events)
    </Badge>
  ) : (
    <Badge tone="bad">
      ✗ hash chain broken at revision {verification.brokenAt}: {verification.reason}
    </Badge>
  );
};

/** What an event says in one line, for the trail. */
const gist = (event: AuditEvent): string => {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'StageTransitionRequested':
      return `${String(d['fromStage'])} → ${String(d['toStage'])} requested${d['comment'] ? `: “${String(d['comment'])}”` : ''}`;
    case 'StageTransitioned':
      return `${String(d['fromStage'])} → ${String(d['toStage'])}`;
    case 'ApprovalGranted':
    case 'ApprovalRejected':
      return d['comment'] ? `“${String(d['comment'])}”` : '';
    case 'EvaluationCompleted':
      return `on ${String((d['set'] as { name?: string } | undefined)?.name ?? '')}: ${(d['verdict'] as { passed?: boolean } | undefined)?.passed ? 'passed' : 'failed'} its gates`;
    case 'DeploymentSucceeded':
      return d['endpoint'] ? `serving at ${String(d['endpoint'])}` : 'succeeded';
    case 'DeploymentFailed':
    case 'EvaluationFailed':
      return String(d['reason'] ?? '');
    default:
      return '';
  }
};

/** The columns of an audit trail, shared with the audit search: when, who, what, and the event's hash. */
export const auditColumns = <E extends { readonly occurredAt: string; readonly actor: AuditEvent['actor']; readonly type: string; readonly hash: string }>(
  what: (event: E) => ComponentChildren,
): ReadonlyArray<Column<E>> => [
  { header: 'When', cell: (e) => formatTime(e.occurredAt) },
  { header: 'Who', cell: (e) => formatActor(e.actor) },
  { header: 'What', cell: what },
  { header: 'Hash', cell: (e) => <code title={e.hash}>{shortHash(e.hash, 10)}</code> },
];

const TRAIL_COLUMNS: ReadonlyArray<Column<AuditEvent>> = [
  { header: '#', numeric: true, cell: (e) => e.revision },
  ...auditColumns<AuditEvent>((e) => (
    <>
      <strong>{e.type}</strong> <span class="muted">{gist(e)}</span>
    </>
  )),
];

export const AuditTrail = ({ events }: { events: readonly AuditEvent[] }) => (
  <DataTable label="Audit trail" className="audit" columns={TRAIL_COLUMNS} rows={events} rowKey={(e) => e.eventId} rowData={(e) => ({ 'data-type': e.type })} />
);
