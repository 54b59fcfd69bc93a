import { Injectable } from '@nestjs/common';
import type { DeploymentTarget } from '@mrw/contracts';

/** A request as a target was sent it, for `GET /api/v1/deployments/{id}`: credentials and the callback token are redacted. */
export interface SentRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** What a target is asked to do: one deployment of one version to one environment. */
export interface TargetTrigger {
  /** The deployment id: the idempotency key of everything sent for this deployment. */
  readonly deploymentId: string;
  /** The registry's `idempotencyKey` (`<model>@<version>/<deploymentId>`). */
  readonly idempotencyKey: string;
  readonly model: string;
  readonly version: number;
  readonly purpose: 'promotion' | 'rollback';
  /** The version serving when the deployment was requested. */
  readonly replacing: number | null;
  readonly environment: string;
  /** The target's settings from the policy (references to credentials, never credentials). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly artifactUri: string;
  readonly artifactDigest: string | null;
  /** Where the pipeline reports `{status, message?}`; it carries its own single-use signed token. */
  readonly callbackUrl: string;
  /** Aborted when the deployer stops: give up (the trigger runs again after the restart). */
  readonly signal: AbortSignal;
}

/**
 * How a trigger went. `triggered`: a pipeline accepted the request and reports the outcome to
 * the callback URL (`response` null: nothing was sent, e.g. a manifest rendered for a GitOps
 * repository). `succeeded`: the target deployed by itself and knows it serves (the local
 * runtime, a Ready KServe InferenceService), with the endpoint it serves on. A refusal is thrown
 * (see TargetRefusedError); anything transient is thrown too and the trigger is retried until
 * the deployment's timeout.
 */
export type TriggerResult =
  | { readonly outcome: 'triggered'; readonly sent: SentRequest; readonly response: { readonly status: number; readonly answer: string } | null }
  | { readonly outcome: 'succeeded'; readonly endpoint: string | null; readonly sent?: SentRequest };

/**
 * One kind of deployment target (`github-actions`, `gitlab`, `argocd`, `webhook`, `kserve`, and `local`,
 * which the local serving runtime registers). Its `trigger` may run more than once for one
 * deployment (a crash after the request, before the deployer recorded it): the receiver gets
 * the deployment id to deduplicate by.
 */
export interface DeploymentTargetKind {
  readonly kind: string;
  trigger(request: TargetTrigger): Promise<TriggerResult>;
  /**
   * After a crash between a send and its record: looks for what an earlier send of this
   * deployment started (since `since`), so it is not started twice. Resolves with what was
   * found, or undefined to send again; throws TargetUnavailableError while it cannot tell yet.
   * Kinds that cannot look send again, with the same deployment id for the receiver to
   * deduplicate by.
   */
  findTriggered?(request: TargetTrigger, attempts: EarlierAttempts): Promise<FoundTrigger | undefined>;
}

/** When the earlier sends of a trigger were attempted, and now, by the deployer's clock. */
export interface EarlierAttempts {
  readonly first: string;
  readonly last: string;
  readonly now: Date;
}

/** What an earlier send started, as the target shows it (a workflow run, a pipeline). */
export interface FoundTrigger {
  readonly sent: SentRequest;
  readonly response: { readonly status: number; readonly answer: string };
}

/** The target refused the request (a 4xx, a bad setting, a refused address): the deployment fails with this reason. */
export class TargetRefusedError extends Error {
  override readonly name = 'TargetRefusedError';
  /** Read by @mrw/resilience's failure sorting. */
  readonly permanent = true;
  constructor(
    message: string,
    readonly sent?: SentRequest,
  ) {
    super(message);
  }
}

/** The target cannot answer now (5xx, 429, a timeout, no connection): the trigger is retried until the deployment's timeout. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
  readonly transient = true;
}

/**
 * The target kinds this deployer can trigger, by kind. The CI/CD kinds register themselves in
 * `DeployerModule`; the local serving runtime registers `local` (see the README). A deployment
 * naming a kind nobody registered fails with `UNKNOWN_TARGET_KIND` in its reason.
 */
@Injectable()
export class DeploymentTargets {
  private readonly kinds = new Map<string, DeploymentTargetKind>();

  /** Adds a kind; registering a kind twice is a wiring mistake. */
  register(target: DeploymentTargetKind): void {
    if (this.kinds.has(target.kind)) throw new Error(`deployment target kind ${target.kind} is registered twice`);
    this.kinds.set(target.kind, target);
  }

  get(kind: string): DeploymentTargetKind | undefined {
    return this.kinds.get(kind);
  }

  /** The registered kinds, sorted. */
  list(): string[] {
    return [...this.kinds.keys()].sort();
  }
}

/**
 * A target's settings: what the policy keeps under `settings` (as `PUT /models/{name}/policy`
 * stores them), with settings written beside `kind` and `environment` accepted as well.
 */
export const settingsOf = (target: DeploymentTarget): Record<string, unknown> => {
  const { kind: _kind, environment: _environment, settings, ...beside } = target;
  const nested = typeof settings === 'object' && settings !== null && !Array.isArray(settings) ? (settings as Record<string, unknown>) : {};
  return { ...beside, ...nested };
};

/** An error's message as a deployment or shadow deployment records it: bounded. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 1000);
