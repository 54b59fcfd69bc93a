import type {
  Actor,
  ApprovalRule,
  Comparison,
  DeploymentTarget,
  EvaluationDetails,
  EvaluationScoring,
  Evidence,
  GateCheck,
  LiveMetricWindow,
  ModelVersionEvent,
  Stage,
  Verdict,
} from '@mrw/contracts';
import { assertNever } from '../shared/result';
import type { Timed } from '../shared/timed';

export interface EvaluationView {
  readonly id: string;
  readonly status: 'running' | 'completed' | 'failed';
  readonly set: { readonly name: string; readonly digest: string | null };
  readonly championVersion: number | null;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  readonly progress: { readonly rowsDone: number; readonly rowsTotal: number } | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly comparison: Comparison | null;
  readonly verdict: Verdict | null;
  readonly details: EvaluationDetails | null;
  readonly reason: string | null;
  readonly code: string | null;
  /** Shadow evaluation (`deployment.shadow`): where the candidate is served for scoring, and how far that got. */
  readonly shadow: {
    readonly environment: string;
    readonly status: 'deploying' | 'ready' | 'failed';
    readonly endpoint: string | null;
    readonly reason: string | null;
  } | null;
  /** Which way the models were scored, once the evaluation completed (null before, and for older results). */
  readonly scoring: EvaluationScoring | null;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'closed';

export interface ApprovalView {
  readonly id: string;
  readonly requestId: string;
  readonly purpose: 'promotion' | 'rollback';
  readonly targetStage: Stage;
  readonly rule: ApprovalRule;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly evidence: Evidence;
  readonly checks: readonly GateCheck[];
  readonly afterTheFact: boolean;
  readonly status: ApprovalStatus;
  readonly approvals: ReadonlyArray<{ readonly by: Actor; readonly at: string; readonly comment: string }>;
  readonly rejection: { readonly by: Actor; readonly at: string; readonly comment: string } | null;
  readonly voided: ReadonlyArray<{ readonly by: Actor; readonly at: string }>;
}

export interface DeploymentView {
  readonly id: string;
  readonly requestId: string;
  readonly idempotencyKey: string;
  readonly purpose: 'promotion' | 'rollback';
  readonly targets: readonly DeploymentTarget[];
  readonly previousStage: Stage;
  readonly replacing: number | null;
  readonly status: 'requested' | 'started' | 'succeeded' | 'failed';
  readonly requestedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly environment: string | null;
  readonly target: string | null;
  readonly endpoint: string | null;
  readonly reason: string | null;
}

export type TransitionStatus =
  | 'evaluating'
  | 'awaiting-approval'
  | 'deploying'
  | 'completed'
  | 'refused'
  | 'rejected'
  | 'expired'
  | 'failed';

export interface TransitionRequestView {
  readonly id: string;
  readonly kind: 'transition' | 'rollback';
  readonly fromStage: Stage;
  readonly toStage: Stage;
  readonly comment: string;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly status: TransitionStatus;
  readonly checks: readonly GateCheck[];
  readonly evaluationId: string | null;
  readonly approvalId: string | null;
  readonly deploymentId: string | null;
  /** Present when the request asked that the other versions in `toStage` be archived once this one is there. */
  readonly archiveExistingVersions?: true;
}

/** A live-metric breach recorded while this version served (issue 12). */
export interface LiveMetricBreachView {
  readonly metric: string;
  readonly direction: 'below' | 'above';
  readonly threshold: number;
  readonly window: LiveMetricWindow;
  readonly rollbackRequested: boolean;
  /** When it was recorded. */
  readonly at: string;
}

export interface RegisteredVersion {
  readonly status: 'registered';
  readonly model: string;
  readonly version: number;
  readonly source: string;
  readonly artifactDigest: string | null;
  readonly runId: string | null;
  readonly description: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly registeredBy: Actor;
  readonly registeredAt: string;
  readonly stage: Stage;
  readonly stageSince: string;
  /** Serving traffic now, as far as this stream knows (DeploymentSucceeded until ServingEnded). */
  readonly serving: boolean;
  /** Served successfully at least once: a possible rollback target. */
  readonly hasServed: boolean;
  readonly evaluations: readonly EvaluationView[];
  readonly approvals: readonly ApprovalView[];
  readonly deployments: readonly DeploymentView[];
  readonly requests: readonly TransitionRequestView[];
  /** Sustained live-metric breaches while it served, oldest first. */
  readonly liveMetricBreaches: readonly LiveMetricBreachView[];
  readonly updatedAt: string;
}

export type ModelVersionState = { readonly status: 'absent' } | RegisteredVersion;

export const initialModelVersionState = (): ModelVersionState => ({ status: 'absent' });

const replace = <T extends { readonly id: string }>(
  items: readonly T[],
  id: string,
  change: (item: T) => T,
): T[] => items.map((item) => (item.id === id ? change(item) : item));

const updateRequest = (
  state: RegisteredVersion,
  requestId: string,
  change: Partial<TransitionRequestView>,
): readonly TransitionRequestView[] => replace(state.requests, requestId, (r) => ({ ...r, ...change }));

const requestOfApproval = (state: RegisteredVersion, approvalId: string): string | undefined =>
  state.approvals.find((a) => a.id === approvalId)?.requestId;

const requestOfDeployment = (state: RegisteredVersion, deploymentId: string): string | undefined =>
  state.deployments.find((d) => d.id === deploymentId)?.requestId;

/** Folds one event into the version's state. */
export const evolveModelVersion = (
  state: ModelVersionState,
  event: Timed<ModelVersionEvent>,
): ModelVersionState => {
  const at = event.at;
  if (event.type === 'ModelVersionRegistered') {
    const d = event.data;
    return {
      status: 'registered',
      model: d.model,
      version: d.version,
      source: d.source,
      artifactDigest: d.artifactDigest,
      runId: d.runId,
      description: d.description,
      metrics: d.metrics,
      tags: d.tags,
      registeredBy: d.registeredBy,
      registeredAt: at,
      stage: 'None',
      stageSince: at,
      serving: false,
      hasServed: false,
      evaluations: [],
      approvals: [],
      deployments: [],
      requests: [],
      liveMetricBreaches: [],
      updatedAt: at,
    };
  }
  if (state.status === 'absent') return state;
  const s: RegisteredVersion = { ...state, updatedAt: at };
  switch (event.type) {
    case 'ModelVersionTagSet':
      return { ...s, tags: { ...s.tags, [event.data.key]: event.data.value } };
    case 'ModelVersionTagRemoved': {
      const { [event.data.key]: _removed, ...tags } = s.tags;
      return { ...s, tags };
    }
    case 'ModelVersionDescriptionUpdated':
      return { ...s, description: event.data.description };
    case 'StageTransitionRequested':
      return {
        ...s,
        requests: [
          ...s.requests,
          {
            id: event.data.requestId,
            kind: 'transition',
            fromStage: event.data.fromStage,
            toStage: event.data.toStage,
            comment: event.data.comment,
            requestedBy: event.data.requestedBy,
            requestedAt: at,
            status: 'completed',
            checks: [],
            evaluationId: null,
            approvalId: null,
            deploymentId: null,
            ...(event.data.archiveExistingVersions ? { archiveExistingVersions: true as const } : {}),
          },
        ],
      };
    case 'StageTransitioned':
      return { ...s, stage: event.data.toStage, stageSince: at };
    case 'PromotionRefused':
      return {
        ...s,
        requests: updateRequest(s, event.data.requestId, { status: 'refused', checks: event.data.checks }),
      };
    case 'EvaluationRequested': {
      const last = s.requests[s.requests.length - 1];
      const requests =
        event.data.reason === 'entered-staging' && last && last.toStage === 'Staging'
          ? updateRequest(s, last.id, { status: 'evaluating', evaluationId: event.data.evaluationId })
          : s.requests;
      return {
        ...s,
        requests,
        evaluations: [
          ...s.evaluations,
          {
            id: event.data.evaluationId,
            status: 'running',
            set: event.data.set,
            championVersion: event.data.championVersion,
            requestedAt: at,
            finishedAt: null,
            progress: null,
            metrics: {},
            comparison: null,
            verdict: null,
            details: null,
            reason: null,
            code: null,
            shadow: event.data.scoring ? { environment: event.data.scoring.environment, status: 'deploying', endpoint: null, reason: null } : null,
            scoring: null,
          },
        ],
      };
    }
    case 'ShadowDeploymentReady':
    case 'ShadowDeploymentFailed': {
      const d = event.data;
      return {
        ...s,
        evaluations: replace(s.evaluations, d.evaluationId, (e) => ({
          ...e,
          shadow:
            event.type === 'ShadowDeploymentReady'
              ? { environment: d.environment, status: 'ready', endpoint: event.data.endpoint, reason: null }
              : { environment: d.environment, status: 'failed', endpoint: null, reason: event.data.reason },
        })),
      };
    }
    case 'EvaluationProgressed':
      return {
        ...s,
        evaluations: replace(s.evaluations, event.data.evaluationId, (e) => ({
          ...e,
          progress: { rowsDone: event.data.rowsDone, rowsTotal: event.data.rowsTotal },
        })),
      };
    case 'EvaluationCompleted':
    case 'EvaluationFailed': {
      const id = event.data.evaluationId;
      const evaluations = replace(s.evaluations, id, (e) =>
        event.type === 'EvaluationCompleted'
          ? {
              ...e,
              status: 'completed' as const,
              finishedAt: at,
              set: event.data.set,
              metrics: event.data.metrics,
              comparison: event.data.comparison,
              verdict: event.data.verdict,
              details: event.data.details ?? null,
              scoring: event.data.scoring ?? null,
            }
          : { ...e, status: 'failed' as const, finishedAt: at, reason: event.data.reason, code: event.data.code },
      );
      const requests = s.requests.map((r) =>
        r.evaluationId === id && r.status === 'evaluating' ? { ...r, status: 'completed' as const } : r,
      );
      return { ...s, evaluations, requests };
    }
    case 'ApprovalRequested': {
      const d = event.data;
      return {
        ...s,
        approvals: [
          ...s.approvals,
          {
            id: d.approvalId,
            requestId: d.requestId,
            purpose: d.purpose,
            targetStage: d.targetStage,
            rule: d.rule,
            requestedBy: d.requestedBy,
            requestedAt: at,
            expiresAt: d.expiresAt,
            evidence: d.evidence,
            checks: d.checks,
            afterTheFact: d.afterTheFact,
            status: 'pending',
            approvals: [],
            rejection: null,
            voided: [],
          },
        ],
        requests: d.afterTheFact
          ? s.requests
          : updateRequest(s, d.requestId, { status: 'awaiting-approval', approvalId: d.approvalId, checks: d.checks }),
      };
    }
    case 'ApprovalGranted':
      return {
        ...s,
        approvals: replace(s.approvals, event.data.approvalId, (a) => ({
          ...a,
          approvals: [...a.approvals, { by: event.data.by, at, comment: event.data.comment }],
        })),
      };
    case 'ApprovalNotificationRecorded':
      // An audit fact; the approvals inbox shows it, the version's state does not change.
      return { ...s, updatedAt: at };
    case 'ApprovalQuorumReached':
      return {
        ...s,
        approvals: replace(s.approvals, event.data.approvalId, (a) => ({ ...a, status: 'approved' as const })),
      };
    case 'ApprovalRejected':
    case 'ApprovalExpired': {
      const id = event.data.approvalId;
      const approval = s.approvals.find((a) => a.id === id);
      const rejected = event.type === 'ApprovalRejected';
      const approvals = replace(s.approvals, id, (a) => ({
        ...a,
        status: rejected ? ('rejected' as const) : ('expired' as const),
        rejection: rejected ? { by: event.data.by, at, comment: event.data.comment } : null,
      }));
      const requestId = requestOfApproval(s, id);
      const requests =
        requestId && approval && !approval.afterTheFact
          ? updateRequest(s, requestId, { status: rejected ? 'rejected' : 'expired' })
          : s.requests;
      return { ...s, approvals, requests };
    }
    case 'ApprovalEvidenceChanged': {
      const d = event.data;
      const closed = d.outcome === 'closed';
      const approvals = replace(s.approvals, d.approvalId, (a) => ({
        ...a,
        status: closed ? ('closed' as const) : a.status,
        evidence: d.current,
        checks: d.checks,
        approvals: [],
        voided: [...a.voided, ...a.approvals.map((g) => ({ by: g.by, at }))],
      }));
      const requestId = requestOfApproval(s, d.approvalId);
      const requests =
        requestId && closed ? updateRequest(s, requestId, { status: 'refused', checks: d.checks }) : s.requests;
      return { ...s, approvals, requests };
    }
    case 'DeploymentRequested': {
      const d = event.data;
      return {
        ...s,
        deployments: [
          ...s.deployments,
          {
            id: d.deploymentId,
            requestId: d.requestId,
            idempotencyKey: d.idempotencyKey,
            purpose: d.purpose,
            targets: d.targets,
            previousStage: d.previousStage,
            replacing: d.replacing,
            status: 'requested',
            requestedAt: at,
            startedAt: null,
            finishedAt: null,
            environment: null,
            target: null,
            endpoint: null,
            reason: null,
          },
        ],
        requests: updateRequest(s, d.requestId, { status: 'deploying', deploymentId: d.deploymentId }),
      };
    }
    case 'DeploymentStarted':
      return {
        ...s,
        deployments: replace(s.deployments, event.data.deploymentId, (d) => ({
          ...d,
          status: 'started' as const,
          startedAt: at,
          environment: event.data.environment,
          target: event.data.target,
        })),
      };
    case 'DeploymentSucceeded':
    case 'DeploymentFailed': {
      const id = event.data.deploymentId;
      const succeeded = event.type === 'DeploymentSucceeded';
      const deployments = replace(s.deployments, id, (d) =>
        event.type === 'DeploymentSucceeded'
          ? { ...d, status: 'succeeded' as const, finishedAt: at, endpoint: event.data.endpoint }
          : { ...d, status: 'failed' as const, finishedAt: at, reason: event.data.reason },
      );
      const requestId = requestOfDeployment(s, id);
      const requests = requestId
        ? updateRequest(s, requestId, { status: succeeded ? 'completed' : 'failed' })
        : s.requests;
      return {
        ...s,
        deployments,
        requests,
        serving: succeeded ? true : s.serving,
        hasServed: s.hasServed || succeeded,
      };
    }
    case 'ServingEnded':
      return { ...s, serving: false };
    case 'RollbackRequested':
      return {
        ...s,
        requests: [
          ...s.requests,
          {
            id: event.data.rollbackId,
            kind: 'rollback',
            fromStage: s.stage,
            toStage: 'Production',
            comment: event.data.reason,
            requestedBy: event.data.requestedBy,
            requestedAt: at,
            status: 'completed',
            checks: [],
            evaluationId: null,
            approvalId: null,
            deploymentId: null,
          },
        ],
      };
    case 'LiveMetricBreached':
      return { ...s, liveMetricBreaches: [...s.liveMetricBreaches, { ...event.data, at }] };
    default:
      return assertNever(event);
  }
};

/** Folds a stream's events, oldest first. */
export const foldModelVersion = (events: ReadonlyArray<Timed<ModelVersionEvent>>): ModelVersionState =>
  events.reduce(evolveModelVersion, initialModelVersionState());

export const pendingApproval = (state: RegisteredVersion): ApprovalView | undefined =>
  state.approvals.find((a) => a.status === 'pending' && !a.afterTheFact);

export const deploymentInFlight = (state: RegisteredVersion): DeploymentView | undefined =>
  state.deployments.find((d) => d.status === 'requested' || d.status === 'started');

export const latestEvaluation = (state: RegisteredVersion): EvaluationView | undefined =>
  state.evaluations[state.evaluations.length - 1];
