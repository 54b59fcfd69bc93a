import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';

/**
 * The registry events the archival service (it applies each model's archival policy) reacts to, as consumer group `mrw-archival`. Delivery, the inbox
 * and the DLQ are in place; the behaviour arrives with the service's own issue, and until
 * then it records what it received.
 */
@BusController()
export class ArchivalBusController {
  private readonly logger = new Logger('archival');

  @EventPattern([
  registryEvent('archival', 'ModelServingVersionChanged'),
  registryEvent('archival', 'StageTransitioned'),
  ])
  received(@Payload() event: RecordedEvent): void {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
