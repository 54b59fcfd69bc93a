import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { LogFeed, Readiness } from '@mrw/platform';
import { PeopleDirectory } from './people-directory';

/** Keeps this process's people directory current from the `person-*` streams of the log, so no click is refused wrongly at start. */
@Injectable()
export class PeopleFeed extends LogFeed {
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly directory: PeopleDirectory,
    readiness: Readiness,
  ) {
    super(store, readiness, { name: 'approvals-people-directory', filter: { streamPrefixes: ['person-'] } });
  }

  protected apply(event: RecordedEvent): void {
    this.directory.apply(event);
  }
}
