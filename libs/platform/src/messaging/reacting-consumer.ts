import { join } from 'node:path';
import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { CONSUMER_GROUPS, TOPIC_PARTITIONS, TOPICS, type ServiceName } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { decodeEvent, Inbox, MESSAGE_BUS, type MessageBus, type RunningConsumer } from '@mrw/messaging';
import { SUITE_CONFIG, type SuiteConfig } from '../config/config';
import { Metrics } from '../observability/metrics';
import { Readiness } from '../observability/readiness';

/** What a service does with the registry's events; only `types` reach `react`. */
export interface EventReactions {
  readonly types: readonly string[];
  /** `heartbeat` keeps a long reaction (an evaluation) in its consumer group. */
  react(event: RecordedEvent, context: { heartbeat(): Promise<void> }): Promise<void>;
}

/**
 * A service's consumer group on the registry's events: every event is checked against the
 * service's inbox (so a redelivery is recognised), the interesting ones are handed to the
 * service's reactions, and only then is the offset committed.
 */
export class ReactingConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly group: string;
  private readonly inbox: Inbox;
  private consumer: RunningConsumer | undefined;
  private running = false;
  private starting: Promise<void> = Promise.resolve();

  constructor(
    private readonly service: ServiceName,
    private readonly reactions: EventReactions,
    private readonly bus: MessageBus,
    private readonly config: SuiteConfig,
    private readonly metrics: Metrics,
    readiness: Readiness,
  ) {
    this.logger = new Logger(service);
    this.group = CONSUMER_GROUPS[service];
    this.inbox = new Inbox(join(config.dataDir, `${service}-inbox.sqlite`));
    readiness.register({ name: `${this.group}-consumer`, check: async () => ({ ready: this.running }) });
  }

  /** Joins in the background; `/readyz` says ready once the consumer runs. */
  onApplicationBootstrap(): void {
    this.starting = this.start().catch((error: unknown) => {
      this.logger.error(`cannot consume registry events: ${error instanceof Error ? error.stack : String(error)}`);
    });
  }

  private async start(): Promise<void> {
    if (this.config.bus === 'kafka') {
      await this.bus.ensureTopics([{ topic: TOPICS.events, partitions: TOPIC_PARTITIONS[TOPICS.events] ?? 6 }]);
    }
    this.consumer = await this.bus.consume({
      groupId: this.group,
      topic: TOPICS.events,
      handler: async (message, context) => {
        const event = decodeEvent(message);
        const outcome = await this.inbox.once(this.group, event.metadata.eventId, event.type, async () => {
          if (this.reactions.types.includes(event.type)) await this.reactions.react(event, context);
        });
        this.metrics.messagesConsumed.inc({ group: this.group, type: event.type, outcome });
        if (outcome === 'duplicate') this.logger.debug(`skipped redelivered ${event.type} ${event.metadata.eventId}`);
      },
    });
    this.running = true;
  }

  /** Per event type, how many this group has handled (each event counted once). */
  handledCounts(): Record<string, number> {
    return this.inbox.counts(this.group);
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.starting;
    await this.consumer?.stop();
    this.inbox.close();
  }
}

/** The provider that runs a service's consumer group with the given reactions. */
export const reactingConsumer = (service: ServiceName, reactions: Type<EventReactions>): Provider => ({
  provide: ReactingConsumer,
  inject: [reactions, MESSAGE_BUS, SUITE_CONFIG, Metrics, Readiness],
  useFactory: (r: EventReactions, bus: MessageBus, config: SuiteConfig, metrics: Metrics, readiness: Readiness) =>
    new ReactingConsumer(service, r, bus, config, metrics, readiness),
});
