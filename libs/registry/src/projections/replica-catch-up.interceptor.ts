import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { HealthController, ProblemException, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { RegistryProjector } from './registry-projector';

/** How long a request waits for this replica's read model before it is answered 503. */
const CATCH_UP_MS = 5_000;

/**
 * Read-your-writes across registry replicas: on PostgreSQL, where replicas behind one load
 * balancer share the log, a request waits until this replica's read model holds every event
 * in the log when it arrived, so it sees whatever any replica acknowledged before (a version
 * registered through one replica is listed, and its approval found, through the other). The
 * price is one read of the log's head per request; with SQLite the registry is the one writer
 * and already waits for its own appends.
 */
@Injectable()
export class ReplicaCatchUp implements NestInterceptor {
  private readonly enabled: boolean;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projector: RegistryProjector,
    @Inject(SUITE_CONFIG) config: SuiteConfig,
  ) {
    this.enabled = config.store === 'postgres';
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    // Probes ask about this process only.
    if (this.enabled && context.getType() === 'http' && context.getClass() !== HealthController) {
      const head = await this.store.headPosition();
      await this.projector.waitFor(head, CATCH_UP_MS).catch(() => {
        throw new ProblemException('READ_MODEL_BEHIND', `this registry replica's read model has not reached position ${head} of the log yet; retry`, {}, 503);
      });
    }
    return next.handle();
  }
}
