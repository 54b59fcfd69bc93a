import { randomUUID } from 'node:crypto';
import { PUBLISHED_STREAM_PREFIXES, TOPICS } from '@mrw/contracts';
import type { EventStore, Subscription } from '@mrw/event-store';
import { deadLetterOf, deliver } from '../delivery';
import { encodeEvent } from '../event-codec';
import type {
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RunningConsumer,
} from '../message-bus.port';

/** Dead letters of the embedded bus, as events in the log: `deadLetter-<group>`. */
export const deadLetterStream = (groupId: string): string => `deadLetter-${groupId}`;

/**
 * The bus of embedded mode, with Kafka's semantics. The events topic *is* the log: each
 * consumer group is a checkpointed subscription, so a crash re-delivers from the last
 * handled event. Other topics (service → registry commands) are delivered in-process and
 * awaited by the publisher: if the process dies first, the publisher's own event is
 * re-delivered and it publishes again with the same command id.
 */
export class EmbeddedMessageBus implements MessageBus {
  private readonly direct = new Map<string, Array<{ options: ConsumerOptions; stopping: boolean }>>();
  private readonly subscriptions = new Set<Subscription>();
  private offset = 0;

  constructor(private readonly store: EventStore) {}

  async ensureTopics(): Promise<void> {
    // Nothing to create: the log and the in-process routes exist already.
  }

  async publish(topic: string, messages: readonly OutgoingMessage[], options: { publishedBy?: string } = {}): Promise<void> {
    if (topic === TOPICS.events) throw new Error('in embedded mode the events topic is the event log itself');
    const consumers = this.direct.get(topic) ?? [];
    if (consumers.length === 0) throw new Error(`no consumer for ${topic} in this process`);
    for (const message of messages) {
      const incoming: IncomingMessage = {
        topic,
        partition: 0,
        offset: String((this.offset += 1)),
        key: message.key,
        value: message.value,
        headers: message.headers,
        ...(options.publishedBy ? { publishedBy: options.publishedBy } : {}),
      };
      for (const consumer of consumers) {
        await deliver(incoming, consumer.options, { heartbeat: async () => undefined }, (reason, attempts) =>
          this.deadLetter(incoming, consumer.options.groupId, reason, attempts), () => consumer.stopping);
      }
    }
  }

  async consume(options: ConsumerOptions): Promise<RunningConsumer> {
    if (options.topic === TOPICS.events) {
      let stopping = false;
      const subscription = this.store.subscribeToAll({
        name: `bus-${options.groupId}`,
        filter: { streamPrefixes: PUBLISHED_STREAM_PREFIXES },
        handler: async (event) => {
          const message = encodeEvent(event);
          const incoming: IncomingMessage = {
            topic: TOPICS.events,
            partition: 0,
            offset: event.position.toString(),
            key: message.key,
            value: message.value,
            headers: message.headers,
          };
          const outcome = await deliver(incoming, options, { heartbeat: async () => undefined }, (reason, attempts) =>
            this.deadLetter(incoming, options.groupId, reason, attempts), () => stopping);
          // Not handled and not dead-lettered: fail the handler so the checkpoint stays put.
          if (outcome === 'stopped') throw new Error(`consumer ${options.groupId} stopped before handling ${event.position}`);
        },
      });
      this.subscriptions.add(subscription);
      return {
        stop: async () => {
          stopping = true;
          await subscription.stop();
          this.subscriptions.delete(subscription);
        },
      };
    }
    const entry = { options, stopping: false };
    this.direct.set(options.topic, [...(this.direct.get(options.topic) ?? []), entry]);
    return {
      stop: async () => {
        entry.stopping = true;
        this.direct.set(options.topic, (this.direct.get(options.topic) ?? []).filter((e) => e !== entry));
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    this.direct.clear();
  }

  private async deadLetter(message: IncomingMessage, groupId: string, reason: string, attempts: number): Promise<void> {
    const letter = deadLetterOf(message, groupId, reason, attempts);
    await this.store.appendToStream(
      deadLetterStream(groupId),
      [
        {
          type: 'MessageDeadLettered',
          data: { topic: letter.topic, key: letter.message.key, value: letter.message.value, headers: letter.message.headers },
          metadata: {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', id: groupId },
            correlationId: message.headers['correlation-id'] || randomUUID(),
            causationId: message.headers['event-id'] || null,
            schemaVersion: 1,
          },
        },
      ],
      { expectedRevision: 'any' },
    );
  }
}
