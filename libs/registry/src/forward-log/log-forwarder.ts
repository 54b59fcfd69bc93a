import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PUBLISHED_STREAM_PREFIXES, TOPIC_PARTITIONS, TOPICS } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent, type Subscription } from '@mrw/event-store';
import { inNewLogContext } from '@mrw/logging';
import { encodeEvent, MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { retry } from '@mrw/resilience';
import { LEADERSHIP, Metrics, Readiness, SoloLeadership, SUITE_CONFIG, type Leadership, type SuiteConfig } from '@mrw/platform';

const MAX_BACKOFF_MS = 5_000;
/** Events per Kafka request: one acknowledgement covers the whole batch. */
const BATCH = 200;

/**
 * The log is the outbox: a checkpointed subscription publishes every registry event to
 * `mrw.registry.events.v1`, and the checkpoint moves past an event only after Kafka
 * acknowledged it. A crash between the append and the publish re-publishes on restart
 * (consumers deduplicate by event id); a broker outage is waited out, never skipped.
 *
 * One process forwards, however many registry replicas share the log: the leader (see
 * `Leadership`). Its checkpoint lives in the shared store, so a replica that takes over resumes
 * where the last leader's acknowledged batches end.
 */
@Injectable()
export class LogForwarder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('log-forwarder');
  private subscription: Subscription | undefined;
  private stopping = false;
  private failure: unknown;
  /** Failed publishes of the current batch in a row: the broker is unreachable while this grows. */
  private publishFailures = 0;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly metrics: Metrics,
    readiness: Readiness,
    @Optional() @Inject(LEADERSHIP) private readonly leadership: Leadership = new SoloLeadership(),
  ) {
    if (config.bus === 'kafka') {
      readiness.register({
        name: 'log-forwarder',
        check: async () => {
          if (this.leadership.state() !== 'leader') return { ready: true, detail: 'standby: the leading registry process forwards the log' };
          if (this.failure) return { ready: false, detail: String(this.failure) };
          const status = this.subscription?.status();
          if (status && status.state !== 'live' && status.state !== 'catching-up') {
            return { ready: false, detail: `log subscription ${status.state}${status.detail ? `: ${status.detail}` : ''}` };
          }
          return {
            ready: this.subscription !== undefined,
            ...(this.publishFailures > 0 ? { detail: `Kafka has refused the last ${this.publishFailures} publishes; retrying (the log keeps the events)` } : {}),
          };
        },
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.bus !== 'kafka') return; // embedded consumers read the log directly
    await this.leadership.run({ name: 'log-forwarder', start: () => this.start(), stop: () => this.stop() });
  }

  private async start(): Promise<void> {
    this.stopping = false;
    this.failure = undefined;
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
    // A broker outage is waited out for as long as it lasts: the log keeps the events meanwhile.
    await retry(() => this.bus.publish(TOPICS.events, events.map(encodeEvent)), {
      shouldRetry: () => !this.stopping,
      backoff: { initialMs: 200, maxMs: MAX_BACKOFF_MS },
      onRetry: (error, attempt) => {
        this.publishFailures = attempt;
        if (attempt % 10 === 1) {
          const first = events[0] as RecordedEvent;
          this.logger.warn(`cannot publish ${events.length} events from ${first.position} yet (${String(error)}); retrying`);
        }
      },
    });
    this.publishFailures = 0;
    this.metrics.eventsForwarded.inc(events.length);
    this.crashIf('forwarder:after-publish', events);
  }

  /** Test-only fault injection (MRW_CRASH_AT=<point>:<EventType>): dies like `kill -9` there. */
  private crashIf(point: string, events: readonly RecordedEvent[]): void {
    if (events.some((event) => this.config.crashAt === `${point}:${event.type}`)) process.kill(process.pid, 'SIGKILL');
  }

  /** Stops after the batch in flight (a publish being retried gives up); what is not checkpointed is published again by the next forwarder. */
  private async stop(): Promise<void> {
    this.stopping = true;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
