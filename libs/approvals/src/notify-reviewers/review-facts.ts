import { Inject, Injectable } from '@nestjs/common';
import type {
  Actor,
  ApprovalRequested,
  ApprovalRule,
  Comparison,
  DeploymentRequested,
  EvaluationCompleted,
  ModelPolicy,
  ModelPolicySet,
  ModelVersionRegistered,
  RollbackRequested,
  Stage,
  StageTransitionRequested,
} from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { LogFeed, Readiness } from '@mrw/platform';

/** A deployment as its request tells it: what a failure notice needs to say, and whose request it carried out. */
export interface RequestedDeployment {
  readonly deploymentId: string;
  /** The transition request or rollback it carries out (the approval that led to it answers the same request). */
  readonly requestId: string;
  readonly purpose: 'promotion' | 'rollback';
  /** Where the candidate goes back to when it fails (rule 7). */
  readonly previousStage: Stage;
  /** The version serving when it was requested: the champion that keeps serving if it fails. */
  readonly replacing: number | null;
  /** The targets' environments and kinds, as the deployer names them in `DeploymentStarted` (`production`, `webhook+argocd`). */
  readonly environment: string;
  readonly target: string;
}

interface EvaluationFacts {
  readonly set: { readonly name: string; readonly digest: string };
  readonly metrics: Readonly<Record<string, number>>;
  readonly comparison: Comparison | null;
}

/**
 * What a notice tells besides the approval itself, learned from the registry's events: each
 * evaluation's metrics and comparison with the champion, who registered each version (who,
 * like the requester, is not asked to review it), what each request said and who made it, each
 * approval's rule (its channels for the notices that follow the request) and the request it
 * answers, each model's policy (where a refused request is told), and each deployment's request
 * (whom its failure is told). In memory, folded from the log at every start.
 */
@Injectable()
export class ReviewFacts extends LogFeed {
  private readonly evaluations = new Map<string, EvaluationFacts>();
  private readonly registrants = new Map<string, Actor>();
  private readonly comments = new Map<string, string>();
  private readonly requesters = new Map<string, Actor>();
  private readonly rules = new Map<string, ApprovalRule>();
  private readonly policies = new Map<string, ModelPolicy>();
  private readonly approvalsOfRequests = new Map<string, string>();
  private readonly deployments = new Map<string, RequestedDeployment>();

  constructor(@Inject(EVENT_STORE) store: EventStore, readiness: Readiness) {
    super(store, readiness, {
      name: 'approvals-review-facts',
      filter: {
        streamPrefixes: ['modelVersion-', 'model-'],
        eventTypes: [
          'EvaluationCompleted',
          'ModelVersionRegistered',
          'StageTransitionRequested',
          'RollbackRequested',
          'ApprovalRequested',
          'ModelPolicySet',
          'DeploymentRequested',
        ],
      },
    });
  }

  protected apply(event: RecordedEvent): void {
    if (event.type === 'EvaluationCompleted') {
      const data = event.data as EvaluationCompleted['data'];
      this.evaluations.set(data.evaluationId, { set: data.set, metrics: data.metrics, comparison: data.comparison });
    } else if (event.type === 'ModelVersionRegistered') {
      const data = event.data as ModelVersionRegistered['data'];
      this.registrants.set(event.streamName, data.registeredBy);
    } else if (event.type === 'StageTransitionRequested') {
      const data = event.data as StageTransitionRequested['data'];
      this.comments.set(`${event.streamName}/${data.requestId}`, data.comment);
      this.requesters.set(`${event.streamName}/${data.requestId}`, data.requestedBy);
    } else if (event.type === 'RollbackRequested') {
      const data = event.data as RollbackRequested['data'];
      this.comments.set(`${event.streamName}/${data.rollbackId}`, data.reason);
      this.requesters.set(`${event.streamName}/${data.rollbackId}`, data.requestedBy);
    } else if (event.type === 'ApprovalRequested') {
      const data = event.data as ApprovalRequested['data'];
      this.rules.set(data.approvalId, data.rule);
      this.approvalsOfRequests.set(`${event.streamName}/${data.requestId}`, data.approvalId);
    } else if (event.type === 'ModelPolicySet') {
      const data = event.data as ModelPolicySet['data'];
      this.policies.set(data.model, data.policy);
    } else if (event.type === 'DeploymentRequested') {
      const data = event.data as DeploymentRequested['data'];
      this.deployments.set(data.deploymentId, {
        deploymentId: data.deploymentId,
        requestId: data.requestId,
        purpose: data.purpose,
        previousStage: data.previousStage,
        replacing: data.replacing,
        environment: [...new Set(data.targets.map((t) => t.environment))].join('+'),
        target: [...new Set(data.targets.map((t) => t.kind))].join('+'),
      });
    }
  }

  /** A deployment the registry requested, by its id. */
  deployment(deploymentId: string): RequestedDeployment | undefined {
    return this.deployments.get(deploymentId);
  }

  /** The approval opened for a transition request or rollback (an emergency rollback's after-the-fact review), if any. */
  approvalOf(stream: string, requestId: string): string | undefined {
    return this.approvalsOfRequests.get(`${stream}/${requestId}`);
  }

  /** Who asked for a stage transition or a rollback. */
  requesterOf(stream: string, requestId: string): Actor | undefined {
    return this.requesters.get(`${stream}/${requestId}`);
  }

  /** The rule an approval was opened under (its channels, reminders, escalation contact). */
  ruleOf(approvalId: string): ApprovalRule | undefined {
    return this.rules.get(approvalId);
  }

  /** A model's current policy, if one was set. */
  policyOf(model: string): ModelPolicy | undefined {
    return this.policies.get(model);
  }

  /** What the requester wrote with the request (or the rollback's reason). */
  commentOf(stream: string, requestId: string): string | undefined {
    return this.comments.get(`${stream}/${requestId}`);
  }

  evaluation(evaluationId: string | null): EvaluationFacts | undefined {
    return evaluationId ? this.evaluations.get(evaluationId) : undefined;
  }

  registrantOf(stream: string): Actor | undefined {
    return this.registrants.get(stream);
  }
}
