import { PermanentError } from '@mrw/resilience';
import { SqliteEventStore } from '@mrw/event-store';
import type { MessageBus, OutgoingMessage } from '@mrw/messaging';
import { Metrics, Readiness, type SuiteConfig } from '@mrw/platform';
import { LogForwarder } from './log-forwarder';

/** A bus whose `ensureTopics` fails as told before it succeeds, and which keeps what is published. */
const busFailingFirst = (failures: unknown[]) => {
  const published: Array<{ topic: string; messages: readonly OutgoingMessage[] }> = [];
  let ensureCalls = 0;
  const bus = {
    ensureTopics: async () => {
      ensureCalls += 1;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
    },
    publish: async (topic: string, messages: readonly OutgoingMessage[]) => {
      published.push({ topic, messages });
    },
  } as unknown as MessageBus;
  return { bus, published, ensureCalls: () => ensureCalls };
};

/** What kafkajs throws while a broker that has just started does not serve a topic's metadata yet. */
const notHostedYet = (): Error =>
  Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', retriable: true, type: 'UNKNOWN_TOPIC_OR_PARTITION' });

describe('the log forwarder starting against a broker that is not ready yet', () => {
  let store: SqliteEventStore;
  beforeEach(() => {
    store = new SqliteEventStore({ file: ':memory:', pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
  });

  const forwarderWith = (bus: MessageBus): LogForwarder =>
    new LogForwarder(store, bus, { bus: 'kafka' } as SuiteConfig, new Metrics(), new Readiness());

  it('waits out "does not host this topic-partition" and then forwards the log (it used to end the process)', async () => {
    const { bus, published, ensureCalls } = busFailingFirst([notHostedYet(), notHostedYet()]);
    await store.appendToStream(
      'model-fraud',
      [{ type: 'ModelCreated', data: { name: 'fraud' }, metadata: { eventId: '0190a7c2-0000-7000-8000-000000000001', occurredAt: new Date().toISOString(), actor: { kind: 'user', id: 'a' }, correlationId: 'c', causationId: null, schemaVersion: 1 } }],
      { expectedRevision: 'no_stream' },
    );
    const forwarder = forwarderWith(bus);
    await forwarder.onApplicationBootstrap();
    await forwarder.caughtUp();
    expect(ensureCalls()).toBe(3);
    expect(published.flatMap((p) => p.messages)).toHaveLength(1);
    await forwarder.onApplicationShutdown();
  });

  it('does not retry a permanent refusal: the start fails with it', async () => {
    const refused = new PermanentError('topic authorization failed');
    const { bus, ensureCalls } = busFailingFirst([refused]);
    await expect(forwarderWith(bus).onApplicationBootstrap()).rejects.toBe(refused);
    expect(ensureCalls()).toBe(1);
  });
});
