import type {
  Actor,
  ApprovalRule,
  ArtifactRef,
  CommandMetadata,
  Comparison,
  DecisionChannel,
  EvaluationMeasurements,
  ModelPolicy,
  ModelVersionEvent,
  Role,
  Stage,
  TransitionTrigger,
  Verdict,
} from '@mrw/contracts';

// Fixtures for the model-version decider's specs. They import only @mrw/contracts: the domain's
// specs import this library, so it must not import @mrw/domain (Nx forbids the cycle). Where a
// domain type is needed, a structural twin stands in for it.

/** What the registry passes to the gates: the domain's `GateContext`. */
export interface GateContextFixture {
  readonly policy: ModelPolicy;
  readonly currentSetDigest: string | null;
  readonly servingVersion: number | null;
  readonly servingArtifact: ArtifactRef | null;
}

/** Roles and reviewer scope of the acting token: the domain's `Principal`. */
export interface PrincipalFixture {
  readonly roles: readonly Role[];
  readonly models: readonly string[];
}

// ---- commands ---------------------------------------------------------------------

/** Who issues a command, when, and with which idempotency key. */
export interface Issued {
  readonly by: Actor;
  readonly at: string;
  readonly id: string;
}

export const commandMetadata = ({ by, at, id }: Issued): CommandMetadata => ({
  commandId: id,
  actor: by,
  now: at,
  correlationId: `corr-${id}`,
  causationId: null,
});

type AnyCommand = { readonly type: string; readonly data: unknown; readonly metadata: CommandMetadata };

/** A typed command builder for one command union: `command('GrantApproval', {...}, {by, at, id})`. */
export const commandsOf =
  <C extends AnyCommand>() =>
  <T extends C['type']>(type: T, data: Extract<C, { type: T }>['data'], issued: Issued): Extract<C, { type: T }> =>
    ({ type, data, metadata: commandMetadata(issued) }) as unknown as Extract<C, { type: T }>;


// ---- people and services ----------------------------------------------------------

const user = (id: string): Actor => ({ kind: 'user', id });
const service = (id: string): Actor => ({ kind: 'service', id });

/** Data scientist: registered the candidate. */
export const alice = user('alice');
/** ML engineer: requests stage transitions. */
export const bob = user('bob');
/** Reviewers. */
export const carol = user('carol');
export const dave = user('dave');
export const erin = user('erin');
/** On-call SRE with the deployer role. */
export const frank = user('frank');
export const evaluator = service('evaluator');
export const deployer = service('deployer');
export const archival = service('archival');
export const registry = service('registry');

export const asReviewer: PrincipalFixture = { roles: ['reviewer'], models: [] };
export const asContributor: PrincipalFixture = { roles: ['contributor'], models: [] };
export const asDeployer: PrincipalFixture = { roles: ['deployer'], models: [] };
export const asAdmin: PrincipalFixture = { roles: ['admin'], models: [] };

// ---- the model, its policy, its evaluation set -------------------------------------

export const MODEL = 'churn-classifier';
/** The candidate under test. */
export const CANDIDATE = 7;
/** The version serving traffic. */
export const CHAMPION = 5;
export const EVAL_SET = 'churn-holdout';
export const SET_DIGEST = 'sha256:2735725cc4df17d752fe892db0428df4f94ee61daba771fbed4b228f28af7cbb';
/** A newer version of the standard set, uploaded after the candidate was evaluated. */
export const NEWER_SET_DIGEST = 'sha256:b598dedb713111ab28226c7766448f25c626afc7f06cb5705eccf802ca6109fb';

export const PRODUCTION_APPROVAL: ApprovalRule = { required: 2, reviewers: ['role:reviewer'], expiresIn: 'P3D' };
export const PRODUCTION_TARGETS = [{ kind: 'kubernetes', environment: 'production', namespace: 'ml-serving' }];

export const POLICY: ModelPolicy = {
  evaluation: {
    set: EVAL_SET,
    thresholds: { accuracy: { threshold: 0.9 }, roc_auc: { minAbsoluteChange: 0.005 } },
  },
  approval: { Production: PRODUCTION_APPROVAL },
  deployment: { targets: PRODUCTION_TARGETS },
};

/** The candidate's model file as registered (`versionRegistered`). */
export const CANDIDATE_ARTIFACT: ArtifactRef = {
  source: 's3://ml-artifacts/churn-classifier/run-4f2a/model.onnx',
  digest: 'sha256:1e74606e558dfaa569d8e5455afa0d48ab4cd0c20eb784368326f3798203335b',
};

/** The model file of another version of the model (a champion): one per version number. */
export const artifactOfVersion = (version: number): ArtifactRef => ({
  source: `s3://ml-artifacts/churn-classifier/v${version}/model.onnx`,
  digest: `sha256:${version.toString(16).padStart(2, '0').repeat(32)}`,
});

/** What the registry knows besides the stream: the policy, the set's current digest, the champion and its file. */
export const CONTEXT: GateContextFixture = {
  policy: POLICY,
  currentSetDigest: SET_DIGEST,
  servingVersion: CHAMPION,
  servingArtifact: artifactOfVersion(CHAMPION),
};
/** CONTEXT changed; a different serving version comes with its own artifact unless one is given. */
export const contextWith = (change: Partial<GateContextFixture>): GateContextFixture => {
  const serving = change.servingVersion === undefined ? CONTEXT.servingVersion : change.servingVersion;
  return {
    ...CONTEXT,
    servingArtifact: serving === null ? null : artifactOfVersion(serving),
    ...change,
  };
};
export const policyWith = (change: Partial<ModelPolicy>): ModelPolicy => ({ ...POLICY, ...change });

export const CANDIDATE_METRICS = { accuracy: 0.93, roc_auc: 0.954, f1: 0.881, log_loss: 0.212 };

/** v7 against champion v5 on the same rows: +2 points of accuracy, +1.3 of ROC AUC. */
export const COMPARISON_WITH_CHAMPION: Comparison = {
  championVersion: CHAMPION,
  metrics: {
    accuracy: { candidate: 0.93, champion: 0.91, difference: 0.02, ci: { lower: 0.012, upper: 0.028, level: 0.95 } },
    roc_auc: { candidate: 0.954, champion: 0.941, difference: 0.013, ci: { lower: 0.006, upper: 0.02, level: 0.95 } },
  },
  bootstrap: { resamples: 1000, seed: 42 },
};

/** What the registry's gate concludes from CANDIDATE_METRICS and COMPARISON_WITH_CHAMPION under POLICY. */
export const PASSING_VERDICT: Verdict = {
  passed: true,
  checks: [
    {
      metric: 'accuracy',
      rule: 'threshold',
      passed: true,
      value: 0.93,
      expected: 0.9,
      detail: 'accuracy 0.93 meets the threshold >= 0.9',
    },
    {
      metric: 'roc_auc',
      rule: 'min_absolute_change',
      passed: true,
      value: 0.954,
      baseline: 0.941,
      expected: 0.005,
      detail: 'roc_auc improves on v5 by 0.013 (point estimate); required 0.005',
    },
  ],
};

// ---- times --------------------------------------------------------------------------

/** When the commands under test are decided: the day after the given history. */
export const NOW = '2025-03-04T10:00:00.000Z';
/** When the default pending approval (`approvalRequested`) expires. */
export const APPROVAL_EXPIRES_AT = '2025-03-06T09:06:00.000Z';

// ---- events -------------------------------------------------------------------------

type EventOf<T extends ModelVersionEvent['type']> = Extract<ModelVersionEvent, { type: T }>;
type DataOf<T extends ModelVersionEvent['type']> = EventOf<T>['data'];
const event = <T extends ModelVersionEvent['type']>(type: T, data: DataOf<T>): EventOf<T> =>
  ({ type, data }) as unknown as EventOf<T>;

export const versionRegistered = (change: Partial<DataOf<'ModelVersionRegistered'>> = {}) =>
  event('ModelVersionRegistered', {
    model: MODEL,
    version: CANDIDATE,
    source: CANDIDATE_ARTIFACT.source,
    artifactDigest: CANDIDATE_ARTIFACT.digest,
    runId: 'run-4f2a',
    metrics: { accuracy: 0.931 },
    tags: { team: 'retention' },
    description: 'gradient boosting on February features',
    registeredBy: alice,
    ...change,
  });

export const tagSet = (key: string, value: string) => event('ModelVersionTagSet', { key, value });

export const transitionRequested = (
  requestId: string,
  fromStage: Stage,
  toStage: Stage,
  requestedBy: Actor = bob,
  comment = '',
) => event('StageTransitionRequested', { requestId, fromStage, toStage, comment, requestedBy });

export const stageTransitioned = (fromStage: Stage, toStage: Stage, trigger: TransitionTrigger) =>
  event('StageTransitioned', { fromStage, toStage, trigger });

export const promotionRefused = (requestId: string, checks: DataOf<'PromotionRefused'>['checks']) =>
  event('PromotionRefused', { requestId, toStage: 'Production', checks });

/** Against champion v5 unless `championVersion` says otherwise; the champion's artifact follows its version. */
export const evaluationRequested = (evaluationId: string, change: Partial<DataOf<'EvaluationRequested'>> = {}) => {
  const championVersion = change.championVersion === undefined ? CHAMPION : change.championVersion;
  return event('EvaluationRequested', {
    evaluationId,
    set: { name: EVAL_SET, digest: SET_DIGEST },
    candidate: CANDIDATE_ARTIFACT,
    championVersion,
    champion: championVersion === null ? null : { version: championVersion, ...artifactOfVersion(championVersion) },
    reason: 'entered-staging',
    ...change,
  });
};

export const evaluationProgressed = (evaluationId: string, rowsDone: number, rowsTotal: number) =>
  event('EvaluationProgressed', { evaluationId, rowsDone, rowsTotal });

/** What the evaluator reports for `evaluationId` (RecordEvaluationResult): measurements, no verdict. */
export const evaluationMeasured = (evaluationId: string, change: Partial<EvaluationMeasurements> = {}): EvaluationMeasurements => ({
  evaluationId,
  set: { name: EVAL_SET, digest: SET_DIGEST },
  metrics: CANDIDATE_METRICS,
  comparison: COMPARISON_WITH_CHAMPION,
  ...change,
});

export const evaluationCompleted = (evaluationId: string, change: Partial<DataOf<'EvaluationCompleted'>> = {}) =>
  event('EvaluationCompleted', {
    evaluationId,
    set: { name: EVAL_SET, digest: SET_DIGEST },
    metrics: CANDIDATE_METRICS,
    comparison: COMPARISON_WITH_CHAMPION,
    verdict: PASSING_VERDICT,
    ...change,
  });

export const evaluationFailed = (evaluationId: string, reason: string, code: string) =>
  event('EvaluationFailed', { evaluationId, reason, code });

export const approvalRequested = (
  approvalId: string,
  requestId: string,
  change: Partial<DataOf<'ApprovalRequested'>> = {},
) =>
  event('ApprovalRequested', {
    approvalId,
    requestId,
    purpose: 'promotion',
    targetStage: 'Production',
    rule: PRODUCTION_APPROVAL,
    requestedBy: bob,
    expiresAt: APPROVAL_EXPIRES_AT,
    evidence: { evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: CHAMPION },
    checks: [],
    afterTheFact: false,
    ...change,
  });

export const approvalGranted = (approvalId: string, by: Actor, count: number, required = 2, comment = '', channel: DecisionChannel = 'api') =>
  event('ApprovalGranted', { approvalId, by, comment, channel, count, required });

export const quorumReached = (approvalId: string, approvers: Actor[]) =>
  event('ApprovalQuorumReached', { approvalId, approvers });

export const approvalRejected = (approvalId: string, by: Actor, comment: string, channel: DecisionChannel = 'api') =>
  event('ApprovalRejected', { approvalId, by, comment, channel });

export const approvalExpired = (approvalId: string, expiresAt: string = APPROVAL_EXPIRES_AT) =>
  event('ApprovalExpired', { approvalId, expiresAt });

export const deploymentRequested = (
  deploymentId: string,
  requestId: string,
  change: Partial<DataOf<'DeploymentRequested'>> = {},
) =>
  event('DeploymentRequested', {
    deploymentId,
    requestId,
    idempotencyKey: `${MODEL}@${CANDIDATE}/${deploymentId}`,
    purpose: 'promotion',
    targets: PRODUCTION_TARGETS,
    previousStage: 'Staging',
    replacing: CHAMPION,
    ...change,
  });

export const deploymentStarted = (deploymentId: string) =>
  event('DeploymentStarted', { deploymentId, environment: 'production', target: 'kubernetes' });

export const deploymentSucceeded = (deploymentId: string, endpoint: string | null = 'https://ml.example.com/churn') =>
  event('DeploymentSucceeded', { deploymentId, endpoint });

export const deploymentFailed = (deploymentId: string, reason: string) =>
  event('DeploymentFailed', { deploymentId, reason });

export const servingEnded = (supersededBy: number, deploymentId: string, reason: 'superseded' | 'rolled-back') =>
  event('ServingEnded', { supersededBy, deploymentId, reason });

export const rollbackRequested = (rollbackId: string, change: Partial<DataOf<'RollbackRequested'>> = {}) =>
  event('RollbackRequested', {
    rollbackId,
    fromVersion: 8,
    reason: 'v8 doubles false positives on mobile traffic',
    emergency: false,
    requestedBy: frank,
    ...change,
  });

// ---- histories: where a version stands before the command under test -------------------

/** v7 registered by alice; stage None. */
export const registeredVersion = (): ModelVersionEvent[] => [versionRegistered()];

/** v7 entered Staging on bob's request; evaluation `eval-1` against champion v5 is running. */
export const versionInStaging = (): ModelVersionEvent[] => [
  ...registeredVersion(),
  transitionRequested('req-staging', 'None', 'Staging'),
  stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
  evaluationRequested('eval-1'),
];

/** v7 in Staging with `eval-1` completed on the current set: it beats champion v5. */
export const evaluatedInStaging = (): ModelVersionEvent[] => [...versionInStaging(), evaluationCompleted('eval-1')];

/** bob asked for Production; approval `appr-1` (2 reviewers, expires APPROVAL_EXPIRES_AT) is pending. */
export const awaitingApproval = (): ModelVersionEvent[] => [
  ...evaluatedInStaging(),
  transitionRequested('req-prod', 'Staging', 'Production'),
  approvalRequested('appr-1', 'req-prod'),
];

/** carol and dave approved; v7 is in Production and deployment `dep-1` (replacing v5) was requested. */
export const deployingToProduction = (): ModelVersionEvent[] => [
  ...awaitingApproval(),
  approvalGranted('appr-1', carol, 1),
  approvalGranted('appr-1', dave, 2),
  quorumReached('appr-1', [carol, dave]),
  stageTransitioned('Staging', 'Production', { kind: 'approval', requestId: 'req-prod', approvalId: 'appr-1' }),
  deploymentRequested('dep-1', 'req-prod'),
];

/** `dep-1` succeeded: v7 serves. */
export const servingInProduction = (): ModelVersionEvent[] => [
  ...deployingToProduction(),
  deploymentStarted('dep-1'),
  deploymentSucceeded('dep-1'),
];

/** v7 served, then v8 took over (`dep-v8`) and v7 was archived: a rollback target. */
export const archivedAfterServing = (): ModelVersionEvent[] => [
  ...servingInProduction(),
  servingEnded(8, 'dep-v8', 'superseded'),
  stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'superseded', detail: 'v8 took over serving' }),
];

/** The checks that failed, as `metric/rule`: what a refusal is about, without its prose. */
export const failedChecks = (checks: ReadonlyArray<{ metric: string; rule: string; passed: boolean }>): string[] =>
  checks.filter((check) => !check.passed).map((check) => `${check.metric}/${check.rule}`);
