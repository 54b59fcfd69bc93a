import { randomUUID } from 'node:crypto';
import { PUBLISHED_STREAM_PREFIXES, TOPICS } from '@mrw/contracts';
import type { EventStore, RecordedEvent, Subscription } from '@mrw/event-store';
import { DEAD_LETTERED, deadLetterFrom, deadLetterStream, redriveMessage, type DeadLetter } from '../dead-letters';
import { deadLetterOf, deliver } from '../delivery';
import { eventHeaders, eventValue } from '../event-codec';
import type {
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RunningConsumer,
} from '../message-bus.port';

/** An event's message headers, and its value once something has read it. */
interface EventMessageParts {
  readonly headers: Record<string, string>;
  value?: string;
}

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
  /** The events-topic consumers of this process, by group: where a redriven event is delivered. */
  private readonly eventConsumers = new Map<string, { options: ConsumerOptions; isStopping: () => boolean }>();
  private offset = 0;
  /**
   * Each event's headers and, once something reads it, its value: made once for all of this
   * process's consumer groups (the store hands every subscription the same object for an event
   * it has just committed).
   */
  private readonly messages = new WeakMap<RecordedEvent, EventMessageParts>();

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
          const message = this.encoded(event);
          const incoming: IncomingMessage = {
            topic: TOPICS.events,
            partition: 0,
            offset: event.position.toString(),
            key: event.streamName,
            headers: message.headers,
            recorded: event,
            // Consumers decode `recorded`; the JSON is made only for what reads it (a dead letter).
            get value() {
              return (message.value ??= eventValue(event));
            },
          };
          const outcome = await deliver(incoming, options, { heartbeat: async () => undefined }, (reason, attempts) =>
            this.deadLetter(incoming, options.groupId, reason, attempts), () => stopping);
          // Not handled and not dead-lettered: fail the handler so the checkpoint stays put.
          if (outcome === 'stopped') throw new Error(`consumer ${options.groupId} stopped before handling ${event.position}`);
        },
      });
      this.subscriptions.add(subscription);
      this.eventConsumers.set(options.groupId, { options, isStopping: () => stopping });
      return {
        status: () => {
          const { state, detail } = subscription.status();
          const ready = state === 'live' || state === 'catching-up';
          return { ready, ...(ready && !detail ? {} : { detail: `log subscription ${state}${detail ? `: ${detail}` : ''}` }) };
        },
        stop: async () => {
          stopping = true;
          this.eventConsumers.delete(options.groupId);
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

  /**
   * Sends a dead letter again: a command to this process's command consumers, an event to
   * the one consumer group that failed it (the others handled it; the log is not written
   * twice). If it fails again it becomes a new dead letter.
   */
  async redrive(letter: DeadLetter): Promise<void> {
    const message = redriveMessage(letter);
    if (letter.topic !== TOPICS.events) {
      await this.publish(letter.topic, [message], letter.publishedBy ? { publishedBy: letter.publishedBy } : {});
      return;
    }
    const consumer = this.eventConsumers.get(letter.group);
    if (!consumer) throw new Error(`consumer group ${letter.group} does not run in this process`);
    const incoming: IncomingMessage = { topic: TOPICS.events, partition: 0, offset: `redrive-${letter.letterId}`, ...message };
    await deliver(incoming, consumer.options, { heartbeat: async () => undefined }, (reason, attempts) =>
      this.deadLetter(incoming, letter.group, reason, attempts), consumer.isStopping);
  }

  private encoded(event: RecordedEvent): EventMessageParts {
    let message = this.messages.get(event);
    if (message === undefined) {
      message = { headers: eventHeaders(event) };
      this.messages.set(event, message);
    }
    return message;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    this.direct.clear();
  }

  private async deadLetter(message: IncomingMessage, groupId: string, reason: string, attempts: number): Promise<void> {
    const letterId = randomUUID();
    const data: DeadLetter = {
      ...deadLetterFrom(deadLetterOf(message, groupId, reason, attempts).message, letterId),
      ...(message.publishedBy ? { publishedBy: message.publishedBy } : {}),
    };
    await this.store.appendToStream(
      deadLetterStream(groupId),
      [
        {
          type: DEAD_LETTERED,
          data,
          metadata: {
            eventId: letterId,
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
