import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PUBLISHED_STREAM_PREFIXES, TOPIC_PARTITIONS, TOPICS } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent, type Subscription } from '@mrw/event-store';
import { inNewLogContext } from '@mrw/logging';
import { encodeEvent, MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { Metrics, Readiness, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';

const MAX_BACKOFF_MS = 5_000;
/** Events per Kafka request: one acknowledgement covers the whole batch. */
const BATCH = 200;

/**
 * The log is the outbox: a checkpointed subscription publishes every registry event to
 * `mrw.registry.events.v1`, and the checkpoint moves past an event only after Kafka
 * acknowledged it. A crash between the append and the publish re-publishes on restart
 * (consumers deduplicate by event id); a broker outage is waited out, never skipped.
 */
@Injectable()
export class LogForwarder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('log-forwarder');
  private subscription: Subscription | undefined;
  private stopping = false;
  private failure: unknown;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly metrics: Metrics,
    readiness: Readiness,
  ) {
    if (config.bus === 'kafka') {
      readiness.register({
        name: 'log-forwarder',
        check: async () => (this.failure ? { ready: false, detail: String(this.failure) } : { ready: this.subscription !== undefined }),
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.bus !== 'kafka') return; // embedded consumers read the log directly
    await this.bus.ensureTopics(
      [TOPICS.events, TOPICS.commands].map((topic) => ({ topic, partitions: TOPIC_PARTITIONS[topic] ?? 6 })),
    );
    this.subscription = this.store.subscribeToAll({
      name: 'kafka-forwarder',
      filter: { streamPrefixes: PUBLISHED_STREAM_PREFIXES },
      batchSize: BATCH,
      handleBatch: (events) => {
        // A batch's lines are about its first event; `batchSize` says how many more it carries.
        const first = events[0] as RecordedEvent;
        return inNewLogContext(
          {
            correlationId: first.metadata.correlationId,
            causationId: first.metadata.causationId,
            stream: first.streamName,
            eventType: first.type,
            eventId: first.metadata.eventId,
            batchSize: events.length,
          },
          () => this.forward(events),
        );
      },
      onError: (error) => {
        this.failure = error;
        this.logger.error(`forwarding stopped: ${String(error)}`);
      },
    });
  }

  /** Resolves once every event in the log now has been acknowledged by Kafka. */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  private async forward(events: readonly RecordedEvent[]): Promise<void> {
    this.crashIf('forwarder:before-publish', events);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.bus.publish(TOPICS.events, events.map(encodeEvent));
        break;
      } catch (error) {
        if (this.stopping) throw error;
        if (attempt % 10 === 0) {
          const first = events[0] as RecordedEvent;
          this.logger.warn(`cannot publish ${events.length} events from ${first.position} yet (${String(error)}); retrying`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt)));
      }
    }
    this.metrics.eventsForwarded.inc(events.length);
    this.crashIf('forwarder:after-publish', events);
  }

  /** Test-only fault injection (MRW_CRASH_AT=<point>:<EventType>): dies like `kill -9` there. */
  private crashIf(point: string, events: readonly RecordedEvent[]): void {
    if (events.some((event) => this.config.crashAt === `${point}:${event.type}`)) process.kill(process.pid, 'SIGKILL');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.subscription?.stop();
  }
}
