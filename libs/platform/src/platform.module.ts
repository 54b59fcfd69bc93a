import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EVENT_STORE, openEventStoreDb, PostgresEventStore, SqliteEventStore, type EventStore } from '@mrw/event-store';
import { EmbeddedMessageBus, KafkaMessageBus, MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { AddressPolicy, OutboundHttp } from '@mrw/outbound';
import { AuthGuard } from './auth/auth.guard';
import { TokenDirectory } from './auth/token-directory';
import { TokenFeed } from './auth/token-feed';
import { RegistryCommands } from './messaging/registry-commands';
import { ConfigError, SUITE_CONFIG, type SuiteConfig } from './config/config';
import { HealthController } from './observability/health.controller';
import { HttpMetricsMiddleware, Metrics } from './observability/metrics';
import { Readiness } from './observability/readiness';
import { CLOCK, systemClock, type Clock } from './persistence/clock';
import { loadServerSecrets, ServerSecrets } from './secrets/server-secrets';
import { LEADERSHIP, type Leadership } from './leadership/leadership';
import { openLeadership } from './leadership/open-leadership';
import { BeforeShutdown } from './serving/before-shutdown';
import { TOKENS_CAUGHT_UP_FIRST } from './auth/auth.guard';

export interface PlatformOptions {
  /** Tests pass a controllable clock; production uses the system clock. */
  readonly clock?: Clock;
  /** Tests may share one store between app instances (e.g. to restart an app). */
  readonly eventStore?: EventStore;
  /** The service this process runs (`suite` in embedded mode): names its Kafka client. */
  readonly service?: string;
  /**
   * Another process writes the log this one serves from (a reader beside the suite, see
   * MRW_SERVING_PROCESSES): tokens are caught up with the log before every check, as on
   * PostgreSQL, so a revocation through the suite holds at once here too.
   */
  readonly othersWrite?: boolean;
}

/** Opens the event store the configuration names; fails with the URL when EventStoreDB or PostgreSQL is unreachable. */
export const openEventStore = async (config: SuiteConfig, service = 'suite'): Promise<EventStore> => {
  if (config.store === 'eventstoredb') {
    if (!config.eventStoreDbUrl) throw new ConfigError('MRW_STORE=eventstoredb needs EVENTSTOREDB_URL');
    return openEventStoreDb(config.eventStoreDbUrl);
  }
  if (config.store === 'postgres') {
    if (!config.postgresUrl) throw new ConfigError('MRW_STORE=postgres needs MRW_POSTGRES_URL');
    return PostgresEventStore.open({ connectionString: config.postgresUrl, schema: config.postgresSchema, applicationName: `mrw-${service}` });
  }
  mkdirSync(dirname(config.sqliteFile), { recursive: true });
  return new SqliteEventStore({ file: config.sqliteFile, synchronous: config.sqliteSynchronous });
};

/** Opens the message bus the configuration names: Kafka, or the embedded bus over the log. */
export const openMessageBus = (config: SuiteConfig, service: string, store: EventStore): MessageBus => {
  if (config.bus === 'embedded') return new EmbeddedMessageBus(store);
  const logger = new Logger('kafka');
  return new KafkaMessageBus({
    brokers: config.kafkaBrokers,
    clientId: `mrw-${service}`,
    namespace: config.kafkaNamespace,
    log: (level, message) => (level === 'error' ? logger.error(message) : logger.warn(message)),
  });
};

/**
 * Stops the leader's works and lets the lease go, then closes the bus (its consumers finish
 * their in-flight handlers) before the store under it.
 */
class InfrastructureCloser implements OnApplicationShutdown {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly ownsStore: boolean,
    @Inject(LEADERSHIP) private readonly leadership: Leadership,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.leadership.close();
    await this.bus.close();
    if (this.ownsStore) await this.store.close();
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
        { provide: EVENT_STORE, useFactory: () => options.eventStore ?? openEventStore(config, options.service ?? 'suite') },
        {
          provide: MESSAGE_BUS,
          useFactory: (store: EventStore) => openMessageBus(config, options.service ?? 'suite', store),
          inject: [EVENT_STORE],
        },
        // Work one process of the service does at a time, whatever the replicas (log forwarding, webhook deliveries).
        { provide: LEADERSHIP, useFactory: (readiness: Readiness) => openLeadership(config, options.service ?? 'suite', readiness), inject: [Readiness] },
        {
          provide: InfrastructureCloser,
          useFactory: (bus: MessageBus, store: EventStore, leadership: Leadership) => new InfrastructureCloser(bus, store, owned, leadership),
          inject: [MESSAGE_BUS, EVENT_STORE, LEADERSHIP],
        },
        { provide: ServerSecrets, useFactory: () => loadServerSecrets(config) },
        // One guarded client for every call made on a user's behalf (sources, webhooks, chat, CD).
        { provide: OutboundHttp, useFactory: () => new OutboundHttp({ policy: new AddressPolicy(config.outboundAllowedHosts) }) },
        Metrics,
        Readiness,
        TokenDirectory,
        TokenFeed,
        RegistryCommands,
        { provide: TOKENS_CAUGHT_UP_FIRST, useValue: config.store === 'postgres' || options.othersWrite === true },
        { provide: APP_GUARD, useClass: AuthGuard },
        BeforeShutdown,
      ],
      exports: [SUITE_CONFIG, CLOCK, EVENT_STORE, MESSAGE_BUS, LEADERSHIP, ServerSecrets, OutboundHttp, Metrics, Readiness, TokenDirectory, TokenFeed, RegistryCommands, BeforeShutdown],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
