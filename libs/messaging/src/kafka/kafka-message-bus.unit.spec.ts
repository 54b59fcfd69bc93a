import { PermanentError } from '@mrw/resilience';
import { KafkaMessageBus } from './kafka-message-bus.adapter';

/** What kafkajs throws while a broker that has just started does not serve a topic's metadata yet. */
const notHostedYet = (): Error =>
  Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', retriable: true, type: 'UNKNOWN_TOPIC_OR_PARTITION' });

/** A bus whose admin client fails `createTopics` as told before it succeeds (no broker is contacted). */
const busFailingFirst = (failures: unknown[]) => {
  const bus = new KafkaMessageBus({ clientId: 'test', brokers: ['127.0.0.1:1'] });
  let creates = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [],
    createTopics: async () => {
      creates += 1;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return true;
    },
  };
  (bus as unknown as { kafka: { admin: () => typeof admin } }).kafka = { admin: () => admin };
  return { bus, creates: () => creates };
};

describe('making sure of topics on a broker that is not ready yet', () => {
  it('waits out "does not host this topic-partition" (it used to end the registry process at start)', async () => {
    const { bus, creates } = busFailingFirst([notHostedYet(), notHostedYet()]);
    await bus.ensureTopics([{ topic: 'mrw.registry.events.v1', partitions: 6 }]);
    expect(creates()).toBe(3);
  });

  it('does not retry a permanent refusal: the caller hears it at once', async () => {
    const refused = new PermanentError('topic authorization failed');
    const { bus, creates } = busFailingFirst([refused]);
    await expect(bus.ensureTopics([{ topic: 'mrw.registry.events.v1', partitions: 6 }])).rejects.toBe(refused);
    expect(creates()).toBe(1);
  });
});
