import { Inject, Injectable } from '@nestjs/common';
import { deriveId, type CommandMessage, type CommandMetadata, type EvaluationMeasurements, type EvaluationScoring, type ScoringPath, type ServiceName } from '@mrw/contracts';
import type { CreatedModel, ModelVersionCommand, RegisteredVersion } from '@mrw/domain';
import { PoisonMessageError } from '@mrw/messaging';
import { CLOCK, ProblemException, TokenDirectory, type Clock } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { principalOnModel, relayedDecisionOf } from './relayed-decision';

/**
 * Turns a service's command into the registry's domain command, with the context the
 * decider needs, and carries out what must follow a successful deployment (rule 6): the
 * model's serving pointer moves, and the previous champion stops serving (archived after a
 * rollback, or when the policy says so). Each step has its own derived command id, so a
 * redelivered command completes whatever a crash left undone and repeats nothing. A person's
 * decision relayed by the approvals service is the person's (actor), judged on the person's
 * own live tokens, with the service recorded as `relayedBy`.
 */
@Injectable()
export class ServiceCommandsHandler {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly projector: RegistryProjector,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly tokens: TokenDirectory,
  ) {}

  async handle(service: ServiceName, command: CommandMessage): Promise<void> {
    const metadata: CommandMetadata = {
      commandId: command.commandId,
      actor: { kind: 'service', id: service },
      now: this.clock.now().toISOString(),
      correlationId: command.correlationId,
      causationId: command.causationId,
    };
    const model = await this.streams.existingModel(command.model);
    const domainCommand = await this.toDomain(service, command, model, metadata);
    const result = await this.streams.executeVersion(command.model, command.version, domainCommand);
    if (command.type === 'RecordDeploymentSucceeded') {
      await this.afterDeployment(result.state as RegisteredVersion, String(command.data['deploymentId']), metadata);
    }
    await this.projector.waitFor(result.position);
  }

  private async toDomain(service: ServiceName, command: CommandMessage, model: CreatedModel, metadata: CommandMetadata): Promise<ModelVersionCommand> {
    const data = command.data as never;
    const d = command.data;
    switch (command.type) {
      case 'GrantApproval':
      case 'RejectApproval': {
        // The person decided; the service only carried it. The decider applies the same rules
        // as to a decision over the API, to the person's own roles and scope.
        const relayed = relayedDecisionOf(service, command);
        const principal = principalOnModel(this.tokens.liveTokensOf(relayed.person.id, 'user'), command.model);
        if (!principal) {
          throw new ProblemException('NOT_A_REVIEWER', `${relayed.person.id} holds no live token that covers ${command.model}, so cannot decide on it`);
        }
        const decision = {
          approvalId: relayed.approvalId,
          comment: relayed.comment,
          principal,
          channel: relayed.channel,
          relayedBy: relayed.relayedBy,
        };
        const asPerson = { ...metadata, actor: relayed.person };
        return command.type === 'GrantApproval'
          ? { type: 'GrantApproval', data: { ...decision, context: await this.streams.gateContext(model) }, metadata: asPerson }
          : { type: 'RejectApproval', data: decision, metadata: asPerson };
      }
      case 'RecordEvaluationResult': {
        // The measurements only: a `verdict` from an older evaluator is ignored, the decider
        // judges the metrics against the policy itself.
        const measured = d as unknown as EvaluationMeasurements;
        const scoring = scoringOf(measured.scoring);
        return {
          type: 'RecordEvaluationResult',
          data: {
            evaluationId: measured.evaluationId,
            set: measured.set,
            metrics: measured.metrics,
            comparison: measured.comparison,
            ...(measured.details === undefined ? {} : { details: measured.details }),
            ...(scoring ? { scoring } : {}),
            context: await this.streams.gateContext(model),
          },
          metadata,
        };
      }
      case 'ArchiveModelVersion': {
        const servingVersion = model.servingHistory[model.servingHistory.length - 1]?.version ?? null;
        return { type: 'ArchiveModelVersion', data: { rule: String(d['rule']), detail: String(d['detail']), servingVersion }, metadata };
      }
      case 'RecordNotificationOutcome':
        return {
          type: 'RecordNotificationOutcome',
          data: {
            approvalId: String(d['approvalId']),
            noticeId: String(d['noticeId']),
            notice: String(d['notice']),
            channel: String(d['channel']),
            target: String(d['target']).slice(0, 300),
            recipient: typeof d['recipient'] === 'string' ? d['recipient'] : null,
            outcome: d['outcome'] === 'delivered' ? 'delivered' : 'failed',
            attempts: typeof d['attempts'] === 'number' ? d['attempts'] : 1,
            reason: typeof d['reason'] === 'string' ? d['reason'].slice(0, 2000) : null,
          },
          metadata,
        };
      case 'RecordShadowDeployment': {
        const base = { evaluationId: String(d['evaluationId']), environment: String(d['environment']) };
        if (d['outcome'] === 'ready' && typeof d['endpoint'] === 'string' && /^https?:\/\//.test(d['endpoint'])) {
          return { type: 'RecordShadowDeployment', data: { ...base, outcome: 'ready', endpoint: d['endpoint'].slice(0, 2000) }, metadata };
        }
        if (d['outcome'] === 'failed' && typeof d['reason'] === 'string') {
          return { type: 'RecordShadowDeployment', data: { ...base, outcome: 'failed', reason: d['reason'].slice(0, 2000) }, metadata };
        }
        throw new PoisonMessageError('RecordShadowDeployment: outcome must be "ready" with an http(s) endpoint, or "failed" with a reason');
      }
      case 'RecordEvaluationProgress':
      case 'RecordEvaluationFailure':
      case 'ExpireApproval':
      case 'RecordDeploymentStarted':
      case 'RecordDeploymentSucceeded':
      case 'RecordDeploymentFailed':
        return { type: command.type, data, metadata } as ModelVersionCommand;
      default:
        throw new Error(`no mapping for ${command.type}`);
    }
  }

  private async afterDeployment(version: RegisteredVersion, deploymentId: string, metadata: CommandMetadata): Promise<void> {
    const deployment = version.deployments.find((d) => d.id === deploymentId);
    if (deployment?.status !== 'succeeded') return;
    const moved = await this.streams.executeModel(version.model, {
      type: 'RecordServingVersion',
      data: { version: version.version, deploymentId },
      metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'serving') },
    });
    const model = moved.state as CreatedModel;
    const history = model.servingHistory;
    const index = history.findIndex((p) => p.deploymentId === deploymentId);
    const previous = index > 0 ? history[index - 1]?.version : undefined;
    if (previous === undefined || previous === version.version) return;
    const rolledBack = deployment.purpose === 'rollback';
    const ended = await this.streams.executeVersion(version.model, previous, {
      type: 'EndServing',
      data: {
        supersededBy: version.version,
        deploymentId,
        reason: rolledBack ? 'rolled-back' : 'superseded',
        archive: rolledBack || model.policy.archival?.archivePreviousOnSuccess === true,
      },
      metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'end-serving') },
    });
    await this.projector.waitFor(ended.position);
  }
}

const pathOf = (value: unknown): ScoringPath | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const path = value as Record<string, unknown>;
  if (path['via'] === 'in-process') return { via: 'in-process' };
  if (path['via'] === 'shadow' && typeof path['environment'] === 'string' && typeof path['endpoint'] === 'string') {
    return { via: 'shadow', environment: path['environment'].slice(0, 200), endpoint: path['endpoint'].slice(0, 2000) };
  }
  return undefined;
};

/** Which way an evaluator says it scored the models, kept only in the shape the registry records (anything else is left out). */
const scoringOf = (value: unknown): EvaluationScoring | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const scoring = value as Record<string, unknown>;
  const candidate = pathOf(scoring['candidate']);
  if (!candidate) return undefined;
  return { candidate, champion: scoring['champion'] === null ? null : (pathOf(scoring['champion']) ?? null) };
};
