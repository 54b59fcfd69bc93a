import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EVENT_STORE, SqliteEventStore, type EventStore } from '@mrw/event-store';
import { AuthGuard } from './auth/auth.guard';
import { TokenDirectory } from './auth/token-directory';
import { TokenFeed } from './auth/token-feed';
import { ConfigError, SUITE_CONFIG, type SuiteConfig } from './config/config';
import { HealthController } from './observability/health.controller';
import { HttpMetricsMiddleware, Metrics } from './observability/metrics';
import { Readiness } from './observability/readiness';
import { CLOCK, systemClock, type Clock } from './persistence/clock';

export interface PlatformOptions {
  /** Tests pass a controllable clock; production uses the system clock. */
  readonly clock?: Clock;
  /** Tests may share one store between app instances (e.g. to restart an app). */
  readonly eventStore?: EventStore;
}

/** Opens the event store the configuration names. */
export const openEventStore = (config: SuiteConfig): EventStore => {
  if (config.store === 'eventstoredb') {
    throw new ConfigError('MRW_STORE=eventstoredb is not available in this build yet; use MRW_STORE=sqlite');
  }
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), synchronous: config.sqliteSynchronous });
};

class EventStoreCloser implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly owned: boolean,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.owned) await this.store.close();
  }
}

/**
 * What every service process has: configuration, clock, event store, authentication,
 * health/readiness/metrics. Global, so service modules just inject what they need.
 */
@Global()
@Module({})
export class PlatformModule implements NestModule {
  static forRoot(config: SuiteConfig, options: PlatformOptions = {}): DynamicModule {
    const owned = options.eventStore === undefined;
    return {
      module: PlatformModule,
      controllers: [HealthController],
      providers: [
        { provide: SUITE_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: EVENT_STORE, useFactory: () => options.eventStore ?? openEventStore(config) },
        {
          provide: EventStoreCloser,
          useFactory: (store: EventStore) => new EventStoreCloser(store, owned),
          inject: [EVENT_STORE],
        },
        Metrics,
        Readiness,
        TokenDirectory,
        TokenFeed,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [SUITE_CONFIG, CLOCK, EVENT_STORE, Metrics, Readiness, TokenDirectory, TokenFeed],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
