import { Inject, Injectable } from '@nestjs/common';
import {
  parseModelVersionStream,
  type DeploymentFailed,
  type DeploymentRequested,
  type DeploymentStarted,
  type DeploymentSucceeded,
  type DeploymentTarget,
  type ModelPolicySet,
  type ModelVersionRegistered,
} from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { LogFeed, Readiness } from '@mrw/platform';

export type DeploymentStatus = 'requested' | 'started' | 'succeeded' | 'failed';

/** A deployment as the registry recorded it. */
export interface KnownDeployment {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  readonly idempotencyKey: string;
  readonly targets: readonly DeploymentTarget[];
  readonly replacing: number | null;
  readonly status: DeploymentStatus;
  readonly environment: string;
  readonly target: string;
  readonly endpoint: string | null;
  readonly requestedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly reason: string | null;
  readonly correlationId: string;
  /** Position in the log of its `DeploymentRequested`: the newest first in lists. */
  readonly position: bigint;
}

/** A version's artifact, as registered. */
export interface VersionArtifact {
  readonly uri: string;
  readonly digest: string | null;
}

/** Environments and kinds of a deployment's targets, as one line each (`production`, `github-actions+argocd`). */
export const describeTargets = (targets: readonly DeploymentTarget[]): { environment: string; target: string } => ({
  environment: [...new Set(targets.map((t) => t.environment))].join('+'),
  target: [...new Set(targets.map((t) => t.kind))].join('+'),
});

/**
 * What the deployer knows from the registry's events: every deployment and how it stands (for
 * `GET /api/v1/deployments`), each version's artifact (what targets deploy) and each model's
 * policy (the deployment timeout). In memory, folded from the log at every start; the service
 * never reads the registry's streams with the registry's deciders.
 */
@Injectable()
export class DeploymentBook extends LogFeed {
  private readonly deployments = new Map<string, KnownDeployment>();
  private readonly artifacts = new Map<string, VersionArtifact>();
  private readonly policies = new Map<string, ModelPolicySet['data']['policy']>();

  constructor(@Inject(EVENT_STORE) store: EventStore, readiness: Readiness) {
    super(store, readiness, {
      name: 'deployer-deployment-book',
      filter: {
        streamPrefixes: ['modelVersion-', 'model-'],
        eventTypes: ['ModelVersionRegistered', 'ModelPolicySet', 'DeploymentRequested', 'DeploymentStarted', 'DeploymentSucceeded', 'DeploymentFailed'],
      },
    });
  }

  protected apply(event: RecordedEvent): void {
    const at = event.metadata.occurredAt;
    switch (event.type) {
      case 'ModelVersionRegistered': {
        const data = event.data as ModelVersionRegistered['data'];
        this.artifacts.set(`${data.model}@${data.version}`, { uri: data.source, digest: data.artifactDigest });
        return;
      }
      case 'ModelPolicySet': {
        const data = event.data as ModelPolicySet['data'];
        this.policies.set(data.model, data.policy);
        return;
      }
      case 'DeploymentRequested': {
        const target = parseModelVersionStream(event.streamName);
        if (!target) return;
        const data = event.data as DeploymentRequested['data'];
        this.deployments.set(data.deploymentId, {
          id: data.deploymentId,
          model: target.model,
          version: target.version,
          purpose: data.purpose,
          idempotencyKey: data.idempotencyKey,
          targets: data.targets,
          replacing: data.replacing,
          status: 'requested',
          ...describeTargets(data.targets),
          endpoint: null,
          requestedAt: at,
          startedAt: null,
          finishedAt: null,
          reason: null,
          correlationId: event.metadata.correlationId,
          position: event.position,
        });
        return;
      }
      case 'DeploymentStarted': {
        const data = event.data as DeploymentStarted['data'];
        this.update(data.deploymentId, (d) => ({ ...d, status: 'started', startedAt: at, environment: data.environment, target: data.target }));
        return;
      }
      case 'DeploymentSucceeded': {
        const data = event.data as DeploymentSucceeded['data'];
        this.update(data.deploymentId, (d) => ({ ...d, status: 'succeeded', finishedAt: at, endpoint: data.endpoint }));
        return;
      }
      case 'DeploymentFailed': {
        const data = event.data as DeploymentFailed['data'];
        this.update(data.deploymentId, (d) => ({ ...d, status: 'failed', finishedAt: at, reason: data.reason }));
        return;
      }
      default:
        return;
    }
  }

  private update(id: string, change: (d: KnownDeployment) => KnownDeployment): void {
    const known = this.deployments.get(id);
    if (known) this.deployments.set(id, change(known));
  }

  get(deploymentId: string): KnownDeployment | undefined {
    return this.deployments.get(deploymentId);
  }

  /** Whether the registry has recorded the deployment's outcome. */
  isFinished(deploymentId: string): boolean {
    const status = this.deployments.get(deploymentId)?.status;
    return status === 'succeeded' || status === 'failed';
  }

  /**
   * A deployment of the same model to one of the same environments that was requested earlier
   * and has no outcome yet: this one waits for it, so two versions never race for one
   * environment's serving pointer.
   */
  inFlightBefore(deploymentId: string): KnownDeployment | undefined {
    const me = this.deployments.get(deploymentId);
    if (!me) return undefined;
    const mine = new Set(me.environment.split('+'));
    return [...this.deployments.values()].find(
      (d) =>
        d.id !== me.id &&
        d.model === me.model &&
        d.position < me.position &&
        (d.status === 'requested' || d.status === 'started') &&
        d.environment.split('+').some((e) => mine.has(e)),
    );
  }

  /** Deployments, newest first, filtered. */
  list(filter: { models?: readonly string[]; model?: string; environment?: string; status?: string }): KnownDeployment[] {
    return [...this.deployments.values()]
      .filter((d) => (filter.models ? filter.models.includes(d.model) : true))
      .filter((d) => (filter.model === undefined ? true : d.model === filter.model))
      .filter((d) => (filter.environment === undefined ? true : d.environment.split('+').includes(filter.environment)))
      .filter((d) => (filter.status === undefined ? true : d.status === filter.status))
      .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  }

  artifactOf(model: string, version: number): VersionArtifact | undefined {
    return this.artifacts.get(`${model}@${version}`);
  }

  /** `policy.deployment.timeout` of a model, if its policy sets one. */
  timeoutOf(model: string): string | undefined {
    const deployment = this.policies.get(model)?.deployment as { timeout?: unknown } | undefined;
    return typeof deployment?.timeout === 'string' ? deployment.timeout : undefined;
  }
}
