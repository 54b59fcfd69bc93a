import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveId,
  parseDuration,
  type CommandMessage,
  type CommandMetadata,
  type EvaluationMeasurements,
  type EvaluationScoring,
  type LiveMetricBreached,
  type ModelPolicy,
  type ScoringPath,
  type ServiceName,
} from '@mrw/contracts';
import { servingVersionOf, type CreatedModel, type ModelVersionCommand, type RegisteredVersion } from '@mrw/domain';
import { PoisonMessageError } from '@mrw/messaging';
import { CLOCK, ProblemException, TokenDirectory, type Clock } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { RollbackRequests, type RollbackAsk } from '../request-rollback/rollback-requests';
import { ExistingVersionsArchival } from '../request-transition/archive-existing-versions';
import { principalOnModel, relayedDecisionOf } from './relayed-decision';

/**
 * Turns a service's command into the registry's domain command, with the context the
 * decider needs, and carries out what must follow a successful deployment (rule 6): the
 * model's serving pointer moves, and the previous champion stops serving (archived after a
 * rollback, or when the policy says so). Each step has its own derived command id, so a
 * redelivered command completes whatever a crash left undone and repeats nothing. A person's
 * decision relayed by the approvals service is the person's (actor), judged on the person's
 * own live tokens, with the service recorded as `relayedBy`. A live-metric breach on the serving
 * version is recorded, then, where the policy asks for it, followed by a rollback request.
 */
@Injectable()
export class ServiceCommandsHandler {
  private readonly logger = new Logger('service-commands');

  constructor(
    private readonly streams: RegistryStreams,
    private readonly projector: RegistryProjector,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly tokens: TokenDirectory,
    private readonly rollbacks: RollbackRequests,
    private readonly existing: ExistingVersionsArchival,
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
    if (command.type === 'RecordLiveMetricBreach') {
      await this.recordBreach(command, model, metadata);
      return;
    }
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
        const parameters = this.recordOf(d['parameters'], 'parameters', command);
        const evidence = this.recordOf(d['evidence'], 'evidence', command);
        return {
          type: 'ArchiveModelVersion',
          data: {
            rule: String(d['rule']).slice(0, 200),
            detail: String(d['detail']).slice(0, 2000),
            ...(parameters ? { parameters } : {}),
            ...(evidence ? { evidence } : {}),
            servingVersion,
          },
          metadata,
        };
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

  /**
   * `RecordLiveMetricBreach`: recorded on the serving version (refused NOT_SERVING on any
   * other). With `policy.archival.liveMetric.rollback: true` the registry then requests a rollback
   * to the default target, as the archival service, through the same path as the API's; whether
   * it does is settled (dry run) before the breach is recorded, so the event says so truly. The
   * rollback's command id derives from the breach's: a redelivery finds both already there.
   */
  private async recordBreach(command: CommandMessage, model: CreatedModel, metadata: CommandMetadata): Promise<void> {
    const breach = liveMetricBreachOf(command.data);
    const servingVersion = servingVersionOf(model);
    const ask: RollbackAsk = {
      model,
      reason: breachReason(command.version, breach),
      emergency: false,
      principal: { roles: ['service'], models: [] },
      metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'rollback'), causationId: metadata.commandId },
    };
    let refusal: string | undefined;
    if (!rollbackOnBreach(model.policy)) refusal = 'the policy does not ask for one (policy.archival.liveMetric.rollback)';
    else if (servingVersion !== command.version) refusal = 'the version does not serve';
    else {
      const refused = await this.rollbacks.refusalOf(ask);
      refusal = refused ? `${refused.code}: ${refused.message}` : undefined;
    }
    const result = await this.streams.executeVersion(command.model, command.version, {
      type: 'RecordLiveMetricBreach',
      data: { ...breach, rollbackRequested: refusal === undefined, servingVersion },
      metadata,
    });
    await this.projector.waitFor(result.position);
    const recorded = result.events.find((e) => e.type === 'LiveMetricBreached')?.data as LiveMetricBreached['data'] | undefined;
    const about = `live ${breach.metric} breach on ${command.model}@${command.version}`;
    if (!recorded) return;
    if (!recorded.rollbackRequested) {
      if (!result.replayed) this.logger.log(`${about} recorded; no rollback requested: ${refusal ?? 'none was asked for'}`);
      return;
    }
    try {
      const rollback = await this.rollbacks.request(ask);
      this.logger.log(`${about}: rollback ${rollback.id} to v${rollback.toVersion} requested (${rollback.status})`);
    } catch (error) {
      if (!(error instanceof ProblemException) || error.status >= 500) throw error;
      // The dry run passed a moment ago; something changed since. The breach stays recorded.
      this.logger.warn(`${about}: the rollback was refused after all: ${error.code} ${error.message}`);
    }
  }

  /** An optional plain-object field, kept only when it is one and small: what archival records for transparency, never a reason to refuse the archival. */
  private recordOf(value: unknown, field: string, command: CommandMessage): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    const plain = typeof value === 'object' && value !== null && !Array.isArray(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value));
    const size = plain ? JSON.stringify(value).length : 0;
    if (plain && size <= MAX_RECORDED_OBJECT) return value as Record<string, unknown>;
    this.logger.warn(
      `${command.type} for ${command.model}@${command.version}: data.${field} left out (${plain ? `${size} characters, more than ${MAX_RECORDED_OBJECT}` : 'not a plain object'})`,
    );
    return undefined;
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
    const rolledBack = deployment.purpose === 'rollback';
    // MLflow's archive_existing_versions on the promotion: the former champion goes at once, and any other version left in Production.
    const archiveExisting = !rolledBack && version.requests.some((r) => r.id === deployment.requestId && r.archiveExistingVersions === true);
    if (previous !== undefined && previous !== version.version) {
      const ended = await this.streams.executeVersion(version.model, previous, {
        type: 'EndServing',
        data: {
          supersededBy: version.version,
          deploymentId,
          reason: rolledBack ? 'rolled-back' : 'superseded',
          archive: rolledBack || archiveExisting || model.policy.archival?.archivePreviousOnSuccess === true,
        },
        metadata: { ...metadata, commandId: deriveId(metadata.commandId, 'end-serving') },
      });
      await this.projector.waitFor(ended.position);
    }
    if (archiveExisting) {
      await this.projector.waitFor(moved.position);
      await this.existing.archiveOthers(version.model, 'Production', version.version, deployment.requestId, metadata);
    }
  }
}

/** The largest `parameters` or `evidence` object (as JSON) recorded with an archival. */
const MAX_RECORDED_OBJECT = 16 * 1024;

/** Whether the policy asks for a rollback when the serving version's live metric is breached; read loosely, the archival policy's type grows elsewhere. */
const rollbackOnBreach = (policy: ModelPolicy): boolean =>
  (policy.archival as { liveMetric?: { rollback?: unknown } } | undefined)?.liveMetric?.rollback === true;

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isoTime = (value: unknown): value is string => typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value));

/** A breach report as the registry records it; anything else is a poison message, with what is wrong. */
const liveMetricBreachOf = (d: Record<string, unknown>): Omit<LiveMetricBreached['data'], 'rollbackRequested'> => {
  const wrong = (what: string): never => {
    throw new PoisonMessageError(`RecordLiveMetricBreach: ${what}`);
  };
  const direction = d['direction'];
  if (direction !== 'below' && direction !== 'above') wrong('data.direction must be "below" or "above"');
  const w = d['window'] as Record<string, unknown>;
  if (!isoTime(w['from']) || !isoTime(w['to']) || Date.parse(w['from']) > Date.parse(w['to'])) {
    wrong('data.window.from and data.window.to must be ISO 8601 times, from not after to');
  }
  if (typeof w['for'] !== 'string' || parseDuration(w['for']) === undefined) wrong('data.window.for must be an ISO 8601 duration');
  if (typeof w['samples'] !== 'number' || !Number.isInteger(w['samples']) || w['samples'] < 1) wrong('data.window.samples must be a positive integer');
  if (!finite(w['worst']) || !finite(w['mean'])) wrong('data.window.worst and data.window.mean must be numbers');
  return {
    metric: String(d['metric']).slice(0, 200),
    direction: direction as 'below' | 'above',
    threshold: d['threshold'] as number,
    window: {
      from: new Date(w['from'] as string).toISOString(),
      to: new Date(w['to'] as string).toISOString(),
      for: w['for'] as string,
      samples: w['samples'] as number,
      worst: w['worst'] as number,
      mean: w['mean'] as number,
    },
  };
};

/** The rollback's reason, naming the breach. */
const breachReason = (version: number, breach: ReturnType<typeof liveMetricBreachOf>): string => {
  const { window } = breach;
  return (
    `automatic rollback: live ${breach.metric} of v${version} stayed ${breach.direction} ${breach.threshold} for ${window.for} ` +
    `(worst ${window.worst}, mean ${window.mean}, ${window.samples} samples from ${window.from} to ${window.to}); policy.archival.liveMetric.rollback`
  );
};

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
