import { deriveId, parseDuration, parseModelVersionStream, type CommandMessage, type DeploymentRequested, type DeploymentTarget } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { PoisonMessageError } from '@mrw/messaging';
import { settingsOf } from '../deployment-targets/deployment-target';
import type { VersionArtifact } from '../follow-deployments/deployment-book';
import type { PlannedTarget, RunConcluded } from './deployment-run';

/** How long a deployment may go without an outcome when its policy names no `deployment.timeout`. */
export const DEFAULT_DEPLOYMENT_TIMEOUT = 'PT30M';

/** The deployer's timer kinds: trigger one target, report the conclusion, fail what has no outcome in time. */
export const DEPLOYMENT_TIMER_KINDS = {
  trigger: 'deployment-trigger',
  outcome: 'deployment-outcome',
  timeout: 'deployment-timeout',
} as const;

export const deploymentTimerIds = {
  trigger: (deploymentId: string, target: number): string => `deployment-trigger:${deploymentId}:${target}`,
  outcome: (deploymentId: string): string => `deployment-outcome:${deploymentId}`,
  timeout: (deploymentId: string): string => `deployment-timeout:${deploymentId}`,
};

/** Milliseconds of an ISO 8601 duration (`PT30M`, `P1D`); undefined if malformed or zero. */
export const parseTimeout = (text: string): number | undefined => {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0 ? ms : undefined;
};

/** What every timer of one deployment carries: enough to act without reading the registry again. */
export interface DeploymentPlan {
  readonly deploymentId: string;
  readonly idempotencyKey: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly replacing: number | null;
  readonly targets: ReadonlyArray<PlannedTarget & { readonly settings: Record<string, unknown> }>;
  readonly artifact: VersionArtifact;
  readonly requestedAt: string;
  /** When the deployment fails if no outcome came: requestedAt + the timeout. */
  readonly deadline: string;
  readonly timeout: string;
  readonly correlationId: string;
  /** The `DeploymentRequested` event: everything the deployer sends is its consequence. */
  readonly causationId: string;
}

export interface TriggerPayload {
  readonly plan: DeploymentPlan;
  readonly target: number;
}

/** The plan of a `DeploymentRequested`; a malformed event is poison. */
export const planOf = (event: RecordedEvent, artifact: VersionArtifact, timeout: string | undefined): DeploymentPlan => {
  const at = parseModelVersionStream(event.streamName);
  const data = event.data as Partial<DeploymentRequested['data']>;
  if (!at || typeof data.deploymentId !== 'string' || !Array.isArray(data.targets)) {
    throw new PoisonMessageError(`${event.type} on ${event.streamName}: no deployment id or targets`);
  }
  const requestedAt = event.metadata.occurredAt;
  const chosen = timeout !== undefined && parseTimeout(timeout) !== undefined ? timeout : DEFAULT_DEPLOYMENT_TIMEOUT;
  return {
    deploymentId: data.deploymentId,
    idempotencyKey: typeof data.idempotencyKey === 'string' ? data.idempotencyKey : data.deploymentId,
    model: at.model,
    version: at.version,
    purpose: data.purpose === 'rollback' ? 'rollback' : 'promotion',
    replacing: typeof data.replacing === 'number' ? data.replacing : null,
    targets: data.targets.map((t: DeploymentTarget) => ({ kind: t.kind, environment: t.environment, settings: settingsOf(t) })),
    artifact,
    requestedAt,
    deadline: new Date(Date.parse(requestedAt) + (parseTimeout(chosen) as number)).toISOString(),
    timeout: chosen,
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.eventId,
  };
};

/** `RecordDeploymentStarted`, once per deployment (its id derives from the deployment, so a resend is a replay). */
export const startedCommand = (plan: DeploymentPlan): CommandMessage => ({
  commandId: deriveId(plan.deploymentId, 'deployment-started'),
  type: 'RecordDeploymentStarted',
  model: plan.model,
  version: plan.version,
  data: {
    deploymentId: plan.deploymentId,
    environment: [...new Set(plan.targets.map((t) => t.environment))].join('+'),
    target: [...new Set(plan.targets.map((t) => t.kind))].join('+'),
  },
  correlationId: plan.correlationId,
  causationId: plan.causationId,
});

/** `RecordDeploymentSucceeded` or `RecordDeploymentFailed` for the run's conclusion, with an id derived from the deployment. */
export const outcomeCommand = (plan: DeploymentPlan, conclusion: RunConcluded['data']): CommandMessage =>
  conclusion.outcome === 'succeeded'
    ? {
        commandId: deriveId(plan.deploymentId, 'deployment-outcome'),
        type: 'RecordDeploymentSucceeded',
        model: plan.model,
        version: plan.version,
        data: { deploymentId: plan.deploymentId, endpoint: conclusion.endpoint },
        correlationId: plan.correlationId,
        causationId: plan.causationId,
      }
    : {
        commandId: deriveId(plan.deploymentId, 'deployment-outcome'),
        type: 'RecordDeploymentFailed',
        model: plan.model,
        version: plan.version,
        data: { deploymentId: plan.deploymentId, reason: (conclusion.reason ?? 'failed').slice(0, 2000) },
        correlationId: plan.correlationId,
        causationId: plan.causationId,
      };
