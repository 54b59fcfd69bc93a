import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type Subscription } from '@mrw/event-store';
import { Readiness } from '../observability/readiness';
import { TokenDirectory } from './token-directory';

/** Keeps this process's TokenDirectory current from the `accessToken-*` and `tokenCredential-*` streams of the log. */
@Injectable()
export class TokenFeed implements OnModuleInit, OnApplicationShutdown {
  private subscription: Subscription | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly directory: TokenDirectory,
    readiness: Readiness,
  ) {
    // While the store is away, a revocation may not have reached this process yet.
    readiness.register({
      name: 'token-directory',
      check: async () => {
        const status = this.subscription?.status();
        const ready = status !== undefined && (status.state === 'live' || status.state === 'catching-up');
        return { ready, ...(status && !ready ? { detail: `log subscription ${status.state}${status.detail ? `: ${status.detail}` : ''}` } : {}) };
      },
    });
  }

  /** Completes only when every token issued so far is known, so no request is refused wrongly at start. */
  async onModuleInit(): Promise<void> {
    this.subscription = this.store.subscribeToAll({
      name: 'token-directory',
      startAfter: 0n,
      filter: { streamPrefixes: ['accessToken-', 'tokenCredential-'] },
      handler: async (event) => this.directory.apply(event),
    });
    await this.subscription.caughtUp();
  }

  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
