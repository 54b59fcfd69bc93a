import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { Readiness } from '../observability/readiness';
import { LogFeed } from '../persistence/log-feed';
import { TokenDirectory } from './token-directory';

/**
 * Keeps this process's TokenDirectory current from the `accessToken-*` and `tokenCredential-*`
 * streams of the log. It completes start-up only when every token issued so far is known, so no
 * request is refused wrongly at start; while the store is away a revocation may not have
 * reached this process yet, so it reports not-ready.
 */
@Injectable()
export class TokenFeed extends LogFeed {
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly directory: TokenDirectory,
    readiness: Readiness,
  ) {
    super(store, readiness, { name: 'token-directory', filter: { streamPrefixes: ['accessToken-', 'tokenCredential-'] } });
  }

  protected apply(event: RecordedEvent): void {
    this.directory.apply(event);
  }
}
