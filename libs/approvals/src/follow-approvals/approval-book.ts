import { Injectable } from '@nestjs/common';
import {
  parseModelVersionStream,
  type Actor,
  type ApprovalEvidenceChanged,
  type ApprovalGranted,
  type ApprovalRejected,
  type ApprovalRequested,
  type DecisionChannel,
  type Evidence,
  type GateCheck,
  type RollbackRequested,
  type Stage,
  type StageTransitionRequested,
} from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';

/** The registry events the book follows: the requests (for their comment) and the approvals' lifecycle. */
export const APPROVAL_EVENT_TYPES = [
  'StageTransitionRequested',
  'RollbackRequested',
  'ApprovalRequested',
  'ApprovalGranted',
  'ApprovalRejected',
  'ApprovalExpired',
  'ApprovalQuorumReached',
  'ApprovalEvidenceChanged',
] as const;

export type KnownApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'void';

/** A person's decision as the registry recorded it. */
export interface RecordedDecision {
  readonly approvalId: string;
  readonly decision: 'approve' | 'reject';
  readonly by: Actor;
  readonly channel: DecisionChannel;
  readonly comment: string;
  readonly at: string;
  /** The id of the recorded event: the id of the command that decided (the registry reuses it). */
  readonly eventId: string;
  /** An approval's place towards the quorum: the approvals collected with it, and how many are needed. */
  readonly count?: number;
  readonly required?: number;
}

/** What the approvals service knows of one approval request, from the registry's events. */
export interface KnownApproval {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly targetStage: Stage;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  /** The requester's comment (a rollback's reason). */
  readonly comment: string;
  readonly expiresAt: string;
  readonly required: number;
  readonly reviewers: readonly string[];
  readonly evidence: Evidence;
  readonly checks: readonly GateCheck[];
  readonly afterTheFact: boolean;
  /** As recorded; a pending approval past `expiresAt` is expired whatever the log says yet (see `statusAt`). */
  readonly status: KnownApprovalStatus;
  /** Approvals collected on the current evidence (voided ones are gone). */
  readonly approvals: readonly RecordedDecision[];
  readonly rejection: RecordedDecision | null;
}

/** An approval's status at a moment: a pending one past its expiry blocks nothing and takes no decision. */
export const statusAt = (approval: KnownApproval, now: Date): KnownApprovalStatus =>
  approval.status === 'pending' && now.getTime() >= Date.parse(approval.expiresAt) ? 'expired' : approval.status;

const decisionOf = (event: RecordedEvent, decision: 'approve' | 'reject'): RecordedDecision => {
  const data = event.data as (ApprovalGranted | ApprovalRejected)['data'];
  return {
    approvalId: data.approvalId,
    decision,
    by: data.by,
    // Decisions recorded before channels existed came over the API.
    channel: data.channel ?? 'api',
    comment: data.comment,
    at: event.metadata.occurredAt,
    eventId: event.metadata.eventId,
    ...('count' in data ? { count: data.count, required: data.required } : {}),
  };
};

/**
 * The approvals service's own view of approval requests and the decisions recorded on them,
 * folded from the registry's events (never with the registry's deciders): what a one-click
 * link page shows, whether a link or a chat button may still decide, and whether a relayed
 * decision was recorded (by its event id). Kept in memory and rebuilt from the log at start.
 */
@Injectable()
export class ApprovalBook {
  private readonly approvals = new Map<string, KnownApproval>();
  /** Per version stream, the latest request: its approval, if any, follows it in the same append. */
  private readonly lastRequest = new Map<string, { readonly requestId: string; readonly comment: string }>();
  private readonly decisions = new Map<string, RecordedDecision>();
  private readonly listeners = new Set<(decision: RecordedDecision) => void>();

  /** Folds one registry event; events of other types and streams are ignored, a replayed one changes nothing. */
  apply(event: RecordedEvent): void {
    const target = parseModelVersionStream(event.streamName);
    if (!target) return;
    if (event.type === 'StageTransitionRequested') {
      const data = event.data as StageTransitionRequested['data'];
      this.lastRequest.set(event.streamName, { requestId: data.requestId, comment: data.comment });
      return;
    }
    if (event.type === 'RollbackRequested') {
      const data = event.data as RollbackRequested['data'];
      this.lastRequest.set(event.streamName, { requestId: data.rollbackId, comment: data.reason });
      return;
    }
    const approvalId = (event.data as { approvalId?: unknown } | null)?.approvalId;
    if (typeof approvalId !== 'string') return;
    if (event.type === 'ApprovalRequested') {
      const data = event.data as ApprovalRequested['data'];
      const request = this.lastRequest.get(event.streamName);
      this.approvals.set(approvalId, {
        id: approvalId,
        model: target.model,
        version: target.version,
        purpose: data.purpose,
        targetStage: data.targetStage,
        requestedBy: data.requestedBy,
        requestedAt: event.metadata.occurredAt,
        comment: request?.requestId === data.requestId ? request.comment : '',
        expiresAt: data.expiresAt,
        required: data.rule.required,
        reviewers: data.rule.reviewers,
        evidence: data.evidence,
        checks: data.checks,
        afterTheFact: data.afterTheFact,
        status: 'pending',
        approvals: [],
        rejection: null,
      });
      return;
    }
    const approval = this.approvals.get(approvalId);
    switch (event.type) {
      case 'ApprovalGranted': {
        const decision = decisionOf(event, 'approve');
        this.record(decision);
        if (approval && !approval.approvals.some((a) => a.eventId === decision.eventId)) {
          this.approvals.set(approvalId, { ...approval, approvals: [...approval.approvals, decision] });
        }
        return;
      }
      case 'ApprovalRejected': {
        const decision = decisionOf(event, 'reject');
        this.record(decision);
        if (approval) this.approvals.set(approvalId, { ...approval, status: 'rejected', rejection: decision });
        return;
      }
      case 'ApprovalQuorumReached':
        if (approval) this.approvals.set(approvalId, { ...approval, status: 'approved' });
        return;
      case 'ApprovalExpired':
        if (approval && approval.status === 'pending') this.approvals.set(approvalId, { ...approval, status: 'expired' });
        return;
      case 'ApprovalEvidenceChanged': {
        const data = event.data as ApprovalEvidenceChanged['data'];
        if (!approval) return;
        // Rule 5: collected approvals are void; the request re-opens on the new evidence or closes.
        this.approvals.set(approvalId, {
          ...approval,
          evidence: data.current,
          checks: data.checks,
          approvals: [],
          status: data.outcome === 'closed' ? 'void' : approval.status,
        });
        return;
      }
      default:
        return;
    }
  }

  get(approvalId: string): KnownApproval | undefined {
    return this.approvals.get(approvalId);
  }

  /** The decision a command recorded, by the command's id (the first event of a command reuses it). */
  decisionRecordedBy(commandId: string): RecordedDecision | undefined {
    return this.decisions.get(commandId);
  }

  /** Calls `listener` with every decision folded from now on; returns the unsubscribe. */
  onDecision(listener: (decision: RecordedDecision) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(decision: RecordedDecision): void {
    if (this.decisions.has(decision.eventId)) return;
    this.decisions.set(decision.eventId, decision);
    for (const listener of this.listeners) listener(decision);
  }
}
