import { Injectable, Logger } from '@nestjs/common';
import type { RecordedEvent } from '@mrw/event-store';
import type { EventReactions } from '@mrw/platform';

/**
 * The registry events the archival reacts to. The consumer group, inbox and delivery
 * guarantees are in place; the archival's behaviour (it retires versions by policy (superseded for N days, live metric below threshold)) arrives with its own issue,
 * and until then it records what it received.
 */
@Injectable()
export class ArchivalReactions implements EventReactions {
  private readonly logger = new Logger('archival');
  readonly types = ['ModelServingVersionChanged', 'StageTransitioned'] as const;

  async react(event: RecordedEvent): Promise<void> {
    this.logger.log(`received ${event.type} on ${event.streamName}@${event.revision}`);
  }
}
