import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import type { EventReactions } from '@mrw/platform';
import { RunEvaluation } from './run-evaluation/run-evaluation';

/** The registry events the evaluator reacts to: a version entered Staging, or someone asked. */
@Injectable()
export class EvaluatorReactions implements EventReactions {
  readonly types = ['EvaluationRequested'] as const;

  constructor(private readonly evaluation: RunEvaluation) {}

  async react(event: RecordedEvent, context: { heartbeat(): Promise<void> }): Promise<void> {
    await this.evaluation.run(event, () => context.heartbeat());
  }
}
