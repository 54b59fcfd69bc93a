import type { Actor, Comparison, EvaluationDetails, GateCheck, ModelPolicy, Stage, Verdict } from '@mrw/contracts';

/*
 * What the registry's public API answers (`/api/v1`), as the OpenAPI document declares it.
 * Fields the document leaves open (`additionalProperties`) are typed as far as clients rely on them.
 */

export interface Page<T> {
  readonly total: number;
  readonly items: readonly T[];
}

export interface ServingPeriod {
  readonly version: number;
  readonly since: string;
  readonly deploymentId: string;
}

/** `GET /models/{name}` (with `asOf` when asked "as of"), `POST /models`. */
export interface Model {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly policy: ModelPolicy & Record<string, unknown>;
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number;
  readonly servingVersion: number | null;
  readonly servingHistory: readonly ServingPeriod[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly asOf?: string;
}

export interface ModelSummary {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number;
  readonly servingVersion: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface VersionSummary {
  readonly model: string;
  readonly version: number;
  readonly stage: Stage;
  readonly serving: boolean;
  readonly source: string;
  readonly digest: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly registeredBy: string;
  readonly registeredAt: string;
  readonly updatedAt: string;
  readonly latestEvaluation: { readonly status: string; readonly passed: boolean | null } | null;
  readonly pendingApproval: string | null;
}

export type RequestStatus = 'evaluating' | 'awaiting-approval' | 'deploying' | 'completed' | 'refused' | 'rejected' | 'expired' | 'failed';

/** A stage-transition or rollback request on a version. */
export interface TransitionRequest {
  readonly id: string;
  readonly kind: 'transition' | 'rollback';
  readonly fromStage: Stage;
  readonly toStage: Stage;
  readonly status: RequestStatus;
  readonly comment: string;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly checks?: readonly GateCheck[];
  /** When refused: the failing checks' details. */
  readonly reasons?: readonly string[];
  readonly evaluationId: string | null;
  readonly approvalId: string | null;
  readonly deploymentId: string | null;
  /** Present when the request asked to archive the other versions in `toStage` once this one is there. */
  readonly archiveExistingVersions?: true;
}

export interface Evaluation {
  readonly id: string;
  readonly status: 'running' | 'completed' | 'failed';
  readonly set: { readonly name: string; readonly digest?: string | null; readonly [key: string]: unknown };
  readonly championVersion: number | null;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  readonly progress: { readonly rowsDone: number; readonly rowsTotal: number } | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly comparison: Comparison | null;
  readonly verdict: Verdict | null;
  /** Rows, confusion matrix, per-slice metrics, the champion's metrics and curves (what the evaluator found). */
  readonly details?: EvaluationDetails | null;
  readonly reason?: string;
  readonly code?: string;
}

export interface VersionApproval {
  readonly id: string;
  readonly requestId: string;
  readonly status: string;
  readonly expiresAt: string;
  readonly approvals: ReadonlyArray<{ readonly by: Actor; readonly at: string; readonly comment: string }>;
  readonly rejection: { readonly by: Actor; readonly at: string; readonly comment: string } | null;
  readonly [key: string]: unknown;
}

export interface VersionDeployment {
  readonly id: string;
  readonly requestId: string;
  readonly status: 'requested' | 'started' | 'succeeded' | 'failed';
  readonly environment: string | null;
  readonly target: string | null;
  readonly endpoint: string | null;
  readonly reason: string | null;
  readonly [key: string]: unknown;
}

/** `GET /models/{name}/versions/{version}`: the version's state, folded from its stream. */
export interface ModelVersion {
  readonly model: string;
  readonly version: number;
  readonly stage: Stage;
  readonly stageSince: string;
  readonly serving: boolean;
  readonly aliases: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly source: string;
  readonly digest: string | null;
  readonly runId: string | null;
  readonly description: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly registeredBy: Actor;
  readonly registeredAt: string;
  readonly updatedAt: string;
  readonly evaluations: readonly Evaluation[];
  readonly approvals: readonly VersionApproval[];
  readonly deployments: readonly VersionDeployment[];
  readonly requests: readonly TransitionRequest[];
  readonly asOf?: string;
}

export interface RegisterVersionInput {
  /** `artifacts://sha256/…` (an upload), an http(s) URL, or a `file://` path where the operator allows it. */
  readonly source: string;
  readonly artifactDigest?: string;
  readonly runId?: string;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly description?: string;
}

/** `POST /models/{name}/versions/{version}/transitions`. */
export interface TransitionAnswer {
  readonly model: string;
  readonly version: number;
  readonly stage: Stage;
  readonly request: TransitionRequest | null;
  /** With `archiveExistingVersions` on a Staging request: the versions archived, and those the rules kept. */
  readonly existingVersions?: {
    readonly archived: readonly number[];
    readonly kept: ReadonlyArray<{ readonly version: number; readonly code: string; readonly reason: string }>;
  };
}

/** `POST /artifacts`: where the bytes are stored, by content. */
export interface Artifact {
  readonly uri: string;
  readonly digest: string;
  readonly size: number;
}

export interface Approval {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly targetStage: string;
  readonly status: 'pending' | 'approved' | 'rejected' | 'expired' | 'void';
  readonly requestedBy: Actor;
  readonly comment: string;
  readonly openedAt: string;
  readonly expiresAt: string;
  readonly afterTheFact: boolean;
  readonly required: number;
  readonly collected: number;
  readonly reviewers: readonly string[];
  readonly decisions: ReadonlyArray<{ readonly by: Actor; readonly at: string; readonly comment: string; readonly channel: string }>;
  readonly checks: readonly GateCheck[];
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly links: { readonly self: string; readonly approve: string; readonly reject: string; readonly version: string };
  readonly [key: string]: unknown;
}

export interface RollbackAnswer {
  readonly model: string;
  readonly rollback: {
    readonly id: string;
    readonly fromVersion: number | null;
    readonly toVersion: number;
    readonly emergency: boolean;
    readonly status: 'awaiting-approval' | 'deploying' | 'requested';
    readonly approvalId: string | null;
    readonly deploymentId: string | null;
  };
}

export interface AuditEvent {
  readonly position: number;
  readonly revision: number;
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly prevHash: string | null;
  readonly hash: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface StreamAudit {
  readonly stream: string;
  readonly events: readonly AuditEvent[];
}

export interface ChainVerification {
  readonly stream: string;
  readonly valid: boolean;
  readonly events: number;
  readonly head?: string | null;
  readonly brokenAt?: number;
  readonly reason?: string;
}

export interface AuditSearchItem {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly model: string | null;
  readonly version: number | null;
  readonly type: string;
  readonly actor: Actor;
  readonly occurredAt: string;
  readonly eventId: string;
  readonly hash: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AuditSearch {
  readonly items: readonly AuditSearchItem[];
  readonly next: number | null;
}

export interface EvaluationSetVersion {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly rows: number;
  readonly format: 'csv' | 'parquet';
}

export interface Webhook {
  readonly id: string;
  /** The URL's origin only: the URL is write-only. */
  readonly url: string;
  readonly urlFingerprint: string;
  readonly description: string;
  readonly events: readonly string[];
  readonly model: string | null;
  readonly status: string;
  readonly health: string;
  readonly healthReason: string | null;
  readonly failingSince: string | null;
  readonly owner: Actor;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** A generated signing secret, shown once in the answer that created the webhook. */
  readonly secret?: string;
  readonly [key: string]: unknown;
}

export interface CreateWebhookInput {
  readonly url: string;
  readonly events: readonly string[];
  readonly model?: string | null;
  readonly description?: string;
  readonly secret?: string;
  readonly status?: string;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly kind: string;
  readonly event: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: string;
  readonly attempts: number;
  readonly createdAt: string | null;
  readonly settledAt: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly [key: string]: unknown;
}

export interface DeadLetter {
  readonly id: string;
  readonly group: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly reason: string;
  readonly attempts: number;
  readonly origin: string;
  readonly truncated: boolean;
  readonly size: number;
  readonly deadLetteredAt: string;
  readonly redrivenAt: string | null;
  readonly redrivenBy: string | null;
}

/** `GET /tokens/self`: who the calling token is. */
export interface Self {
  readonly tokenId: string;
  readonly actor: Actor;
  readonly roles: readonly string[];
  /** The only models the token may see or act on; empty means every model. */
  readonly models: readonly string[];
}

export type StageCounts = Readonly<Record<Stage, number>>;

/** `GET /board`: every version not archived, by stage, and every model with what it serves. */
export interface Board {
  readonly counts: StageCounts;
  readonly models: ReadonlyArray<{ readonly name: string; readonly servingVersion: number | null; readonly counts: StageCounts }>;
  readonly None: readonly VersionSummary[];
  readonly Staging: readonly VersionSummary[];
  readonly Production: readonly VersionSummary[];
}

/** `GET /deployments`: a deployment as the deployer follows it. */
export interface Deployment {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly environment: string | null;
  readonly target: string | null;
  readonly status: 'requested' | 'started' | 'succeeded' | 'failed';
  readonly purpose: 'promotion' | 'rollback';
  readonly endpoint: string | null;
  readonly requestedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly reason: string | null;
}

/** `GET /models/{name}/compare`: metrics side by side on the same set. */
export interface VersionComparison {
  readonly model: string;
  readonly [key: string]: unknown;
}
