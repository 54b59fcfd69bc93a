import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusContext, BusController, registryEvent } from '@mrw/platform';
import { RunEvaluation } from './run-evaluation';
import { ShadowScoring } from './shadow-scoring';

/**
 * The registry events the evaluator reacts to: a version entered Staging, or someone asked for an
 * evaluation; for a shadow evaluation, the shadow deployment's outcome.
 */
@BusController()
export class RunEvaluationBusController {
  constructor(
    private readonly evaluation: RunEvaluation,
    private readonly shadow: ShadowScoring,
  ) {}

  @EventPattern(registryEvent('evaluator', 'EvaluationRequested'))
  async evaluationRequested(@Payload() event: RecordedEvent, @Ctx() context: BusContext): Promise<void> {
    const scoring = (event.data as { scoring?: { via?: string } }).scoring;
    if (scoring?.via === 'shadow') this.shadow.wait(event);
    else await this.evaluation.run(event, () => context.heartbeat());
  }

  @EventPattern(registryEvent('evaluator', 'ShadowDeploymentReady'))
  async shadowReady(@Payload() event: RecordedEvent): Promise<void> {
    await this.shadow.ready(event);
  }

  @EventPattern(registryEvent('evaluator', 'ShadowDeploymentFailed'))
  shadowFailed(@Payload() event: RecordedEvent): void {
    this.shadow.failed(event);
  }
}
