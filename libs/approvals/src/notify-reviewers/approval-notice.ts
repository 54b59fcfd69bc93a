import type { Actor, Comparison, GateCheck, LiveMetricWindow, MetricComparison, Stage } from '@mrw/contracts';

/**
 * What every notification about an approval carries, whatever the channel: plain data, put
 * together by the approvals service from the registry's events, then rendered per channel.
 */

/** Why a notice is sent. */
export const NOTICE_KINDS = ['approval-requested', 'reminder', 'escalation', 'expired', 'voided', 'gate-refused', 'deployment-failed', 'live-metric-breached'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** One metric of the candidate next to the champion's, on the same rows (the shape of contracts' `MetricComparison`). */
export interface KeyMetric {
  readonly metric: string;
  readonly candidate: number;
  /** Absent when nothing serves yet, or the champion was not evaluated on this set. */
  readonly champion?: number;
  /** candidate − champion */
  readonly difference?: number;
  /** The paired-bootstrap confidence interval of the difference (95%). */
  readonly ci?: MetricComparison['ci'];
}

/** The evidence the request stands on (rule 5), with the data set named for people. */
export interface NoticeEvidence {
  readonly evaluationId: string | null;
  readonly dataset: { readonly name: string; readonly digest: string } | null;
  readonly championVersion: number | null;
}

/**
 * A reviewer's own links: approve and reject (signed, single-use, bound to that reviewer) and
 * view (the approval in the console). Channels posting to a shared room get links anyone may
 * open, which then ask who is deciding.
 */
export interface NoticeLinks {
  readonly approve: string;
  readonly reject: string;
  readonly view: string;
}

/** What a model version's request is, for every kind of notice. */
interface NoticeBase {
  /**
   * Stable for one notice to one channel (e.g. derived from the event it answers): the
   * `webhook-id` a receiver deduplicates retries by.
   */
  readonly id: string;
  /** When the fact the notice tells of happened (the event's `occurredAt`), ISO 8601. */
  readonly occurredAt: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly targetStage: Stage;
  readonly requester: Actor;
  readonly comment: string;
  readonly evidence: NoticeEvidence;
  readonly keyMetrics: readonly KeyMetric[];
  /** The automated checks with their numbers (all of them; the failing ones for `gate-refused`). */
  readonly checks: readonly GateCheck[];
  /** Links for whoever reads this copy; a recipient's own links replace them. */
  readonly links?: NoticeLinks;
}

/** A request that awaits decisions. */
interface OpenApproval extends NoticeBase {
  readonly approvalId: string;
  readonly expiresAt: string;
  readonly required: number;
  /** Decisions that count so far. */
  readonly collected: number;
  /** An emergency rollback already deployed: this approval reviews it after the fact. */
  readonly afterTheFact?: boolean;
}

export interface ApprovalRequestedNotice extends OpenApproval {
  readonly kind: 'approval-requested';
}

export interface ReminderNotice extends OpenApproval {
  readonly kind: 'reminder';
}

/** To the escalation contact: half-way to expiry without quorum. */
export interface EscalationNotice extends OpenApproval {
  readonly kind: 'escalation';
}

/** To the requester and reviewers: nobody decided in time; the version is no longer blocked. */
export interface ExpiredNotice extends NoticeBase {
  readonly kind: 'expired';
  readonly approvalId: string;
  readonly expiresAt: string;
}

/** Evidence changed before quorum: the approvals collected so far no longer count. */
export interface VoidedNotice extends NoticeBase {
  readonly kind: 'voided';
  readonly approvalId: string;
  /** Why, for people: e.g. "a new evaluation replaced 7f3a…", "v6 is no longer the champion". */
  readonly reason: string;
  /** Re-opened on the new evidence (decide again), or closed because it no longer passes the gates. */
  readonly outcome: 'reopened' | 'closed';
  readonly expiresAt: string;
  readonly required: number;
  /** Whose approvals were void. */
  readonly voided: readonly Actor[];
}

/** To the requester only: the automated gates refused the request; reviewers are not bothered. */
export interface GateRefusedNotice extends NoticeBase {
  readonly kind: 'gate-refused';
  /** The transition request that was refused. */
  readonly requestId: string;
}

/**
 * To the requester, the reviewers who approved and the rule's rooms: the deployment the approval
 * led to failed (rule 4.7), so the candidate went back to its previous stage and the champion
 * keeps serving. `links.view` is the deployment; `versionLink` the version.
 */
export interface DeploymentFailedNotice extends NoticeBase {
  readonly kind: 'deployment-failed';
  readonly deploymentId: string;
  /** The transition request or rollback the deployment carried out. */
  readonly requestId: string;
  /** The approval that let it deploy (for an emergency rollback, its after-the-fact review); absent when none was needed. */
  readonly approvalId?: string;
  /** Where it was to serve: the targets' environments and kinds (`production`, `github-actions`). */
  readonly environment: string;
  readonly target: string;
  /** What failed, as the deployer reported it. */
  readonly reason: string;
  /** The version that keeps serving; null when none served before (and none does now). */
  readonly servingVersion: number | null;
  /** The stage the candidate went back to. */
  readonly returnedTo: Stage;
  readonly versionLink: string;
}

/**
 * To the Production rule's rooms and reviewers: the serving version's live metric stayed beyond
 * the archival policy's threshold for its whole window (issue 12). About no approval: `id` is
 * the `LiveMetricBreached` event's, `requester` the service that reported it, `links.view` and
 * `versionLink` the version.
 */
export interface LiveMetricBreachedNotice extends NoticeBase {
  readonly kind: 'live-metric-breached';
  readonly metric: string;
  readonly direction: 'below' | 'above';
  readonly threshold: number;
  readonly window: LiveMetricWindow;
  /** Whether the registry requested a rollback because of it (`policy.archival.liveMetric.rollback`). */
  readonly rollbackRequested: boolean;
  readonly versionLink: string;
}

export type ApprovalNotice =
  | ApprovalRequestedNotice
  | ReminderNotice
  | EscalationNotice
  | ExpiredNotice
  | VoidedNotice
  | GateRefusedNotice
  | DeploymentFailedNotice
  | LiveMetricBreachedNotice;

/** Whether the reader of this notice can still decide (so approve/reject buttons and links belong in it). */
export const isDecidable = (notice: ApprovalNotice): notice is ApprovalRequestedNotice | ReminderNotice | EscalationNotice | VoidedNotice => {
  switch (notice.kind) {
    case 'approval-requested':
    case 'reminder':
    case 'escalation':
      return true;
    case 'voided':
      return notice.outcome === 'reopened';
    case 'expired':
    case 'gate-refused':
    case 'deployment-failed':
    case 'live-metric-breached':
      return false;
    default: {
      const never: never = notice;
      return never;
    }
  }
};

/** The approval a notice is about, or undefined for a refused request (no approval was opened), a deployment no approval led to, or a live-metric breach. */
export const approvalIdOf = (notice: ApprovalNotice): string | undefined =>
  notice.kind === 'gate-refused' || notice.kind === 'live-metric-breached' ? undefined : notice.approvalId;

/**
 * The key metrics of a candidate: each of its metrics next to the champion's from the
 * evaluation's comparison (same rows), metrics named in `order` first, then the rest by name.
 */
export const keyMetricsOf = (
  metrics: Readonly<Record<string, number>>,
  comparison: Comparison | null | undefined,
  order: readonly string[] = [],
): KeyMetric[] => {
  const names = Object.keys(metrics);
  const rank = (name: string): number => {
    const at = order.indexOf(name);
    return at === -1 ? order.length : at;
  };
  return names
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((metric) => {
      const candidate = metrics[metric] as number;
      const compared = comparison?.metrics[metric];
      if (!compared) return { metric, candidate };
      return { metric, candidate, champion: compared.champion, difference: compared.difference, ...(compared.ci ? { ci: compared.ci } : {}) };
    });
};
