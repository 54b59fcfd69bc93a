import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONSUMER_GROUPS, dlqOf, SCHEMA_VERSION, TOPIC_PARTITIONS, TOPICS } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import {
  DEAD_LETTERED,
  deadLetterFrom,
  deadLetterStream,
  letterIdAt,
  MESSAGE_BUS,
  type DeadLetter,
  type MessageBus,
  type RunningConsumer,
} from '@mrw/messaging';
import { Readiness, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { backoffDelay, sleep } from '@mrw/resilience';

/**
 * Distributed mode: every service dead-letters to the Kafka DLQ topics; the registry, the
 * log's only writer, copies each letter into the `deadLetter-<group>` stream of the group
 * that gave up on it, so admins list and redrive dead letters the same way in both modes. A
 * letter's id is derived from its DLQ position: indexing it twice records it once.
 */
@Injectable()
export class DeadLetterIndexer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('dead-letters');
  private readonly consumers: RunningConsumer[] = [];
  private readonly known = new Map<string, Set<string>>();
  private starting: Promise<void> = Promise.resolve();
  private running = false;
  /** Why the last attempt to start failed, while it is being tried again. */
  private failure: string | undefined;
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    readiness: Readiness,
  ) {
    if (config.bus === 'kafka') {
      readiness.register({
        name: 'dead-letter-index',
        check: async () => ({ ready: this.running, ...(this.failure && !this.running ? { detail: `retrying its start after: ${this.failure}` } : {}) }),
      });
    }
  }

  onApplicationBootstrap(): void {
    if (this.config.bus !== 'kafka') return; // the embedded bus writes its dead letters to the log itself
    this.starting = this.startUntilRunning();
  }

  /**
   * Starts the DLQ consumers, and tries again with backoff while that fails: on a fresh broker
   * the topics it has just created may not be served yet ("does not host this topic-partition"),
   * and one failed start must not leave the registry unready for good.
   */
  private async startUntilRunning(): Promise<void> {
    for (let attempt = 1; !this.shutdown.signal.aborted; attempt += 1) {
      try {
        await this.start();
        this.failure = undefined;
        return;
      } catch (error) {
        this.failure = String(error);
        await Promise.all(this.consumers.splice(0).map((c) => c.stop().catch(() => undefined)));
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 30_000 });
        this.logger.error(`cannot index dead letters yet (attempt ${attempt}), trying again in ${delay} ms: ${this.failure}`);
        await sleep(delay, this.shutdown.signal);
      }
    }
  }

  private async start(): Promise<void> {
    const origins = [TOPICS.events, TOPICS.commands, TOPICS.trainingEvents];
    await this.bus.ensureTopics(origins.map((topic) => ({ topic, partitions: TOPIC_PARTITIONS[topic] ?? 6 })));
    for (const topic of origins.map(dlqOf)) {
      this.consumers.push(
        await this.bus.consume({
          // One group per DLQ topic: kafkajs members of one group must subscribe to the same topics.
          groupId: `${CONSUMER_GROUPS.deadLetterIndex}.${topic}`,
          topic,
          handler: async (message) => this.index(deadLetterFrom(message, letterIdAt(topic, message.partition, message.offset))),
        }),
      );
    }
    this.running = true;
  }

  private async index(letter: DeadLetter): Promise<void> {
    const stream = deadLetterStream(letter.group);
    const known = await this.lettersOf(stream);
    if (known.has(letter.letterId)) return;
    await this.store.appendToStream(
      stream,
      [
        {
          type: DEAD_LETTERED,
          data: letter,
          metadata: {
            eventId: letter.letterId,
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', id: letter.group },
            correlationId: letter.headers['correlation-id'] || letter.letterId,
            causationId: letter.headers['event-id'] || letter.headers['command-id'] || null,
            schemaVersion: SCHEMA_VERSION,
          },
        },
      ],
      { expectedRevision: 'any' },
    );
    known.add(letter.letterId);
  }

  private async lettersOf(stream: string): Promise<Set<string>> {
    let known = this.known.get(stream);
    if (!known) {
      known = new Set((await this.store.readStream(stream)).filter((e) => e.type === DEAD_LETTERED).map((e) => (e.data as DeadLetter).letterId));
      this.known.set(stream, known);
    }
    return known;
  }

  async onApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    await this.starting;
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
