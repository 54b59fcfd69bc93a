import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';

/**
 * The registry events the deployer (it triggers deployment targets and reports their outcome) reacts to, as consumer group `mrw-deployer`. Delivery, the inbox
 * and the DLQ are in place; the behaviour arrives with the service's own issue, and until
 * then it records what it received.
 */
@BusController()
export class DeployerBusController {
  private readonly logger = new Logger('deployer');

  @EventPattern([
  registryEvent('deployer', 'DeploymentRequested'),
  registryEvent('deployer', 'RollbackRequested'),
  ])
  received(@Payload() event: RecordedEvent): void {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
