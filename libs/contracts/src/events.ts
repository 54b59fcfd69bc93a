import type { Actor, DomainEvent } from './envelope';
import type {
  ApprovalRule,
  Comparison,
  DeploymentTarget,
  Evidence,
  GateCheck,
  ModelPolicy,
  Stage,
  Verdict,
} from './lifecycle';

// ---- model-<name> -------------------------------------------------------------------

export type ModelCreated = DomainEvent<
  'ModelCreated',
  { model: string; description: string; tags: Record<string, string> }
>;
export type ModelPolicySet = DomainEvent<'ModelPolicySet', { model: string; policy: ModelPolicy }>;
/** Claims the next version number before the version's own stream is written. */
export type ModelVersionNumberReserved = DomainEvent<
  'ModelVersionNumberReserved',
  { model: string; version: number; commandId: string }
>;
export type ModelAliasSet = DomainEvent<
  'ModelAliasSet',
  { model: string; alias: string; version: number; previousVersion: number | null }
>;
export type ModelAliasRemoved = DomainEvent<
  'ModelAliasRemoved',
  { model: string; alias: string; version: number }
>;
/** The model's description was replaced (never appended when it is unchanged). */
export type ModelDescriptionUpdated = DomainEvent<'ModelDescriptionUpdated', { model: string; description: string }>;
/** A model tag was added or its value changed. */
export type ModelTagSet = DomainEvent<'ModelTagSet', { model: string; key: string; value: string }>;
export type ModelTagRemoved = DomainEvent<'ModelTagRemoved', { model: string; key: string }>;
/** The version that serves traffic changed: "what was in Production on date X". */
export type ModelServingVersionChanged = DomainEvent<
  'ModelServingVersionChanged',
  { model: string; version: number; previousVersion: number | null; deploymentId: string }
>;

export type ModelEvent =
  | ModelCreated
  | ModelPolicySet
  | ModelVersionNumberReserved
  | ModelAliasSet
  | ModelAliasRemoved
  | ModelServingVersionChanged
  | ModelDescriptionUpdated
  | ModelTagSet
  | ModelTagRemoved;

// ---- modelVersion-<name>@<version> --------------------------------------------------

export type ModelVersionRegistered = DomainEvent<
  'ModelVersionRegistered',
  {
    model: string;
    version: number;
    source: string;
    artifactDigest: string | null;
    runId: string | null;
    metrics: Record<string, number>;
    tags: Record<string, string>;
    description: string;
    registeredBy: Actor;
  }
>;
export type ModelVersionTagSet = DomainEvent<'ModelVersionTagSet', { key: string; value: string }>;
export type ModelVersionTagRemoved = DomainEvent<'ModelVersionTagRemoved', { key: string }>;
/** The version's description was replaced (never appended when it is unchanged). */
export type ModelVersionDescriptionUpdated = DomainEvent<'ModelVersionDescriptionUpdated', { description: string }>;

export type StageTransitionRequested = DomainEvent<
  'StageTransitionRequested',
  {
    requestId: string;
    fromStage: Stage;
    toStage: Stage;
    comment: string;
    requestedBy: Actor;
    /** MLflow's `archive_existing_versions`: once the version is in `toStage` (serving, for Production), the others there are archived by the usual rules. Absent when not asked. */
    archiveExistingVersions?: true;
  }
>;

/** Why a stage changed. */
export type TransitionTrigger =
  | { kind: 'request'; requestId: string }
  | { kind: 'approval'; requestId: string; approvalId: string }
  | { kind: 'deployment-failed'; deploymentId: string }
  | { kind: 'rollback'; rollbackId: string }
  | {
      kind: 'archival';
      rule: string;
      detail: string;
      /** The archival rule's settings as applied (e.g. `{supersededAfter: 'P30D'}`); absent from older events. */
      parameters?: Record<string, unknown>;
      /** What it rested on: dates, a metric window with its sample counts; absent from older events. */
      evidence?: Record<string, unknown>;
    };

export type StageTransitioned = DomainEvent<
  'StageTransitioned',
  { fromStage: Stage; toStage: Stage; trigger: TransitionTrigger }
>;

/** The automated gates refused a promotion: audited like any other decision. */
export type PromotionRefused = DomainEvent<
  'PromotionRefused',
  { requestId: string; toStage: Stage; checks: GateCheck[] }
>;

/** Where a model's file lives and the digest it must have (null when the registrant recorded none). */
export interface ArtifactRef {
  readonly source: string;
  readonly digest: string | null;
}

/**
 * Everything the evaluator needs to run, so it never reads the registry's streams: the set to
 * use, the candidate's artifact and the serving champion's. The thresholds are not here: the
 * registry judges the measurements against the policy when the result is recorded.
 */
export type EvaluationRequested = DomainEvent<
  'EvaluationRequested',
  {
    evaluationId: string;
    set: { name: string; digest: string | null };
    /** The candidate's artifact as registered. Absent from events written before it was added. */
    candidate?: ArtifactRef;
    /** The champion to compare against, if one serves; always `champion?.version ?? null`. */
    championVersion: number | null;
    /** The serving champion's artifact. Absent (not null) from events written before it was added. */
    champion?: (ArtifactRef & { readonly version: number }) | null;
    reason: 'entered-staging' | 'requested';
    /**
     * Set when the policy asks for shadow evaluation (`deployment.shadow`): the deployer serves
     * the candidate in this environment of its local runtime and the evaluator scores it through
     * that endpoint. Absent: the evaluator scores both models in-process.
     */
    scoring?: { via: 'shadow'; environment: string };
  }
>;
/** How one model was scored for an evaluation: in the evaluator's own process, or through an Open Inference Protocol endpoint. */
export type ScoringPath = { via: 'in-process' } | { via: 'shadow'; environment: string; endpoint: string };
/** Which way the candidate and the champion were scored. */
export interface EvaluationScoring {
  candidate: ScoringPath;
  champion: ScoringPath | null;
}
/** The deployer serves the candidate in the shadow environment: the evaluation can score it there. */
export type ShadowDeploymentReady = DomainEvent<
  'ShadowDeploymentReady',
  { evaluationId: string; environment: string; endpoint: string }
>;
/** The candidate could not be served in the shadow environment: its evaluation fails with this reason. */
export type ShadowDeploymentFailed = DomainEvent<
  'ShadowDeploymentFailed',
  { evaluationId: string; environment: string; reason: string }
>;
export type EvaluationProgressed = DomainEvent<
  'EvaluationProgressed',
  { evaluationId: string; rowsDone: number; rowsTotal: number }
>;
export type EvaluationCompleted = DomainEvent<
  'EvaluationCompleted',
  {
    evaluationId: string;
    set: { name: string; digest: string };
    metrics: Record<string, number>;
    comparison: Comparison | null;
    verdict: Verdict;
    /** What else the evaluation found: rows, confusion matrix, per-slice metrics, undefined metrics. */
    details?: EvaluationDetails;
    /** Which way the models were scored; absent from results recorded before it was reported. */
    scoring?: EvaluationScoring;
  }
>;

export interface EvaluationDetails {
  rows: number;
  confusionMatrix?: number[][];
  slices?: Array<{ slice: string; group: string; count: number; metrics: Record<string, number> }>;
  /** Metric name → why it is undefined or a convention value on this data. */
  undefinedMetrics?: Record<string, string>;
  /** The champion's own metrics on the same rows. */
  championMetrics?: Record<string, number>;
  /** Binary classifiers with probabilities, when the set has both classes: the candidate's curves. */
  curves?: EvaluationCurves;
  /** The champion's curves on the same rows, when there is a champion. */
  championCurves?: EvaluationCurves;
}

/**
 * A binary classifier's ROC and precision-recall curves on the evaluation set (score = the
 * probability of class 1), as scikit-learn's `roc_curve(drop_intermediate=True)` and
 * `precision_recall_curve` compute them, cut to at most 200 points each by arc length (both
 * ends kept; every point is a real operating point) and rounded to 6 significant digits.
 * The arrays of a curve are parallel, one entry per point; a threshold is `null` where the
 * point has none: ROC's first point (sklearn's +inf, nothing predicted positive) and PR's last
 * point (recall 0, precision 1, which sklearn appends without a threshold). The point at index
 * i is "predict positive when score >= thresholds[i]".
 */
export interface EvaluationCurves {
  /** fpr and tpr non-decreasing from (0, 0) to (1, 1); thresholds decreasing (rounding may make neighbours equal). */
  roc: { fpr: number[]; tpr: number[]; thresholds: Array<number | null> };
  /** Recall non-increasing down to the final (0, 1) point; thresholds increasing (ditto). */
  pr: { precision: number[]; recall: number[]; thresholds: Array<number | null> };
  /** How many points each curve had before it was cut down. */
  points: { roc: number; pr: number };
}
/**
 * What the evaluator measured, as it sends it in `RecordEvaluationResult`: no verdict, the
 * registry derives that from the model's thresholds when it records the result.
 */
export interface EvaluationMeasurements {
  readonly evaluationId: string;
  readonly set: { readonly name: string; readonly digest: string };
  readonly metrics: Record<string, number>;
  readonly comparison: Comparison | null;
  readonly details?: EvaluationDetails;
  readonly scoring?: EvaluationScoring;
}

export type EvaluationFailed = DomainEvent<
  'EvaluationFailed',
  { evaluationId: string; reason: string; code: string }
>;

export type ApprovalRequested = DomainEvent<
  'ApprovalRequested',
  {
    approvalId: string;
    requestId: string;
    purpose: 'promotion' | 'rollback';
    targetStage: Stage;
    rule: ApprovalRule;
    requestedBy: Actor;
    expiresAt: string;
    evidence: Evidence;
    checks: GateCheck[];
    /** Emergency rollbacks deploy first; this approval reviews them after the fact. */
    afterTheFact: boolean;
  }
>;
/** Where a reviewer's decision came from: the API, a one-click link, a chat button, the console. */
export const DECISION_CHANNELS = ['api', 'link', 'slack', 'teams', 'console'] as const;
export type DecisionChannel = (typeof DECISION_CHANNELS)[number];

/**
 * A reviewer's decision. `by` is always the person; `relayedBy` is the service that carried a
 * decision made elsewhere (a link, a chat button) to the registry. Events recorded before
 * channels existed have neither field.
 */
interface Decision {
  approvalId: string;
  by: Actor;
  comment: string;
  channel?: DecisionChannel;
  relayedBy?: Actor;
}
export type ApprovalGranted = DomainEvent<'ApprovalGranted', Decision & { count: number; required: number }>;
export type ApprovalRejected = DomainEvent<'ApprovalRejected', Decision>;
export type ApprovalExpired = DomainEvent<'ApprovalExpired', { approvalId: string; expiresAt: string }>;

/**
 * Who was told of a request, on which channel, and whether it reached them: reported by the
 * approvals service once a delivery is settled. `target` describes the channel (a webhook's
 * host, never its URL); `recipient` is a subject, never an address.
 */
export interface NotificationOutcome {
  approvalId: string;
  noticeId: string;
  notice: string;
  channel: string;
  target: string;
  recipient: string | null;
  outcome: 'delivered' | 'failed';
  attempts: number;
  reason: string | null;
}
export type ApprovalNotificationRecorded = DomainEvent<'ApprovalNotificationRecorded', NotificationOutcome>;
/** Evidence changed before quorum: collected approvals are void (rule 5). */
export type ApprovalEvidenceChanged = DomainEvent<
  'ApprovalEvidenceChanged',
  {
    approvalId: string;
    previous: Evidence;
    current: Evidence;
    voided: Actor[];
    /** Re-opened on the new evidence, or closed because it no longer passes the gates. */
    outcome: 'reopened' | 'closed';
    checks: GateCheck[];
  }
>;
export type ApprovalQuorumReached = DomainEvent<
  'ApprovalQuorumReached',
  { approvalId: string; approvers: Actor[] }
>;

export type DeploymentRequested = DomainEvent<
  'DeploymentRequested',
  {
    deploymentId: string;
    /** The transition request or rollback this deployment carries out. */
    requestId: string;
    /** Sent to CI/CD so a redelivered trigger can be deduplicated there. */
    idempotencyKey: string;
    purpose: 'promotion' | 'rollback';
    targets: DeploymentTarget[];
    /** Stage to return to if the deployment fails (rule 7). */
    previousStage: Stage;
    /** The version serving when the deployment was requested. */
    replacing: number | null;
  }
>;
export type DeploymentStarted = DomainEvent<
  'DeploymentStarted',
  { deploymentId: string; environment: string; target: string }
>;
export type DeploymentSucceeded = DomainEvent<
  'DeploymentSucceeded',
  { deploymentId: string; endpoint: string | null }
>;
export type DeploymentFailed = DomainEvent<'DeploymentFailed', { deploymentId: string; reason: string }>;

/** This version stopped serving because another one took over. */
export type ServingEnded = DomainEvent<
  'ServingEnded',
  { supersededBy: number; deploymentId: string; reason: 'superseded' | 'rolled-back' }
>;

export type RollbackRequested = DomainEvent<
  'RollbackRequested',
  {
    rollbackId: string;
    fromVersion: number | null;
    reason: string;
    emergency: boolean;
    requestedBy: Actor;
  }
>;

/** The samples a live-metric verdict rests on: the window it covers and what they showed. */
export interface LiveMetricWindow {
  /** First and last moment of the window, ISO 8601. */
  from: string;
  to: string;
  /** The policy's window length, ISO 8601 (`PT1H`). */
  for: string;
  /** Samples in the window (the sum of their counts). */
  samples: number;
  /** The value furthest beyond the threshold, and the mean over the window. */
  worst: number;
  mean: number;
}

/**
 * The serving version's live metric stayed beyond the archival policy's threshold for the
 * whole window (issue 12): reported by the archival service, which never archives the serving
 * version. `rollbackRequested` says whether the registry requested a rollback because of it
 * (`policy.archival.liveMetric.rollback`).
 */
export type LiveMetricBreached = DomainEvent<
  'LiveMetricBreached',
  {
    metric: string;
    direction: 'below' | 'above';
    threshold: number;
    window: LiveMetricWindow;
    rollbackRequested: boolean;
  }
>;

export type ModelVersionEvent =
  | ModelVersionRegistered
  | ModelVersionTagSet
  | ModelVersionTagRemoved
  | ModelVersionDescriptionUpdated
  | StageTransitionRequested
  | StageTransitioned
  | PromotionRefused
  | EvaluationRequested
  | ShadowDeploymentReady
  | ShadowDeploymentFailed
  | EvaluationProgressed
  | EvaluationCompleted
  | EvaluationFailed
  | ApprovalRequested
  | ApprovalGranted
  | ApprovalRejected
  | ApprovalExpired
  | ApprovalNotificationRecorded
  | ApprovalEvidenceChanged
  | ApprovalQuorumReached
  | DeploymentRequested
  | DeploymentStarted
  | DeploymentSucceeded
  | DeploymentFailed
  | ServingEnded
  | RollbackRequested
  | LiveMetricBreached;

// ---- accessToken-<id> ---------------------------------------------------------------

export type Role = 'viewer' | 'contributor' | 'reviewer' | 'deployer' | 'admin' | 'service';
export const ROLES: readonly Role[] = ['viewer', 'contributor', 'reviewer', 'deployer', 'admin', 'service'];

export type AccessTokenIssued = DomainEvent<
  'AccessTokenIssued',
  {
    tokenId: string;
    subject: string;
    kind: 'user' | 'service';
    roles: Role[];
    /** Scope: the only models this token may act on or see, whatever its roles; empty means every model. */
    models: string[];
  }
>;
export type AccessTokenRevoked = DomainEvent<'AccessTokenRevoked', { tokenId: string }>;

/** A token as its `accessToken-*` stream tells it: what was issued, when and by whom, and its revocation. */
export interface AccessTokenRecord {
  readonly tokenId: string;
  readonly subject: string;
  readonly kind: 'user' | 'service';
  readonly roles: readonly Role[];
  readonly models: readonly string[];
  readonly issuedAt: string;
  readonly issuedBy: string;
  readonly revokedAt: string | null;
}
export type AccessTokenEvent = AccessTokenIssued | AccessTokenRevoked;

// ---- webhookNotice-<subscriptionId> (written by the registry's webhooks) ------------

/**
 * A webhook subscription stayed FAILING longer than `MRW_WEBHOOK_DISABLE_AFTER` and was
 * disabled: its owner is to be told. Its id derives from the subscription, `failingSince` and
 * the revision the disable was decided at, so a retried disable yields no second notice. The
 * receiver appears as its origin only: a webhook
 * URL may carry a token (chat webhooks), and the signing secret never leaves the registry.
 */
export type WebhookDisabled = DomainEvent<
  'WebhookDisabled',
  {
    webhookId: string;
    owner: Actor;
    /** The model it is scoped to; null for a registry-wide subscription. */
    model: string | null;
    /** `https://ci.example.com`: scheme, host and port of the receiver, nothing more. */
    urlOrigin: string;
    /** Why the last delivery was dead-lettered. */
    reason: string;
    /** Since when it was FAILING (its first dead letter of this spell), ISO 8601. */
    failingSince: string;
    /** The webhook event names it subscribed to. */
    events: string[];
  }
>;
export type WebhookNoticeEvent = WebhookDisabled;

export type RegistryEvent = ModelEvent | ModelVersionEvent | AccessTokenEvent | WebhookNoticeEvent;

// ---- tokenCredential-<tokenId> (private: never published, indexed or served) --------

/**
 * What verifies a token's secret: a keyed hash (HMAC-SHA256 with a key derived from
 * MRW_SECRET_KEY), so a copy of the log does not allow offline guessing of a chosen token.
 * It lives in its own stream so that nothing which publishes or serves events ever holds it.
 */
export type AccessTokenCredentialStored = DomainEvent<
  'AccessTokenCredentialStored',
  { tokenId: string; scheme: 'hmac-sha256'; verifier: string }
>;
export type RegistryEventType = RegistryEvent['type'];

// ---- evaluationSet-<name> (written by the evaluator) --------------------------------

export interface EvaluationSetManifestData {
  task: 'binary' | 'multiclass' | 'regression';
  label: string;
  features: string[];
  slices: string[];
  costMatrix: number[][] | null;
}

/** A new immutable version of a standard evaluation set: its bytes are stored under `digest`. */
export type EvaluationSetVersionAdded = DomainEvent<
  'EvaluationSetVersionAdded',
  {
    name: string;
    version: number;
    digest: string;
    format: 'csv' | 'parquet';
    rows: number;
    size: number;
    manifest: EvaluationSetManifestData;
  }
>;
export type EvaluationSetEvent = EvaluationSetVersionAdded;
