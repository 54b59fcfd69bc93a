import { Inject, Injectable } from '@nestjs/common';
import { CONSUMER_GROUPS } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { DEAD_LETTERED, deadLetterStream } from '@mrw/messaging';
import { LogFeed, Readiness } from '@mrw/platform';
import { CommandRefusals } from '../relay-decisions/command-refusals';
import { APPROVAL_EVENT_TYPES, ApprovalBook } from './approval-book';

/**
 * Keeps the approval book and the registry's refusals of this service's commands current from
 * the log (both are small and in memory). The module starts only once the book holds every
 * approval so far, so a link clicked right after a restart is judged on what the registry
 * recorded, not on an empty book.
 */
@Injectable()
export class ApprovalBookFeed extends LogFeed {
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly book: ApprovalBook,
    private readonly refusals: CommandRefusals,
    readiness: Readiness,
  ) {
    super(store, readiness, {
      name: 'approvals-approval-book',
      filter: { streamPrefixes: ['modelVersion-', deadLetterStream(CONSUMER_GROUPS.registry)], eventTypes: [...APPROVAL_EVENT_TYPES, DEAD_LETTERED] },
    });
  }

  protected apply(event: RecordedEvent): void {
    if (event.type === DEAD_LETTERED) this.refusals.apply(event);
    else this.book.apply(event);
  }
}
