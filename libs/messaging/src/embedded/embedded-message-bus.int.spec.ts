import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADERS, TOPICS } from '@mrw/contracts';
import { SqliteEventStore, type EventToAppend } from '@mrw/event-store';
import { testEvent } from '@mrw/event-store/testing';
import { decodeEvent } from '../event-codec';
import { PoisonMessageError, type IncomingMessage } from '../message-bus.port';
import { eventually } from '../testing/kafka-for-tests';
import { deadLetterStream } from '../dead-letters';
import { EmbeddedMessageBus } from './embedded-message-bus.adapter';

const event = (type: string, data: unknown = {}): EventToAppend => testEvent(type, data, 'tester');

describe('EmbeddedMessageBus: Kafka semantics over the event log', () => {
  let dir: string;
  let store: SqliteEventStore;
  let bus: EmbeddedMessageBus;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-embedded-bus-'));
    store = new SqliteEventStore({ file: join(dir, 'events.sqlite') });
    bus = new EmbeddedMessageBus(store);
  });

  afterEach(async () => {
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const append = (stream: string, ...events: EventToAppend[]) =>
    store.appendToStream(stream, events, { expectedRevision: 'any' });

  it('delivers the log to each consumer group from its own checkpoint, with the Kafka headers', async () => {
    await append('model-a', event('ModelCreated', { n: 1 }));
    const one: IncomingMessage[] = [];
    const consumer = await bus.consume({ groupId: 'g1', topic: TOPICS.events, handler: async (m) => void one.push(m) });
    await append('modelVersion-a@1', event('ModelVersionRegistered', { n: 2 }));
    await eventually(async () => one.length === 2, { what: 'two events in g1' });
    expect(one.map((m) => decodeEvent(m).type)).toEqual(['ModelCreated', 'ModelVersionRegistered']);
    expect(one[1]).toMatchObject({ key: 'modelVersion-a@1', headers: { [HEADERS.stream]: 'modelVersion-a@1', [HEADERS.revision]: '0' } });
    // The value is made when read, and is the event as a Kafka consumer would receive it.
    expect(JSON.parse(one[1]!.value)).toEqual({
      streamName: 'modelVersion-a@1',
      revision: 0,
      position: decodeEvent(one[1]!).position.toString(),
      type: 'ModelVersionRegistered',
      data: { n: 2 },
      metadata: decodeEvent(one[1]!).metadata,
    });
    await consumer.stop();

    // A restarted group resumes after its checkpoint; a new group starts at the beginning.
    await append('model-a', event('ModelPolicySet', { n: 3 }));
    const again: string[] = [];
    const fresh: string[] = [];
    await bus.consume({ groupId: 'g1', topic: TOPICS.events, handler: async (m) => void again.push(decodeEvent(m).type) });
    await bus.consume({ groupId: 'g2', topic: TOPICS.events, handler: async (m) => void fresh.push(decodeEvent(m).type) });
    await eventually(async () => again.length === 1 && fresh.length === 3, { what: 'g1 resumed, g2 from the start' });
    expect(again).toEqual(['ModelPolicySet']);
  });

  it('retries a failing handler, dead-letters a poison event into deadLetter-<group>, and keeps going', async () => {
    const attempts: Record<string, number> = {};
    const handled: string[] = [];
    await bus.consume({
      groupId: 'picky',
      topic: TOPICS.events,
      retryDelayMs: 5,
      maxAttempts: 3,
      handler: async (m) => {
        const e = decodeEvent(m);
        attempts[e.type] = (attempts[e.type] ?? 0) + 1;
        if (e.type === 'Flaky' && attempts[e.type]! < 2) throw new Error('transient');
        if (e.type === 'Poison') throw new PoisonMessageError('cannot handle Poison');
        handled.push(e.type);
      },
    });
    await append('model-b', event('Flaky'), event('Poison'), event('After'));
    await eventually(async () => handled.length === 2, { what: 'Flaky and After handled' });
    expect(handled).toEqual(['Flaky', 'After']);
    expect(attempts).toEqual({ Flaky: 2, Poison: 1, After: 1 });
    const letters = await store.readStream(deadLetterStream('picky'));
    expect(letters).toHaveLength(1);
    expect(letters[0]!.data).toMatchObject({
      topic: TOPICS.events,
      key: 'model-b',
      group: 'picky',
      reason: 'PoisonMessageError: cannot handle Poison',
      attempts: 1,
      truncated: false,
    });
    expect((letters[0]!.data as { headers: Record<string, string> }).headers[HEADERS.dlqReason]).toBeUndefined();
    // The letter keeps the event itself, so a redrive (or a person) can read it.
    expect(JSON.parse((letters[0]!.data as { value: string }).value)).toMatchObject({ streamName: 'model-b', revision: 1, type: 'Poison' });
  });

  it('hands commands to the in-process consumer, marked with their publisher, and fails the publish if nobody listens', async () => {
    await expect(bus.publish(TOPICS.commands, [{ key: 'k', value: '{}', headers: {} }])).rejects.toThrow(/no consumer/);
    const received: IncomingMessage[] = [];
    await bus.consume({ groupId: 'registry', topic: TOPICS.commands, handler: async (m) => void received.push(m) });
    await bus.publish(TOPICS.commands, [{ key: 'k', value: '{"type":"X"}', headers: {} }], { publishedBy: 'evaluator' });
    expect(received).toEqual([expect.objectContaining({ key: 'k', value: '{"type":"X"}', publishedBy: 'evaluator' })]);
    await expect(bus.publish(TOPICS.events, [])).rejects.toThrow(/event log itself/);
  });
});
