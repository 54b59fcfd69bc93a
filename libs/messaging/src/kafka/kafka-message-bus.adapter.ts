import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import { failureKind, retry } from '@mrw/resilience';
import { redriveMessage, type DeadLetter } from '../dead-letters';
import { deadLetterOf, deliver } from '../delivery';
import { SupervisedConsumer } from './supervised-consumer';
import type {
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RunningConsumer,
} from '../message-bus.port';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Called with kafkajs's warnings and errors. */
  readonly log?: (level: 'warn' | 'error', message: string) => void;
  /**
   * Prefix for every topic and consumer group (e.g. `staging.`): several suites, or test
   * runs, share one cluster without seeing each other's messages. Empty by default.
   */
  readonly namespace?: string;
}

/** Tries at creating or finding the topics before the failure is the caller's. */
const TOPIC_ATTEMPTS = 12;

const headersOf = (raw: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(raw ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, (Array.isArray(v) ? v[0] : v)?.toString('utf8') ?? '']),
  );

/**
 * The message bus on Kafka (kafkajs). The producer is idempotent with one request in flight
 * and `acks: all`; consumers commit an offset only after the handler's effect (or the dead
 * letter) is done, handling one message at a time per partition and committing per batch.
 */
export class KafkaMessageBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private producerReady: Promise<void> | undefined;
  private readonly consumers = new Set<SupervisedConsumer>();
  private readonly ns: string;

  constructor(private readonly options: KafkaBusOptions) {
    this.ns = options.namespace ?? '';
    const log = options.log;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      // Reconnect for a long while: a restarting broker is an outage to ride out, not a crash.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 20 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        if (!log) return;
        // Our retries are bounded on purpose (the forwarder retries on its own, and
        // consumers deduplicate by id), so kafkajs's exactly-once warning does not apply.
        if (entry.log.message.includes('may invalidate EoS guarantees')) return;
        const level = entry.level === logLevel.ERROR ? 'error' : 'warn';
        log(level, `${entry.namespace}: ${entry.log.message}`);
      },
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Murmur2, as the Java client: a key lands on the same partition whichever client wrote it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  private readonly ensured = new Map<string, Promise<void>>();

  /** Each topic is ensured once per process, however many components ask for it. */
  async ensureTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
    const key = topics.map((t) => `${t.topic}:${t.partitions}`).sort().join(',');
    let pending = this.ensured.get(key);
    if (!pending) {
      pending = this.createTopics(topics).catch((error: unknown) => {
        this.ensured.delete(key);
        throw error;
      });
      this.ensured.set(key, pending);
    }
    await pending;
  }

  /**
   * A broker that has just started may not serve the topics' metadata yet ("does not host this
   * topic-partition", retriable): that is waited out, 200 ms doubling to 5 s, for 12 attempts
   * (about 35 s), after which the failure is the caller's; a permanent refusal is at once.
   */
  private createTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
    return retry(() => this.createTopicsOnce(topics), {
      shouldRetry: (error, attempt) => attempt < TOPIC_ATTEMPTS && failureKind(error) !== 'permanent',
      backoff: { initialMs: 200, maxMs: 5_000 },
    });
  }

  private async createTopicsOnce(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const wanted = topics.flatMap(({ topic, partitions }) => [
        { topic: this.ns + topic, numPartitions: partitions },
        { topic: `${this.ns + topic}.dlq`, numPartitions: 1 },
      ]);
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        try {
          await admin.createTopics({ topics: missing.map((t) => ({ ...t, replicationFactor: -1 })), waitForLeaders: true });
        } catch (error) {
          // Another process created them first: what we wanted.
          if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.producerReady ??= this.producer.connect();
    try {
      await this.producerReady;
    } catch (error) {
      this.producerReady = undefined;
      throw error;
    }
    await this.producer.send({
      topic: this.ns + topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
    });
  }

  /**
   * A consumer in the group, kept running by a `SupervisedConsumer`: one that kafkajs stops for
   * good, or that stops fetching without a word, is replaced by a new one.
   */
  async consume(options: ConsumerOptions): Promise<RunningConsumer> {
    let stopping = false;
    const supervised = new SupervisedConsumer({
      name: this.ns + options.groupId,
      ...(this.options.log ? { log: this.options.log } : {}),
      start: async (supervision) => {
        const consumer = this.kafka.consumer({
          groupId: this.ns + options.groupId,
          allowAutoTopicCreation: false,
          // A killed member's partitions move to the others after this long without heartbeats.
          sessionTimeout: 15_000,
          heartbeatInterval: 3_000,
          // How long a rebalance waits for every member to rejoin (kafkajs's default, stated
          // here because the supervisor's stall bound must be longer).
          rebalanceTimeout: 60_000,
          retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 20 },
        });
        try {
          await consumer.connect();
          await consumer.subscribe({ topic: this.ns + options.topic, fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            partitionsConsumedConcurrently: 1,
            eachBatch: (payload) => supervision.batch(() => this.handleBatch(consumer, payload, options, () => stopping)),
          });
        } catch (error) {
          await consumer.disconnect().catch(() => undefined);
          throw error;
        }
        return consumer;
      },
    });
    await supervised.start();
    this.consumers.add(supervised);
    return {
      status: () => supervised.status(),
      stop: async () => {
        stopping = true;
        await supervised.stop();
        this.consumers.delete(supervised);
      },
    };
  }

  /**
   * One batch per fetch: each message is handled (or dead-lettered) in order, then the batch's
   * offset is committed once. A crash mid-batch re-delivers the handled part, which idempotent
   * handlers recognise; nothing unhandled is ever committed.
   */
  private async handleBatch(
    consumer: Consumer,
    { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload,
    options: ConsumerOptions,
    stopping: () => boolean,
  ): Promise<void> {
    let handled: string | undefined;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || stopping()) break;
      const incoming: IncomingMessage = {
        topic: batch.topic.slice(this.ns.length),
        partition: batch.partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? null,
        value: message.value?.toString('utf8') ?? '',
        headers: headersOf(message.headers),
      };
      const outcome = await deliver(
        incoming,
        options,
        { heartbeat },
        async (reason, attempts) => {
          const letter = deadLetterOf(incoming, options.groupId, reason, attempts);
          await this.publish(letter.topic, [letter.message]);
        },
        stopping,
      );
      if (outcome === 'stopped') break;
      resolveOffset(message.offset);
      handled = message.offset;
      await heartbeat();
    }
    if (handled !== undefined) {
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(handled) + 1n).toString() }]);
    }
  }

  /**
   * Sends a dead letter again to its original topic. On the events topic every group sees it
   * once more; the groups that handled it skip it by id (their inbox), the one that failed it
   * handles it now.
   */
  async redrive(letter: DeadLetter): Promise<void> {
    await this.publish(letter.topic, [redriveMessage(letter)]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    if (this.producerReady) await this.producer.disconnect();
  }
}
