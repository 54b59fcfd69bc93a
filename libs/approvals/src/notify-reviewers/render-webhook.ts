import type { Actor, GateCheck, Stage } from '@mrw/contracts';
import type { ApprovalNotice, DeploymentFailedNotice, KeyMetric, LiveMetricBreachedNotice, NoticeEvidence, NoticeKind, NoticeLinks } from './approval-notice';
import { safeLinks } from './notice-text';

/** The `type` of each notice in a generic webhook (Standard Webhooks' `{type, timestamp, data}` payload). */
export const WEBHOOK_NOTICE_TYPES: Readonly<Record<NoticeKind, string>> = {
  'approval-requested': 'approval.requested',
  reminder: 'approval.reminder',
  escalation: 'approval.escalated',
  expired: 'approval.expired',
  voided: 'approval.voided',
  'gate-refused': 'transition.refused',
  'deployment-failed': 'deployment.failed',
  'live-metric-breached': 'live-metric.breached',
};

/** The JSON a generic webhook receives; `data` is the notice itself, minus nothing and plus nothing secret. */
export interface WebhookNoticePayload {
  readonly type: string;
  /** When the fact happened (the notice's `occurredAt`). */
  readonly timestamp: string;
  readonly data: {
    readonly kind: NoticeKind;
    readonly noticeId: string;
    readonly approvalId: string | null;
    readonly requestId: string | null;
    readonly model: string;
    readonly version: number;
    readonly purpose: 'promotion' | 'rollback';
    readonly targetStage: Stage;
    readonly requester: Actor;
    readonly comment: string;
    readonly expiresAt: string | null;
    readonly required: number | null;
    readonly collected: number | null;
    readonly reason: string | null;
    readonly evidence: NoticeEvidence;
    readonly keyMetrics: readonly KeyMetric[];
    readonly checks: readonly GateCheck[];
    readonly links: NoticeLinks | null;
    /** A failed deployment's facts (`deployment.failed`); null for every other notice. */
    readonly deployment:
      | ({ readonly id: string } & Pick<DeploymentFailedNotice, 'environment' | 'target' | 'reason' | 'servingVersion' | 'returnedTo' | 'versionLink'>)
      | null;
    /** A live-metric breach's facts (`live-metric.breached`); null for every other notice. */
    readonly breach: Pick<LiveMetricBreachedNotice, 'metric' | 'direction' | 'threshold' | 'window' | 'rollbackRequested' | 'versionLink'> | null;
  };
}

/** The generic webhook body for a notice: every field present (null when it does not apply), so receivers need no guessing. */
export const renderWebhook = (notice: ApprovalNotice): WebhookNoticePayload => ({
  type: WEBHOOK_NOTICE_TYPES[notice.kind],
  timestamp: notice.occurredAt,
  data: {
    kind: notice.kind,
    noticeId: notice.id,
    approvalId: notice.kind === 'gate-refused' || notice.kind === 'live-metric-breached' ? null : (notice.approvalId ?? null),
    requestId: notice.kind === 'gate-refused' || notice.kind === 'deployment-failed' ? notice.requestId : null,
    model: notice.model,
    version: notice.version,
    purpose: notice.purpose,
    targetStage: notice.targetStage,
    requester: notice.requester,
    comment: notice.comment,
    expiresAt: 'expiresAt' in notice ? notice.expiresAt : null,
    required: 'required' in notice ? notice.required : null,
    collected: 'collected' in notice ? notice.collected : null,
    reason: notice.kind === 'voided' || notice.kind === 'deployment-failed' ? notice.reason : null,
    evidence: notice.evidence,
    keyMetrics: notice.keyMetrics,
    checks: notice.checks,
    links: safeLinks(notice.links) ?? null,
    deployment:
      notice.kind === 'deployment-failed'
        ? {
            id: notice.deploymentId,
            environment: notice.environment,
            target: notice.target,
            reason: notice.reason,
            servingVersion: notice.servingVersion,
            returnedTo: notice.returnedTo,
            versionLink: notice.versionLink,
          }
        : null,
    breach:
      notice.kind === 'live-metric-breached'
        ? {
            metric: notice.metric,
            direction: notice.direction,
            threshold: notice.threshold,
            window: notice.window,
            rollbackRequested: notice.rollbackRequested,
            versionLink: notice.versionLink,
          }
        : null,
  },
});
