import {
  DEFAULT_PRODUCTION_APPROVAL,
  DEFAULT_ROLLBACK_APPROVAL,
  deriveId,
  type Actor,
  type ApprovalRule,
  type ArtifactRef,
  type CommandMetadata,
  type DecisionChannel,
  type DeploymentTarget,
  type Evidence,
  type GateCheck,
  type ModelPolicy,
  type ModelVersionEvent,
  type Stage,
} from '@mrw/contracts';
import { checkThresholds, verdictOf } from '../gates/check-thresholds';
import { checkPromotionGates, sameEvidence, type GateContext } from '../gates/promotion-gates';
import { addDuration } from '../shared/duration';
import { invalidDescription } from '../shared/descriptive-fields';
import { assertNever, fail, ok, type Result } from '../shared/result';
import type {
  GrantApproval,
  ModelVersionCommand,
  ModelVersionErrorCode,
  Principal,
  RecordDeploymentFailed,
  RecordShadowDeployment,
  RequestRollback,
  RequestStageTransition,
} from './model-version.commands';
import {
  deploymentInFlight,
  evolveModelVersion,
  latestEvaluation,
  pendingApproval,
  type ApprovalView,
  type ModelVersionState,
  type RegisteredVersion,
} from './model-version.state';

type Decision = Result<ModelVersionEvent[], ModelVersionErrorCode>;

/** Stage changes a person may request directly (rule 1); Archived → Production is rollback only. */
export const ALLOWED_TRANSITIONS: Readonly<Record<Stage, readonly Stage[]>> = {
  None: ['Staging', 'Archived'],
  Staging: ['Production', 'None', 'Archived'],
  Production: ['Archived'],
  Archived: ['Staging'],
};

/** Used when a policy names no deployment target. */
export const DEFAULT_DEPLOYMENT_TARGETS: readonly DeploymentTarget[] = [
  { kind: 'local', environment: 'production' },
];

export const sameActor = (a: Actor, b: Actor): boolean => a.kind === b.kind && a.id === b.id;

/** Whether a principal belongs to an approval rule's reviewer group for this model. */
export const isEligibleReviewer = (
  reviewers: readonly string[],
  actor: Actor,
  principal: Principal,
  model: string,
): boolean => {
  const inScope = principal.models.length === 0 || principal.models.includes(model);
  const inGroup = reviewers.some((entry) =>
    entry.startsWith('role:')
      ? principal.roles.some((role) => `role:${role}` === entry)
      : entry === `user:${actor.id}` && actor.kind === 'user',
  );
  return inScope && inGroup;
};

const evolveAll = (state: RegisteredVersion, events: readonly ModelVersionEvent[], at: string): RegisteredVersion =>
  events.reduce<ModelVersionState>((s, e) => evolveModelVersion(s, { ...e, at }), state) as RegisteredVersion;

/**
 * An approval past its expiry never blocks a version, even before its timer fired: a new
 * request first records the expiry (the timer's later ExpireApproval then finds it closed),
 * then is decided on the state after it.
 */
const afterLapsedApproval = (state: RegisteredVersion, now: string, decide: (state: RegisteredVersion) => Decision): Decision => {
  const approval = pendingApproval(state);
  if (!approval || Date.parse(now) < Date.parse(approval.expiresAt)) return decide(state);
  const expired: ModelVersionEvent[] = [{ type: 'ApprovalExpired', data: { approvalId: approval.id, expiresAt: approval.expiresAt } }];
  const decision = decide(evolveAll(state, expired, now));
  return decision.ok ? ok([...expired, ...decision.value]) : decision;
};

const championOf = (state: RegisteredVersion, context: { servingVersion: number | null }): number | null =>
  context.servingVersion !== null && context.servingVersion !== state.version ? context.servingVersion : null;

/**
 * The champion an evaluation compares against, with its artifact. Without the artifact there
 * is nothing to score, so no champion: the gates then refuse the promotion until a
 * re-evaluation against the serving version, rather than pass one compared with nothing.
 */
const championArtifactOf = (
  state: RegisteredVersion,
  context: GateContext,
): (ArtifactRef & { readonly version: number }) | null => {
  const version = championOf(state, context);
  return version === null || context.servingArtifact === null ? null : { version, ...context.servingArtifact };
};

const approvalRequested = (
  state: RegisteredVersion,
  meta: CommandMetadata,
  opening: {
    requestId: string;
    purpose: 'promotion' | 'rollback';
    rule: ApprovalRule;
    evidence: Evidence;
    checks: GateCheck[];
    afterTheFact: boolean;
  },
): ModelVersionEvent => ({
  type: 'ApprovalRequested',
  data: {
    approvalId: deriveId(meta.commandId, 'approval'),
    requestId: opening.requestId,
    purpose: opening.purpose,
    targetStage: 'Production',
    rule: opening.rule,
    requestedBy: meta.actor,
    expiresAt: addDuration(meta.now, opening.rule.expiresIn),
    evidence: opening.evidence,
    checks: opening.checks,
    afterTheFact: opening.afterTheFact,
  },
});

const deploymentRequested = (
  state: RegisteredVersion,
  meta: CommandMetadata,
  deployment: { requestId: string; purpose: 'promotion' | 'rollback'; policy: ModelPolicy; replacing: number | null },
): ModelVersionEvent => {
  const deploymentId = deriveId(meta.commandId, 'deployment');
  return {
    type: 'DeploymentRequested',
    data: {
      deploymentId,
      requestId: deployment.requestId,
      idempotencyKey: `${state.model}@${state.version}/${deploymentId}`,
      purpose: deployment.purpose,
      targets: [...(deployment.policy.deployment?.targets ?? DEFAULT_DEPLOYMENT_TARGETS)],
      previousStage: state.stage,
      replacing: deployment.replacing,
    },
  };
};

/** The stage change and deployment that follow an approved (or approval-free) promotion or rollback. */
const promote = (
  state: RegisteredVersion,
  meta: CommandMetadata,
  how: { requestId: string; purpose: 'promotion' | 'rollback'; approvalId: string | null; policy: ModelPolicy; replacing: number | null },
): ModelVersionEvent[] => {
  const events: ModelVersionEvent[] = [];
  if (state.stage !== 'Production') {
    events.push({
      type: 'StageTransitioned',
      data: {
        fromStage: state.stage,
        toStage: 'Production',
        trigger:
          how.purpose === 'rollback'
            ? { kind: 'rollback', rollbackId: how.requestId }
            : how.approvalId
              ? { kind: 'approval', requestId: how.requestId, approvalId: how.approvalId }
              : { kind: 'request', requestId: how.requestId },
      },
    });
  }
  events.push(deploymentRequested(state, meta, how));
  return events;
};

/** Rule 5: when the evidence under a pending promotion approval changes, its approvals are void. */
const reviewEvidence = (
  before: RegisteredVersion,
  after: RegisteredVersion,
  context: GateContext,
): ModelVersionEvent[] => {
  const approval = pendingApproval(before);
  if (!approval || approval.purpose !== 'promotion') return [];
  const gates = checkPromotionGates(after, context);
  if (gates.passed && sameEvidence(approval.evidence, gates.evidence)) return [];
  return [
    {
      type: 'ApprovalEvidenceChanged',
      data: {
        approvalId: approval.id,
        previous: approval.evidence,
        current: gates.evidence,
        voided: approval.approvals.map((a) => a.by),
        outcome: gates.passed ? 'reopened' : 'closed',
        checks: gates.checks,
      },
    },
  ];
};

const requestTransition = (command: RequestStageTransition, state: RegisteredVersion): Decision => {
  const { toStage, comment, context, archiveExistingVersions } = command.data;
  const meta = command.metadata;
  const from = state.stage;
  if (toStage === from) return fail('ALREADY_IN_STAGE', `version ${state.version} is already in ${from}`);
  if (from === 'Archived' && toStage === 'Production') {
    return fail('ROLLBACK_REQUIRED', 'an archived version returns to Production only by rollback: POST /rollback');
  }
  if (!ALLOWED_TRANSITIONS[from].includes(toStage)) {
    return fail('TRANSITION_NOT_ALLOWED', `${from} → ${toStage} is not an allowed transition`, {
      from,
      allowed: ALLOWED_TRANSITIONS[from],
    });
  }
  const approval = pendingApproval(state);
  if (approval) {
    return fail('APPROVAL_PENDING', `approval ${approval.id} is pending: approve, reject or let it expire first`, {
      approvalId: approval.id,
    });
  }
  const deployment = deploymentInFlight(state);
  if (deployment) {
    return fail('DEPLOYMENT_IN_PROGRESS', `deployment ${deployment.id} is in progress`, { deploymentId: deployment.id });
  }
  if (toStage === 'Archived' && context.servingVersion === state.version) {
    return fail('VERSION_IS_SERVING', `version ${state.version} serves traffic: roll back or promote another first`);
  }
  const requestId = meta.commandId;
  const requested: ModelVersionEvent = {
    type: 'StageTransitionRequested',
    data: {
      requestId,
      fromStage: from,
      toStage,
      comment,
      requestedBy: meta.actor,
      // Nothing to archive others for on the way to None or Archived.
      ...(archiveExistingVersions === true && (toStage === 'Staging' || toStage === 'Production') ? { archiveExistingVersions: true as const } : {}),
    },
  };
  if (toStage === 'Production') {
    const gates = checkPromotionGates(state, context);
    if (!gates.passed) {
      return ok([requested, { type: 'PromotionRefused', data: { requestId, toStage, checks: gates.checks } }]);
    }
    const rule = context.policy.approval?.Production ?? DEFAULT_PRODUCTION_APPROVAL;
    if (rule.required === 0) {
      return ok([
        requested,
        ...promote(state, meta, {
          requestId,
          purpose: 'promotion',
          approvalId: null,
          policy: context.policy,
          replacing: context.servingVersion,
        }),
      ]);
    }
    return ok([
      requested,
      approvalRequested(state, meta, {
        requestId,
        purpose: 'promotion',
        rule,
        evidence: gates.evidence,
        checks: gates.checks,
        afterTheFact: false,
      }),
    ]);
  }
  const events: ModelVersionEvent[] = [
    requested,
    { type: 'StageTransitioned', data: { fromStage: from, toStage, trigger: { kind: 'request', requestId } } },
  ];
  if (toStage === 'Staging' && context.policy.evaluation) {
    events.push(evaluationRequested(state, meta, context, 'entered-staging'));
  }
  return ok(events);
};

/** The evaluation request carries what the evaluator needs: set, candidate and champion artifacts. */
const evaluationRequested = (
  state: RegisteredVersion,
  meta: CommandMetadata,
  context: GateContext,
  reason: 'entered-staging' | 'requested',
): ModelVersionEvent => {
  const champion = championArtifactOf(state, context);
  return {
    type: 'EvaluationRequested',
    data: {
      evaluationId: deriveId(meta.commandId, 'evaluation'),
      // `as` is safe: callers check that the policy names a set.
      set: { name: (context.policy.evaluation as { set: string }).set, digest: context.currentSetDigest },
      candidate: { source: state.source, digest: state.artifactDigest },
      championVersion: champion?.version ?? null,
      champion,
      reason,
      ...(context.policy.deployment?.shadow === true ? { scoring: { via: 'shadow' as const, environment: SHADOW_ENVIRONMENT } } : {}),
    },
  };
};

/** The local runtime's environment that serves candidates for shadow evaluation. */
export const SHADOW_ENVIRONMENT = 'shadow';

const findApproval = (state: RegisteredVersion, approvalId: string): Result<ApprovalView, ModelVersionErrorCode> => {
  const approval = state.approvals.find((a) => a.id === approvalId);
  if (!approval) return fail('APPROVAL_NOT_FOUND', `no approval ${approvalId} on version ${state.version}`);
  if (approval.status !== 'pending') {
    return fail('APPROVAL_NOT_PENDING', `approval ${approvalId} is ${approval.status}`, { status: approval.status });
  }
  return ok(approval);
};

/** The channel (default `api`) and relaying service of a decision, as its event records them. */
const originOf = (data: { readonly channel?: DecisionChannel; readonly relayedBy?: Actor }) => ({
  channel: data.channel ?? 'api',
  ...(data.relayedBy ? { relayedBy: data.relayedBy } : {}),
});

const grantApproval = (command: GrantApproval, state: RegisteredVersion): Decision => {
  const { approvalId, comment, principal, context } = command.data;
  const meta = command.metadata;
  const found = findApproval(state, approvalId);
  if (!found.ok) return found;
  const approval = found.value;
  if (Date.parse(meta.now) >= Date.parse(approval.expiresAt)) {
    return fail('APPROVAL_EXPIRED', `approval ${approvalId} expired at ${approval.expiresAt}`);
  }
  if (!isEligibleReviewer(approval.rule.reviewers, meta.actor, principal, state.model)) {
    return fail('NOT_A_REVIEWER', `${meta.actor.id} is not among the reviewers (${approval.rule.reviewers.join(', ')})`);
  }
  if (sameActor(meta.actor, approval.requestedBy)) {
    return fail('APPROVER_IS_REQUESTER', 'the person who requested the promotion cannot approve it');
  }
  if (sameActor(meta.actor, state.registeredBy)) {
    return fail('APPROVER_IS_REGISTRANT', 'the person who registered this version cannot approve it');
  }
  if (approval.approvals.some((a) => sameActor(a.by, meta.actor))) {
    return fail('ALREADY_APPROVED', `${meta.actor.id} already approved; each person counts once`);
  }
  if (approval.purpose === 'promotion' && !approval.afterTheFact) {
    const latest = latestEvaluation(state);
    if (latest?.status === 'running') {
      return fail('EVALUATION_RUNNING', `evaluation ${latest.id} is running: approve once it has finished`);
    }
    const evidenceChange = reviewEvidence(state, state, context);
    // The grant itself is not recorded: the reviewer saw evidence that no longer holds.
    if (evidenceChange.length > 0) return ok(evidenceChange);
  }
  const count = approval.approvals.length + 1;
  const events: ModelVersionEvent[] = [
    { type: 'ApprovalGranted', data: { approvalId, by: meta.actor, comment, ...originOf(command.data), count, required: approval.rule.required } },
  ];
  if (count < approval.rule.required) return ok(events);
  events.push({
    type: 'ApprovalQuorumReached',
    data: { approvalId, approvers: [...approval.approvals.map((a) => a.by), meta.actor] },
  });
  if (approval.afterTheFact) return ok(events);
  if (context.servingVersion === state.version) {
    return fail('ALREADY_SERVING', `version ${state.version} already serves`);
  }
  return ok([
    ...events,
    ...promote(state, meta, {
      requestId: approval.requestId,
      purpose: approval.purpose,
      approvalId,
      policy: context.policy,
      replacing: context.servingVersion,
    }),
  ]);
};

const requestRollback = (command: RequestRollback, state: RegisteredVersion): Decision => {
  const { reason, emergency, principal, policy, servingVersion } = command.data;
  const meta = command.metadata;
  if (servingVersion === state.version) return fail('ALREADY_SERVING', `version ${state.version} already serves`);
  if (!state.hasServed) {
    return fail('ROLLBACK_TARGET_NEVER_SERVED', `version ${state.version} never served: roll back to a version that did`);
  }
  if (state.stage !== 'Archived' && state.stage !== 'Production') {
    return fail('ROLLBACK_TARGET_NOT_ELIGIBLE', `version ${state.version} is in ${state.stage}, not Archived or Production`);
  }
  const approval = pendingApproval(state);
  if (approval) return fail('APPROVAL_PENDING', `approval ${approval.id} is pending`, { approvalId: approval.id });
  const deployment = deploymentInFlight(state);
  if (deployment) {
    return fail('DEPLOYMENT_IN_PROGRESS', `deployment ${deployment.id} is in progress`, { deploymentId: deployment.id });
  }
  const mayBypass = principal.roles.includes('deployer') || principal.roles.includes('admin');
  if (emergency && (!mayBypass || policy.rollback?.allowEmergency === false)) {
    return fail('EMERGENCY_NOT_ALLOWED', 'emergency rollback needs the deployer role and a policy that allows it');
  }
  const rule: ApprovalRule = policy.approval?.Rollback ?? {
    ...DEFAULT_ROLLBACK_APPROVAL,
    required: policy.rollback?.required ?? DEFAULT_ROLLBACK_APPROVAL.required,
  };
  const rollbackId = meta.commandId;
  const events: ModelVersionEvent[] = [
    {
      type: 'RollbackRequested',
      data: { rollbackId, fromVersion: servingVersion, reason, emergency, requestedBy: meta.actor },
    },
  ];
  const evidence: Evidence = { evaluationId: null, datasetDigest: null, championVersion: servingVersion };
  if (!emergency && rule.required > 0) {
    events.push(
      approvalRequested(state, meta, { requestId: rollbackId, purpose: 'rollback', rule, evidence, checks: [], afterTheFact: false }),
    );
    return ok(events);
  }
  events.push(
    ...promote(state, meta, { requestId: rollbackId, purpose: 'rollback', approvalId: null, policy, replacing: servingVersion }),
  );
  if (emergency) {
    const review = { ...rule, required: Math.max(1, rule.required) };
    events.push(
      approvalRequested(state, meta, { requestId: rollbackId, purpose: 'rollback', rule: review, evidence, checks: [], afterTheFact: true }),
    );
  }
  return ok(events);
};

const recordDeploymentFailed = (command: RecordDeploymentFailed, state: RegisteredVersion): Decision => {
  const deployment = state.deployments.find((d) => d.id === command.data.deploymentId);
  if (!deployment) return fail('DEPLOYMENT_NOT_FOUND', `no deployment ${command.data.deploymentId}`);
  if (deployment.status === 'succeeded' || deployment.status === 'failed') {
    return fail('DEPLOYMENT_NOT_ACTIVE', `deployment ${deployment.id} already ${deployment.status}`);
  }
  const events: ModelVersionEvent[] = [
    { type: 'DeploymentFailed', data: { deploymentId: deployment.id, reason: command.data.reason } },
  ];
  // Rule 7, the compensating step: back to where the version stood; the champion keeps serving.
  if (state.stage !== deployment.previousStage) {
    events.push({
      type: 'StageTransitioned',
      data: {
        fromStage: state.stage,
        toStage: deployment.previousStage,
        trigger: { kind: 'deployment-failed', deploymentId: deployment.id },
      },
    });
  }
  return ok(events);
};

const requireRunningEvaluation = (state: RegisteredVersion, evaluationId: string): Result<true, ModelVersionErrorCode> => {
  const evaluation = state.evaluations.find((e) => e.id === evaluationId);
  if (!evaluation) return fail('EVALUATION_NOT_FOUND', `no evaluation ${evaluationId} on version ${state.version}`);
  if (evaluation.status !== 'running') {
    return fail('EVALUATION_NOT_RUNNING', `evaluation ${evaluationId} already ${evaluation.status}`);
  }
  return ok(true);
};

/** An evaluation failed: recorded, and a pending promotion approval resting on it is closed (its evidence is gone). */
const evaluationFailed = (state: RegisteredVersion, failure: { evaluationId: string; reason: string; code: string }): ModelVersionEvent[] => {
  const failed: ModelVersionEvent[] = [{ type: 'EvaluationFailed', data: failure }];
  const approval = pendingApproval(state);
  if (!approval || approval.purpose !== 'promotion') return failed;
  return [
    ...failed,
    {
      type: 'ApprovalEvidenceChanged',
      data: {
        approvalId: approval.id,
        previous: approval.evidence,
        current: { ...approval.evidence, evaluationId: failure.evaluationId, datasetDigest: null },
        voided: approval.approvals.map((a) => a.by),
        outcome: 'closed',
        checks: [
          { metric: 'evaluation', rule: 'completed', passed: false, detail: `evaluation failed: ${failure.reason}` },
        ],
      },
    },
  ];
};

/**
 * The deployer's report on the shadow environment: ready (the evaluator scores through the
 * endpoint) or failed (so is the evaluation, with the reason). A report on an evaluation that
 * finished meanwhile, or that is not a shadow evaluation, is refused.
 */
const recordShadowDeployment = (command: RecordShadowDeployment, state: RegisteredVersion): Decision => {
  const report = command.data;
  const running = requireRunningEvaluation(state, report.evaluationId);
  if (!running.ok) return running;
  const evaluation = state.evaluations.find((e) => e.id === report.evaluationId);
  if (!evaluation?.shadow) {
    return fail('NOT_SHADOW_EVALUATION', `evaluation ${report.evaluationId} scores in-process, not through a shadow deployment`);
  }
  if (evaluation.shadow.status !== 'deploying') return ok([]);
  if (report.outcome === 'ready') {
    return ok([{ type: 'ShadowDeploymentReady', data: { evaluationId: report.evaluationId, environment: report.environment, endpoint: report.endpoint } }]);
  }
  return ok([
    { type: 'ShadowDeploymentFailed', data: { evaluationId: report.evaluationId, environment: report.environment, reason: report.reason } },
    ...evaluationFailed(state, {
      evaluationId: report.evaluationId,
      code: 'SHADOW_DEPLOYMENT_FAILED',
      reason: `the candidate could not be served in the ${report.environment} environment: ${report.reason}`,
    }),
  ]);
};

/** Decides a command against a version's state: the events to append, or a typed refusal. */
export const decideModelVersion = (command: ModelVersionCommand, state: ModelVersionState): Decision => {
  if (command.type === 'RegisterModelVersion') {
    if (state.status === 'registered') {
      return fail('VERSION_ALREADY_EXISTS', `version ${command.data.version} of ${command.data.model} already exists`);
    }
    return ok([{ type: 'ModelVersionRegistered', data: { ...command.data, registeredBy: command.metadata.actor } }]);
  }
  if (state.status !== 'registered') return fail('VERSION_NOT_FOUND', 'this model version does not exist');
  const meta = command.metadata;
  switch (command.type) {
    case 'SetVersionTag': {
      const { key, value } = command.data;
      return ok(state.tags[key] === value ? [] : [{ type: 'ModelVersionTagSet', data: { key, value } }]);
    }
    case 'RemoveVersionTag': {
      const { key } = command.data;
      if (!Object.hasOwn(state.tags, key)) return fail('TAG_NOT_FOUND', `version ${state.version} has no tag ${key}`);
      return ok([{ type: 'ModelVersionTagRemoved', data: { key } }]);
    }
    case 'UpdateVersionDescription': {
      const { description } = command.data;
      const invalid = invalidDescription(description);
      if (invalid) return invalid;
      return ok(description === state.description ? [] : [{ type: 'ModelVersionDescriptionUpdated', data: { description } }]);
    }
    case 'RequestStageTransition':
      return afterLapsedApproval(state, command.metadata.now, (current) => requestTransition(command, current));
    case 'RequestEvaluation': {
      const { context } = command.data;
      if (state.stage !== 'Staging') return fail('NOT_IN_STAGING', 'only a version in Staging is evaluated');
      if (!context.policy.evaluation) {
        return fail('NO_EVALUATION_POLICY', `model ${state.model} has no evaluation set in its policy`);
      }
      const latest = latestEvaluation(state);
      if (latest?.status === 'running') {
        return fail('EVALUATION_RUNNING', `evaluation ${latest.id} is still running`);
      }
      return ok([evaluationRequested(state, meta, context, 'requested')]);
    }
    case 'RecordEvaluationProgress': {
      const running = requireRunningEvaluation(state, command.data.evaluationId);
      if (!running.ok) return running;
      return ok([{ type: 'EvaluationProgressed', data: command.data }]);
    }
    case 'RecordEvaluationResult': {
      const { context, ...measured } = command.data;
      const running = requireRunningEvaluation(state, measured.evaluationId);
      if (!running.ok) return running;
      // The verdict is the registry's: the policy's thresholds as they stand when the result arrives.
      const verdict = verdictOf(
        checkThresholds(context.policy.evaluation?.thresholds ?? {}, measured.metrics, measured.comparison),
      );
      const completed: ModelVersionEvent[] = [{ type: 'EvaluationCompleted', data: { ...measured, verdict } }];
      return ok([...completed, ...reviewEvidence(state, evolveAll(state, completed, meta.now), context)]);
    }
    case 'RecordEvaluationFailure': {
      const running = requireRunningEvaluation(state, command.data.evaluationId);
      if (!running.ok) return running;
      return ok(evaluationFailed(state, command.data));
    }
    case 'RecordShadowDeployment':
      return recordShadowDeployment(command, state);
    case 'GrantApproval':
      return grantApproval(command, state);
    case 'RejectApproval': {
      const found = findApproval(state, command.data.approvalId);
      if (!found.ok) return found;
      if (!isEligibleReviewer(found.value.rule.reviewers, meta.actor, command.data.principal, state.model)) {
        return fail('NOT_A_REVIEWER', `${meta.actor.id} is not among the reviewers`);
      }
      return ok([
        { type: 'ApprovalRejected', data: { approvalId: found.value.id, by: meta.actor, comment: command.data.comment, ...originOf(command.data) } },
      ]);
    }
    case 'RecordNotificationOutcome': {
      // Audit only: who was told, whatever the request's status now.
      if (!state.approvals.some((a) => a.id === command.data.approvalId)) {
        return fail('APPROVAL_NOT_FOUND', `no approval ${command.data.approvalId} on version ${state.version}`);
      }
      return ok([{ type: 'ApprovalNotificationRecorded', data: command.data }]);
    }
    case 'ExpireApproval': {
      // A timer's "expire it if it is still open": one that closed meanwhile (decided, expired
      // by a later request, voided) leaves nothing to do, which is not a refusal.
      const closed = state.approvals.find((a) => a.id === command.data.approvalId && a.status !== 'pending');
      if (closed) return ok([]);
      const found = findApproval(state, command.data.approvalId);
      if (!found.ok) return found;
      if (Date.parse(meta.now) < Date.parse(found.value.expiresAt)) {
        return fail('APPROVAL_NOT_EXPIRED', `approval ${found.value.id} expires at ${found.value.expiresAt}`);
      }
      return ok([{ type: 'ApprovalExpired', data: { approvalId: found.value.id, expiresAt: found.value.expiresAt } }]);
    }
    case 'RecordDeploymentStarted': {
      const deployment = state.deployments.find((d) => d.id === command.data.deploymentId);
      if (!deployment) return fail('DEPLOYMENT_NOT_FOUND', `no deployment ${command.data.deploymentId}`);
      if (deployment.status === 'started') return ok([]);
      if (deployment.status !== 'requested') {
        return fail('DEPLOYMENT_NOT_ACTIVE', `deployment ${deployment.id} already ${deployment.status}`);
      }
      return ok([{ type: 'DeploymentStarted', data: command.data }]);
    }
    case 'RecordDeploymentSucceeded': {
      const deployment = state.deployments.find((d) => d.id === command.data.deploymentId);
      if (!deployment) return fail('DEPLOYMENT_NOT_FOUND', `no deployment ${command.data.deploymentId}`);
      if (deployment.status === 'succeeded' || deployment.status === 'failed') {
        return fail('DEPLOYMENT_NOT_ACTIVE', `deployment ${deployment.id} already ${deployment.status}`);
      }
      return ok([{ type: 'DeploymentSucceeded', data: command.data }]);
    }
    case 'RecordDeploymentFailed':
      return recordDeploymentFailed(command, state);
    case 'EndServing': {
      const { supersededBy, deploymentId, reason, archive } = command.data;
      const events: ModelVersionEvent[] = state.serving
        ? [{ type: 'ServingEnded', data: { supersededBy, deploymentId, reason } }]
        : [];
      if (archive && state.stage !== 'Archived' && !deploymentInFlight(state) && !pendingApproval(state)) {
        events.push({
          type: 'StageTransitioned',
          data: {
            fromStage: state.stage,
            toStage: 'Archived',
            trigger: { kind: 'archival', rule: reason, detail: `v${supersededBy} took over serving` },
          },
        });
      }
      return ok(events);
    }
    case 'RequestRollback':
      return afterLapsedApproval(state, command.metadata.now, (current) => requestRollback(command, current));
    case 'ArchiveModelVersion': {
      const { rule, detail, parameters, evidence, servingVersion } = command.data;
      if (state.stage === 'Archived') return fail('ALREADY_IN_STAGE', `version ${state.version} is already archived`);
      if (servingVersion === state.version) {
        return fail('VERSION_IS_SERVING', `version ${state.version} serves traffic and cannot be archived`);
      }
      const approval = pendingApproval(state);
      if (approval) return fail('APPROVAL_PENDING', `approval ${approval.id} is pending`, { approvalId: approval.id });
      const deployment = deploymentInFlight(state);
      if (deployment) return fail('DEPLOYMENT_IN_PROGRESS', `deployment ${deployment.id} is in progress`);
      return ok([
        {
          type: 'StageTransitioned',
          data: {
            fromStage: state.stage,
            toStage: 'Archived',
            // What the rule rested on goes into the audit trail with it (issue 12: transparency).
            trigger: { kind: 'archival', rule, detail, ...(parameters ? { parameters } : {}), ...(evidence ? { evidence } : {}) },
          },
        },
      ]);
    }
    case 'RecordLiveMetricBreach': {
      const { servingVersion, ...breach } = command.data;
      if (servingVersion !== state.version) {
        const serving = servingVersion === null ? 'no version serves' : `v${servingVersion} serves`;
        return fail('NOT_SERVING', `version ${state.version} does not serve (${serving}): a live-metric breach is recorded on the serving version`);
      }
      // The same window reported again (a re-plan after a restart) is one breach, not two.
      const known = state.liveMetricBreaches.some(
        (b) => b.metric === breach.metric && b.window.from === breach.window.from && b.window.to === breach.window.to,
      );
      return ok(known ? [] : [{ type: 'LiveMetricBreached', data: breach }]);
    }
    default:
      return assertNever(command);
  }
};
