import { EventPattern, Payload } from '@nestjs/microservices';
import { HEADERS } from '@mrw/contracts';
import type { IncomingMessage } from '@mrw/messaging';
import { BusController, TokenDirectory, trainingEvent } from '@mrw/platform';
import { RegisterTrainingRunHandler } from './register-training-run.handler';
import { assertProducerMayRegister, parseTrainingRunCompleted, producerOf } from './training-run-completed.parser';

/**
 * Consumer group `mrw-registry-training-events` on `mrw.training.events.v1`: training
 * platforms' finished runs, with the guarantees of service commands. The producer is
 * authenticated by its token's signature before the event is validated; the event is checked
 * against its schema; the version is registered once per (model, runId). What cannot be
 * registered goes to the DLQ with a code and reason (INVALID_EVENT, UNAUTHENTICATED,
 * FORBIDDEN, RUN_ID_REUSED, or the API's own: MODEL_NOT_FOUND, ARTIFACT_NOT_FOUND, …); a
 * store or broker outage is retried until it passes.
 */
@BusController()
export class TrainingEventsBusController {
  constructor(
    private readonly tokens: TokenDirectory,
    private readonly handler: RegisterTrainingRunHandler,
  ) {}

  @EventPattern(trainingEvent('TrainingRunCompleted'))
  async trainingRunCompleted(@Payload() message: IncomingMessage): Promise<void> {
    const producer = producerOf(message, (authorization, value) => this.tokens.verifyCommand(authorization, value));
    const event = parseTrainingRunCompleted(message);
    assertProducerMayRegister(producer, event.model);
    await this.handler.handle(producer, event, message.headers[HEADERS.correlationId]);
  }
}
