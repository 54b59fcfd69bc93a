import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { EventFilter, EventStore, RecordedEvent, Subscription } from '@mrw/event-store';
import type { Readiness } from '../observability/readiness';

/**
 * An in-memory fold kept current from the log, read from the log's start at every boot: the
 * module is up only once it holds everything recorded so far (so nothing is judged on an
 * empty fold), and `/readyz` says not-ready while its subscription reconnects to the store.
 * The token directory, the people directory and the approvals service's books are ones.
 */
export abstract class LogFeed implements OnModuleInit, OnApplicationShutdown {
  private subscription: Subscription | undefined;

  protected constructor(
    private readonly store: EventStore,
    readiness: Readiness,
    private readonly feed: { readonly name: string; readonly filter: EventFilter },
  ) {
    readiness.register({
      name: feed.name,
      check: async () => {
        const status = this.subscription?.status();
        const ready = status !== undefined && (status.state === 'live' || status.state === 'catching-up');
        return { ready, ...(status && !ready ? { detail: `log subscription ${status.state}${status.detail ? `: ${status.detail}` : ''}` } : {}) };
      },
    });
  }

  /** Folds one event of the feed's filter. */
  protected abstract apply(event: RecordedEvent): void;

  async onModuleInit(): Promise<void> {
    this.subscription = this.store.subscribeToAll({
      name: this.feed.name,
      startAfter: 0n,
      filter: this.feed.filter,
      handler: async (event) => this.apply(event),
    });
    await this.subscription.caughtUp();
  }

  /** Resolves once every event in the log now (or up to `upTo`, a head the caller read) is folded. */
  async caughtUp(upTo?: bigint): Promise<void> {
    await this.subscription?.caughtUp(upTo);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
