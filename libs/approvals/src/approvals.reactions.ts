import { Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import type { EventReactions } from '@mrw/platform';

/**
 * The registry events the approvals reacts to. The consumer group, inbox and delivery
 * guarantees are in place; the approvals's behaviour (it notifies reviewers and relays their decisions) arrives with its own issue,
 * and until then it records what it received.
 */
@Injectable()
export class ApprovalsReactions implements EventReactions {
  private readonly logger = new Logger('approvals');
  readonly types = ['ApprovalRequested', 'ApprovalQuorumReached', 'ApprovalRejected', 'ApprovalExpired', 'ApprovalEvidenceChanged'] as const;

  async react(event: RecordedEvent): Promise<void> {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
