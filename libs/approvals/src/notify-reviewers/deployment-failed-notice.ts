import type { Actor, NotifyChannel } from '@mrw/contracts';
import type { KnownApproval } from '../follow-approvals/approval-book';
import type { DeploymentFailedNotice, NoticeEvidence } from './approval-notice';
import type { RequestedDeployment } from './review-facts';

/** What the approvals service knows of a failed deployment, from the registry's events. */
export interface DeploymentFailure {
  readonly model: string;
  readonly version: number;
  readonly deployment: RequestedDeployment;
  /** `DeploymentFailed`'s reason and time. */
  readonly reason: string;
  readonly failedAt: string;
  readonly requester: Actor;
  /** The request's comment, or the rollback's reason. */
  readonly comment: string;
  /** The approval that led to the deployment, if one was opened. */
  readonly approvalId?: string;
  /** The evidence the approval stood on, if any; the champion is the deployment's. */
  readonly evidence?: NoticeEvidence;
  /** `MRW_PUBLIC_URL`, the base of the links. */
  readonly publicUrl: string;
}

/**
 * The notice of a failed deployment (rule 4.7): what failed and why, that the champion keeps
 * serving and the candidate went back to its previous stage, with links to the deployment and
 * the version. Its `id` is the deployment's; each delivery derives its own from it.
 */
export const deploymentFailedNotice = (failure: DeploymentFailure): DeploymentFailedNotice => {
  const { deployment, model, version, publicUrl } = failure;
  const deploymentLink = `${publicUrl}/api/v1/deployments/${deployment.deploymentId}`;
  return {
    kind: 'deployment-failed',
    id: deployment.deploymentId,
    occurredAt: failure.failedAt,
    model,
    version,
    purpose: deployment.purpose,
    targetStage: 'Production',
    requester: failure.requester,
    comment: failure.comment,
    evidence: { evaluationId: failure.evidence?.evaluationId ?? null, dataset: failure.evidence?.dataset ?? null, championVersion: deployment.replacing },
    // The failure is the news: the evaluation behind the approval was told with the request.
    keyMetrics: [],
    checks: [],
    links: { approve: deploymentLink, reject: deploymentLink, view: deploymentLink },
    deploymentId: deployment.deploymentId,
    requestId: deployment.requestId,
    ...(failure.approvalId ? { approvalId: failure.approvalId } : {}),
    environment: deployment.environment,
    target: deployment.target,
    reason: failure.reason,
    servingVersion: deployment.replacing,
    returnedTo: deployment.previousStage,
    versionLink: `${publicUrl}/api/v1/models/${model}/versions/${version}`,
  };
};

/** Who hears of a failed deployment: the rule's rooms, reviewers on its email channel, and the requester by email. */
export interface FailureAudience {
  readonly channels: readonly NotifyChannel[];
  readonly reviewers: readonly string[];
  readonly direct: readonly string[];
}

/**
 * The people of the approval that led to a failed deployment: its requester, and the reviewers
 * whose approvals let it deploy; when no approval counted (an emergency rollback, reviewed after
 * the fact, or a rule that needs nobody) the rule's reviewers instead. Nothing when the rule
 * names no channel: the approval's channels are where its people agreed to be told.
 */
export const failureAudience = (input: {
  readonly channels: readonly NotifyChannel[];
  readonly requester: Actor;
  /** The approval that led to the deployment, as the approval book knows it. */
  readonly approval: Pick<KnownApproval, 'afterTheFact' | 'approvals'> | undefined;
  /** Those who may review under the rule (neither the requester nor the registrant). */
  readonly ruleReviewers: readonly string[];
}): FailureAudience | undefined => {
  if (input.channels.length === 0) return undefined;
  const approvers =
    input.approval && !input.approval.afterTheFact
      ? [...new Set(input.approval.approvals.flatMap((decision) => (decision.by.kind === 'user' ? [decision.by.id] : [])))]
      : [];
  const requester = input.requester.kind === 'user' ? input.requester.id : undefined;
  return {
    channels: input.channels,
    reviewers: (approvers.length > 0 ? approvers : input.ruleReviewers).filter((subject) => subject !== requester),
    direct: requester ? [requester] : [],
  };
};
