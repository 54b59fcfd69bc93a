import { Module } from '@nestjs/common';
import { reactingConsumer } from '@mrw/platform';
import { EvaluatorReactions } from './evaluator.reactions';

/** The evaluator service: consumer group `mrw-evaluator` on the registry's events. */
@Module({
  providers: [EvaluatorReactions, reactingConsumer('evaluator', EvaluatorReactions)],
})
export class EvaluatorModule {}
