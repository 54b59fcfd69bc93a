import { Inject, Injectable, Logger } from '@nestjs/common';
import { deriveId, parseModelVersionStream, type ShadowDeploymentReady } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { DurableTimers, RegistryCommands, type DueTimer } from '@mrw/platform';
import { evaluationJobOf, RunEvaluation, type EvaluationJob } from './run-evaluation';

/** The evaluator's durable timers (`<dataDir>/evaluator-timers.sqlite`). */
export const EVALUATOR_TIMERS = Symbol('EVALUATOR_TIMERS');

const KINDS = { waiting: 'shadow-evaluation-waiting', run: 'shadow-evaluation' } as const;
const ids = {
  waiting: (evaluationId: string) => `shadow-waiting:${evaluationId}`,
  run: (evaluationId: string) => `shadow-run:${evaluationId}`,
};
/** How long a request waits for its shadow deployment before the evaluator forgets it (the deployer reports long before). */
const FORGET_AFTER_MS = 30 * 24 * 3600 * 1000;

/**
 * Shadow evaluation, the evaluator's half: an `EvaluationRequested` that asks for scoring through
 * the shadow environment waits (durably, as a timer of its own) until the registry records
 * `ShadowDeploymentReady` with the endpoint; then the evaluation runs as a timer — retried with
 * backoff while the endpoint does not answer, resumed after a restart — scoring the candidate
 * through the endpoint and the champion in-process. `ShadowDeploymentFailed` ends the wait (the
 * registry failed the evaluation already). Timer ids derive from the evaluation id, due times
 * from the events, so redeliveries schedule nothing twice.
 */
@Injectable()
export class ShadowScoring {
  private readonly logger = new Logger('evaluator');

  constructor(
    @Inject(EVALUATOR_TIMERS) private readonly timers: DurableTimers,
    private readonly evaluation: RunEvaluation,
    private readonly commands: RegistryCommands,
  ) {
    timers.on<EvaluationJob>(KINDS.waiting, async (timer) => this.forgotten(timer));
    timers.on<EvaluationJob>(KINDS.run, async (timer) => this.evaluation.evaluate(timer.payload, async () => undefined, timer.signal));
  }

  /** The request waits for its shadow endpoint. */
  wait(event: RecordedEvent): void {
    const job = evaluationJobOf(event);
    if (!job) return;
    const forgetAt = Date.parse(event.metadata.occurredAt) + FORGET_AFTER_MS;
    if (this.timers.schedule(ids.waiting(job.request.evaluationId), new Date(forgetAt), KINDS.waiting, job) === 'scheduled') {
      this.logger.log(`evaluation ${job.request.evaluationId} of ${job.model}@${job.version} waits for the shadow deployment`);
    }
  }

  /** The candidate serves in the shadow environment: the evaluation runs through the endpoint. */
  async ready(event: RecordedEvent): Promise<void> {
    const { evaluationId, environment, endpoint } = event.data as ShadowDeploymentReady['data'];
    if (this.timers.get(ids.run(evaluationId))) return;
    const waiting = this.timers.get(ids.waiting(evaluationId));
    if (!waiting) {
      // The request came before this evaluator's consumer group existed: say so rather than leave the version waiting.
      const at = parseModelVersionStream(event.streamName);
      if (!at) return;
      await this.commands.send('evaluator', {
        commandId: deriveId(evaluationId, 'failure'),
        type: 'RecordEvaluationFailure',
        model: at.model,
        version: at.version,
        data: { evaluationId, code: 'REQUEST_NOT_SEEN', reason: 'the evaluator never received this evaluation request: request a new evaluation' },
        correlationId: event.metadata.correlationId,
        causationId: event.metadata.eventId,
      });
      return;
    }
    const job: EvaluationJob = { ...(waiting.payload as EvaluationJob), shadow: { environment, endpoint } };
    this.timers.schedule(ids.run(evaluationId), event.metadata.occurredAt, KINDS.run, job);
    this.timers.cancel(ids.waiting(evaluationId));
  }

  /** The shadow deployment failed, and with it the evaluation: nothing to wait for. */
  failed(event: RecordedEvent): void {
    const { evaluationId } = event.data as { evaluationId: string };
    this.timers.cancel(ids.waiting(evaluationId));
  }

  private forgotten(timer: DueTimer<EvaluationJob>): void {
    this.logger.warn(`evaluation ${timer.payload.request.evaluationId}: no shadow deployment was reported for it in 30 days; no longer waiting`);
  }
}
