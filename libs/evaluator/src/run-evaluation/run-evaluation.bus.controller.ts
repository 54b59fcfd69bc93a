import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusContext, BusController, registryEvent } from '@mrw/platform';
import { RunEvaluation } from './run-evaluation';

/** The registry event the evaluator reacts to: a version entered Staging, or someone asked for an evaluation. */
@BusController()
export class RunEvaluationBusController {
  constructor(private readonly evaluation: RunEvaluation) {}

  @EventPattern(registryEvent('evaluator', 'EvaluationRequested'))
  async evaluationRequested(@Payload() event: RecordedEvent, @Ctx() context: BusContext): Promise<void> {
    await this.evaluation.run(event, () => context.heartbeat());
  }
}
