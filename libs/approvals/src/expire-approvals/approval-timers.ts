import { deriveId, parseModelVersionStream, type ApprovalEvidenceChanged, type ApprovalRequested, type CommandMessage } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { PoisonMessageError } from '@mrw/messaging';

/**
 * The approvals service's timer kinds. Expiry is built; reminders and the half-way
 * escalation are the same mechanism with another handler (see the README): one timer of
 * each kind per approval, with the ids below, cancelled together when the approval closes.
 */
export const APPROVAL_TIMER_KINDS = {
  expiry: 'approval-expiry',
  reminder: 'approval-reminder',
  escalation: 'approval-escalation',
} as const;

/**
 * How long after `expiresAt` the expiry fires: the registry decides `ExpireApproval` by its
 * own clock and refuses it before `expiresAt`, so a registry host whose clock is a little
 * behind this service's still sees the approval expired.
 */
export const EXPIRY_GRACE_MS = 5_000;

/** The timers of one approval, by kind: ids are readable in `list()` and unique per approval. */
export const approvalTimerIds = (approvalId: string): Record<keyof typeof APPROVAL_TIMER_KINDS, string> => ({
  expiry: `approval-expiry:${approvalId}`,
  reminder: `approval-reminder:${approvalId}`,
  escalation: `approval-escalation:${approvalId}`,
});

/** What the expiry handler needs to tell the registry, taken from `ApprovalRequested` and its stream. */
export interface ExpiryPayload {
  readonly approvalId: string;
  readonly model: string;
  readonly version: number;
  readonly expiresAt: string;
  readonly correlationId: string;
  /** The `ApprovalRequested` event: the expiry is its consequence. */
  readonly causationId: string;
}

export interface TimerToSchedule<P> {
  readonly id: string;
  readonly dueAt: Date;
  readonly kind: string;
  readonly payload: P;
}

/** The expiry timer of an opened approval (after-the-fact reviews expire too); a malformed event is poison. */
export const expiryTimerOf = (event: RecordedEvent): TimerToSchedule<ExpiryPayload> => {
  const target = parseModelVersionStream(event.streamName);
  if (!target) throw new PoisonMessageError(`${event.type} on ${event.streamName}: not a model version stream`);
  const data = event.data as Partial<ApprovalRequested['data']>;
  const expiresAt = typeof data.expiresAt === 'string' ? Date.parse(data.expiresAt) : Number.NaN;
  if (typeof data.approvalId !== 'string' || data.approvalId.length === 0 || !Number.isFinite(expiresAt)) {
    throw new PoisonMessageError(`${event.type} on ${event.streamName}: no approval id or expiry time`);
  }
  return {
    id: approvalTimerIds(data.approvalId).expiry,
    dueAt: new Date(expiresAt + EXPIRY_GRACE_MS),
    kind: APPROVAL_TIMER_KINDS.expiry,
    payload: {
      approvalId: data.approvalId,
      model: target.model,
      version: target.version,
      expiresAt: new Date(expiresAt).toISOString(),
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.eventId,
    },
  };
};

/**
 * The approval an event closes, if it closes one: quorum, rejection, expiry, or evidence
 * that no longer passes the gates. Evidence that changed but still passes re-opens the same
 * approval with the same expiry, so its timers stay.
 */
export const approvalClosedBy = (event: RecordedEvent): string | undefined => {
  const data = event.data as { approvalId?: unknown; outcome?: ApprovalEvidenceChanged['data']['outcome'] };
  if (typeof data.approvalId !== 'string') return undefined;
  switch (event.type) {
    case 'ApprovalQuorumReached':
    case 'ApprovalRejected':
    case 'ApprovalExpired':
      return data.approvalId;
    case 'ApprovalEvidenceChanged':
      return data.outcome === 'closed' ? data.approvalId : undefined;
    default:
      return undefined;
  }
};

/**
 * The `ExpireApproval` command of an expiry timer. Its id derives from the approval, so a
 * second firing (a crash before the timer was marked fired) is a replay the registry
 * appends nothing for.
 */
export const expireApprovalCommand = (payload: ExpiryPayload): CommandMessage => ({
  commandId: deriveId(payload.approvalId, 'expire'),
  type: 'ExpireApproval',
  model: payload.model,
  version: payload.version,
  data: { approvalId: payload.approvalId },
  correlationId: payload.correlationId,
  causationId: payload.causationId,
});
