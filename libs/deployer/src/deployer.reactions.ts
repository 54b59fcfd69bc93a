import { Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import type { EventReactions } from '@mrw/platform';

/**
 * The registry events the deployer reacts to. The consumer group, inbox and delivery
 * guarantees are in place; the deployer's behaviour (it triggers CI/CD deployments and rollbacks and reports their outcome) arrives with its own issue,
 * and until then it records what it received.
 */
@Injectable()
export class DeployerReactions implements EventReactions {
  private readonly logger = new Logger('deployer');
  readonly types = ['DeploymentRequested', 'RollbackRequested'] as const;

  async react(event: RecordedEvent): Promise<void> {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
