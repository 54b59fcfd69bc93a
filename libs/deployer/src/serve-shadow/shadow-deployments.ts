import { Inject, Injectable, Logger } from '@nestjs/common';
import { deriveId, parseModelVersionStream, type CommandMessage, type EvaluationRequested } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { PoisonMessageError } from '@mrw/messaging';
import { CLOCK, DurableTimers, RegistryCommands, type Clock, type DueTimer } from '@mrw/platform';
import { failureKind } from '@mrw/resilience';
import { reasonOf } from '../deployment-targets/deployment-target';
import { DeploymentBook } from '../follow-deployments/deployment-book';
import { LocalTarget } from '../serve-locally/local.target';
import { DEPLOYER_TIMERS } from '../trigger-deployments/deployment-trigger';
import { DEFAULT_DEPLOYMENT_TIMEOUT, parseTimeout } from '../trigger-deployments/deployment-timers';

const SHADOW_TIMER_KIND = 'shadow-deployment';
const shadowTimerId = (evaluationId: string): string => `shadow-deployment:${evaluationId}`;

/** What a shadow deployment timer carries: enough to serve the candidate and report, without reading the log again. */
interface ShadowPlan {
  readonly evaluationId: string;
  readonly model: string;
  readonly version: number;
  readonly environment: string;
  readonly artifactUri: string;
  readonly artifactDigest: string | null;
  /** When the shadow deployment is given up on: requested + the model's deployment timeout. */
  readonly deadline: string;
  readonly timeout: string;
  readonly correlationId: string;
  readonly causationId: string;
}


/**
 * Shadow evaluation's deployment (policy `deployment.shadow`): an `EvaluationRequested` that
 * asks for scoring through the shadow environment makes the deployer serve the candidate there,
 * on its local runtime, and report the endpoint (or why it could not) with
 * `RecordShadowDeployment`. The evaluator then scores through that endpoint. The shadow
 * environment changes no stage and no serving pointer: it only hosts candidates for evaluation,
 * each model's newest candidate replacing its previous one.
 *
 * One durable timer per evaluation, derived from the event: a redelivery schedules nothing new,
 * a restart resumes, and the report's command id derives from the evaluation, so the registry
 * records it once. A runtime that cannot serve now is retried with backoff until the model's
 * deployment timeout, then reported failed.
 */
@Injectable()
export class ShadowDeployments {
  private readonly logger = new Logger('deployer');

  constructor(
    @Inject(DEPLOYER_TIMERS) private readonly timers: DurableTimers,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly commands: RegistryCommands,
    private readonly book: DeploymentBook,
    private readonly local: LocalTarget,
  ) {
    timers.on<ShadowPlan>(SHADOW_TIMER_KIND, (timer) => this.deploy(timer));
  }

  /** `EvaluationRequested`: schedules the shadow deployment if the request asks for one. */
  async evaluationRequested(event: RecordedEvent): Promise<void> {
    const data = event.data as Partial<EvaluationRequested['data']>;
    if (data.scoring?.via !== 'shadow') return;
    const at = parseModelVersionStream(event.streamName);
    if (!at || typeof data.evaluationId !== 'string' || !data.candidate || typeof data.candidate.source !== 'string') {
      throw new PoisonMessageError(`${event.type} on ${event.streamName}: no evaluation id or candidate artifact for the shadow deployment`);
    }
    await this.book.caughtUp();
    const configured = this.book.timeoutOf(at.model);
    const timeout = configured !== undefined && parseTimeout(configured) !== undefined ? configured : DEFAULT_DEPLOYMENT_TIMEOUT;
    const requestedAt = event.metadata.occurredAt;
    const plan: ShadowPlan = {
      evaluationId: data.evaluationId,
      model: at.model,
      version: at.version,
      environment: data.scoring.environment,
      artifactUri: data.candidate.source,
      artifactDigest: data.candidate.digest ?? null,
      deadline: new Date(Date.parse(requestedAt) + (parseTimeout(timeout) as number)).toISOString(),
      timeout,
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.eventId,
    };
    if (this.timers.schedule(shadowTimerId(plan.evaluationId), requestedAt, SHADOW_TIMER_KIND, plan) === 'scheduled') {
      this.logger.log(`evaluation ${plan.evaluationId}: serving ${plan.model}@${plan.version} in ${plan.environment} to score it there`);
    }
  }

  private async deploy(timer: DueTimer<ShadowPlan>): Promise<void> {
    const plan = timer.payload;
    if (this.clock.now().getTime() >= Date.parse(plan.deadline)) {
      const last = timer.attempt > 1 ? 'the local runtime did not serve it in time' : 'the deployer picked it up after its deadline';
      return this.report(plan, { outcome: 'failed', reason: `SHADOW_TIMED_OUT: not serving within ${plan.timeout} (${last})` });
    }
    try {
      const served = await this.local.serve(plan.environment, plan);
      this.logger.log(`evaluation ${plan.evaluationId}: ${plan.model}@${plan.version} serves in ${plan.environment} at ${served.endpoint}`);
      await this.report(plan, { outcome: 'ready', endpoint: served.endpoint });
    } catch (error) {
      if (failureKind(error) !== 'permanent') throw error;
      this.logger.warn(`evaluation ${plan.evaluationId}: ${plan.model}@${plan.version} cannot serve in ${plan.environment}: ${reasonOf(error)}`);
      await this.report(plan, { outcome: 'failed', reason: reasonOf(error) });
    }
  }

  private report(plan: ShadowPlan, outcome: { outcome: 'ready'; endpoint: string } | { outcome: 'failed'; reason: string }): Promise<void> {
    const command: CommandMessage = {
      commandId: deriveId(plan.evaluationId, 'shadow-deployment'),
      type: 'RecordShadowDeployment',
      model: plan.model,
      version: plan.version,
      data: { evaluationId: plan.evaluationId, environment: plan.environment, ...outcome },
      correlationId: plan.correlationId,
      causationId: plan.causationId,
    };
    return this.commands.sendRetryable('deployer', command);
  }
}
