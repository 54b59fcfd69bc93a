import { Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import type { EventReactions } from '@mrw/platform';

/**
 * The registry events the evaluator reacts to. The consumer group, inbox and delivery
 * guarantees are in place; the evaluator's behaviour (it runs candidate and champion on the standard evaluation set and reports the result) arrives with its own issue,
 * and until then it records what it received.
 */
@Injectable()
export class EvaluatorReactions implements EventReactions {
  private readonly logger = new Logger('evaluator');
  readonly types = ['EvaluationRequested'] as const;

  async react(event: RecordedEvent): Promise<void> {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
