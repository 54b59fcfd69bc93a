import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';

/**
 * The registry events the approvals service (it notifies reviewers and relays their decisions) reacts to, as consumer group `mrw-approvals`. Delivery, the inbox
 * and the DLQ are in place; the behaviour arrives with the service's own issue, and until
 * then it records what it received.
 */
@BusController()
export class ApprovalsBusController {
  private readonly logger = new Logger('approvals');

  @EventPattern([
  registryEvent('approvals', 'ApprovalRequested'),
  registryEvent('approvals', 'ApprovalQuorumReached'),
  registryEvent('approvals', 'ApprovalRejected'),
  registryEvent('approvals', 'ApprovalExpired'),
  registryEvent('approvals', 'ApprovalEvidenceChanged'),
  ])
  received(@Payload() event: RecordedEvent): void {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
