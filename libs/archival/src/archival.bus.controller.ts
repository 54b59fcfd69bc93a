import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { modelOfStream } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';
import { ArchivalScheduler } from './apply-policies/archival-scheduler';
import { ArchivalBook } from './follow-models/archival-book';

/** The registry events that move a model's archival plan: it is made again on the log as it stands once the event is folded. */
const MOVES_THE_PLAN = [
  'ModelPolicySet',
  'ModelServingVersionChanged',
  'ModelVersionRegistered',
  'StageTransitioned',
  'ApprovalRequested',
  'ApprovalQuorumReached',
  'ApprovalRejected',
  'ApprovalExpired',
  'ApprovalEvidenceChanged',
  'DeploymentRequested',
  'DeploymentSucceeded',
  'DeploymentFailed',
  'ServingEnded',
];

/**
 * The registry events the archival service reacts to, as consumer group `mrw-archival`: each
 * makes the model's archival plan again, which (re)schedules the durable timers of what falls
 * due and when.
 */
@BusController()
export class ArchivalBusController {
  private readonly logger = new Logger('archival');

  constructor(
    private readonly book: ArchivalBook,
    private readonly scheduler: ArchivalScheduler,
  ) {}

  @EventPattern(MOVES_THE_PLAN.map((type) => registryEvent('archival', type)))
  async changed(@Payload() event: RecordedEvent): Promise<void> {
    const model = modelOfStream(event.streamName);
    if (!model) return;
    // The plan is made again on the log as it stands once this event is folded: waiting for its
    // own position, not the head, spares a query for the head on every event.
    await this.book.caughtUp(event.position);
    this.scheduler.replanSoon(model);
    this.logger.debug(`${event.type} on ${event.streamName}: the archival plan of ${model} will be made again`);
  }
}
