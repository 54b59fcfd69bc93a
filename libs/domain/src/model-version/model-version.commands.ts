import type { Actor, CommandMetadata, DecisionChannel, EvaluationMeasurements, LiveMetricWindow, ModelPolicy, NotificationOutcome, Role, Stage } from '@mrw/contracts';
import type { GateContext } from '../gates/promotion-gates';
import type { DescriptiveFieldError } from '../shared/descriptive-fields';

type Command<Type extends string, Data> = {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
};

/** Who is acting, as far as approval rules care: roles and reviewer scope from their token. */
export interface Principal {
  readonly roles: readonly Role[];
  /** Models a scoped reviewer may review; empty means all. */
  readonly models: readonly string[];
}

export type RegisterModelVersion = Command<
  'RegisterModelVersion',
  {
    model: string;
    version: number;
    source: string;
    artifactDigest: string | null;
    runId: string | null;
    metrics: Record<string, number>;
    tags: Record<string, string>;
    description: string;
  }
>;
export type SetVersionTag = Command<'SetVersionTag', { key: string; value: string }>;
export type RemoveVersionTag = Command<'RemoveVersionTag', { key: string }>;
export type UpdateVersionDescription = Command<'UpdateVersionDescription', { description: string }>;
export type RequestStageTransition = Command<
  'RequestStageTransition',
  { toStage: Stage; comment: string; context: GateContext; archiveExistingVersions?: boolean }
>;
export type RequestEvaluation = Command<'RequestEvaluation', { context: GateContext }>;
export type RecordEvaluationProgress = Command<
  'RecordEvaluationProgress',
  { evaluationId: string; rowsDone: number; rowsTotal: number }
>;
/** The evaluator's measurements; the decider judges them against the policy in `context`. */
export type RecordEvaluationResult = Command<'RecordEvaluationResult', EvaluationMeasurements & { context: GateContext }>;
/** The deployer's report on serving an evaluation's candidate in the shadow environment. */
export type RecordShadowDeployment = Command<
  'RecordShadowDeployment',
  { evaluationId: string; environment: string } & ({ outcome: 'ready'; endpoint: string } | { outcome: 'failed'; reason: string })
>;
export type RecordEvaluationFailure = Command<
  'RecordEvaluationFailure',
  { evaluationId: string; reason: string; code: string }
>;
/** Where a decision came from, and who carried it to the registry if not the person (the actor) themselves. */
interface DecisionOrigin {
  readonly channel?: DecisionChannel;
  readonly relayedBy?: Actor;
}
export type GrantApproval = Command<
  'GrantApproval',
  { approvalId: string; comment: string; principal: Principal; context: GateContext } & DecisionOrigin
>;
export type RejectApproval = Command<
  'RejectApproval',
  { approvalId: string; comment: string; principal: Principal } & DecisionOrigin
>;
export type ExpireApproval = Command<'ExpireApproval', { approvalId: string }>;
export type RecordNotificationOutcome = Command<'RecordNotificationOutcome', NotificationOutcome>;
export type RecordDeploymentStarted = Command<
  'RecordDeploymentStarted',
  { deploymentId: string; environment: string; target: string }
>;
export type RecordDeploymentSucceeded = Command<
  'RecordDeploymentSucceeded',
  { deploymentId: string; endpoint: string | null }
>;
export type RecordDeploymentFailed = Command<'RecordDeploymentFailed', { deploymentId: string; reason: string }>;
/** Another version took over serving; optionally archive this one (policy or rollback). */
export type EndServing = Command<
  'EndServing',
  { supersededBy: number; deploymentId: string; reason: 'superseded' | 'rolled-back'; archive: boolean }
>;
export type RequestRollback = Command<
  'RequestRollback',
  {
    reason: string;
    emergency: boolean;
    principal: Principal;
    policy: ModelPolicy;
    servingVersion: number | null;
  }
>;
/** The archival service retires a version: the rule, why in words, and (recorded for transparency) its parameters and evidence. */
export type ArchiveModelVersion = Command<
  'ArchiveModelVersion',
  {
    rule: string;
    detail: string;
    parameters?: Record<string, unknown>;
    evidence?: Record<string, unknown>;
    servingVersion: number | null;
  }
>;
/**
 * The archival service saw the serving version's live metric beyond its threshold for the
 * policy's whole window. `rollbackRequested`: the registry requests a rollback because of it.
 */
export type RecordLiveMetricBreach = Command<
  'RecordLiveMetricBreach',
  {
    metric: string;
    direction: 'below' | 'above';
    threshold: number;
    window: LiveMetricWindow;
    rollbackRequested: boolean;
    servingVersion: number | null;
  }
>;

export type ModelVersionCommand =
  | RegisterModelVersion
  | SetVersionTag
  | RemoveVersionTag
  | UpdateVersionDescription
  | RequestStageTransition
  | RequestEvaluation
  | RecordEvaluationProgress
  | RecordEvaluationResult
  | RecordEvaluationFailure
  | RecordShadowDeployment
  | GrantApproval
  | RejectApproval
  | ExpireApproval
  | RecordNotificationOutcome
  | RecordDeploymentStarted
  | RecordDeploymentSucceeded
  | RecordDeploymentFailed
  | EndServing
  | RequestRollback
  | ArchiveModelVersion
  | RecordLiveMetricBreach;

export type ModelVersionErrorCode =
  | 'VERSION_NOT_FOUND'
  | 'VERSION_ALREADY_EXISTS'
  | 'TAG_NOT_FOUND'
  | 'ALREADY_IN_STAGE'
  | 'TRANSITION_NOT_ALLOWED'
  | 'ROLLBACK_REQUIRED'
  | 'APPROVAL_PENDING'
  | 'DEPLOYMENT_IN_PROGRESS'
  | 'VERSION_IS_SERVING'
  | 'NO_EVALUATION_POLICY'
  | 'NOT_IN_STAGING'
  | 'EVALUATION_NOT_FOUND'
  | 'EVALUATION_NOT_RUNNING'
  | 'EVALUATION_RUNNING'
  | 'NOT_SHADOW_EVALUATION'
  | 'APPROVAL_NOT_FOUND'
  | 'APPROVAL_NOT_PENDING'
  | 'APPROVAL_EXPIRED'
  | 'APPROVAL_NOT_EXPIRED'
  | 'NOT_A_REVIEWER'
  | 'APPROVER_IS_REQUESTER'
  | 'APPROVER_IS_REGISTRANT'
  | 'ALREADY_APPROVED'
  | 'DEPLOYMENT_NOT_FOUND'
  | 'DEPLOYMENT_NOT_ACTIVE'
  | 'NOT_SERVING'
  | 'ALREADY_SERVING'
  | 'ROLLBACK_TARGET_NEVER_SERVED'
  | 'ROLLBACK_TARGET_NOT_ELIGIBLE'
  | 'EMERGENCY_NOT_ALLOWED'
  | DescriptiveFieldError;
