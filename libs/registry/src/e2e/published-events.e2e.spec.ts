import { randomBytes } from 'node:crypto';
import { PUBLISHED_STREAM_PREFIXES, TOPICS } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { EmbeddedMessageBus, KafkaMessageBus, type IncomingMessage } from '@mrw/messaging';
import { describeWithKafka, eventually, uniqueNamespace } from '@mrw/messaging/testing';
import { TokenDirectory } from '@mrw/platform';
import { LogForwarder } from '../forward-log/log-forwarder';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** Issues tokens of every kind and returns their secrets, the admin's included. */
const issueTokens = async (registry: RegistryHarness): Promise<string[]> => [
  registry.adminToken,
  await registry.token('carol', ['contributor']),
  await registry.token('rita', ['reviewer'], ['churn']),
  (await registry.http('POST', '/api/v1/tokens', { body: { subject: 'evaluator', kind: 'service', roles: ['service'] } })).body.token,
];

/** How many events of the log leave the store (the published streams). */
const publishedCount = async (store: EventStore): Promise<number> =>
  (await store.readAll({ after: 0n, maxCount: 100_000 })).filter((e) => PUBLISHED_STREAM_PREFIXES.some((p) => e.streamName.startsWith(p))).length;

/** Every message must be free of token secrets and their verifiers, and none may come from a credential stream. */
const expectNoSecrets = (messages: readonly IncomingMessage[], secrets: readonly string[], directory: TokenDirectory): void => {
  expect(messages.some((m) => m.value.includes('"AccessTokenIssued"'))).toBe(true);
  expect(messages.filter((m) => (m.key ?? '').startsWith('tokenCredential-'))).toEqual([]);
  const text = messages.map((m) => `${m.key} ${m.value} ${JSON.stringify(m.headers)}`).join('\n');
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(directory.verifierOf(secret));
  }
};

describe('what the registry publishes carries no secret', () => {
  it('embedded bus: a consumer group receives token facts, never credentials', async () => {
    const registry = await startRegistry();
    const bus = new EmbeddedMessageBus(registry.app.get<EventStore>(EVENT_STORE));
    try {
      const secrets = await issueTokens(registry);
      const expected = await publishedCount(registry.app.get<EventStore>(EVENT_STORE));
      const received: IncomingMessage[] = [];
      const consumer = await bus.consume({ groupId: 'secrets-probe', topic: TOPICS.events, handler: async (m) => void received.push(m) });
      await eventually(async () => received.length >= expected, { what: `${expected} published events` });
      await consumer.stop();
      expectNoSecrets(received, secrets, registry.app.get(TokenDirectory));
    } finally {
      await bus.close();
      await registry.close();
    }
  });
});

describeWithKafka('what the registry publishes on Kafka carries no secret', (brokers) => {
  it('the events topic holds token facts, never credentials or secrets', async () => {
    const namespace = uniqueNamespace();
    const registry = await startRegistry({
      env: { MRW_BUS: 'kafka', KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: namespace, MRW_SECRET_KEY: randomBytes(32).toString('base64url') },
    });
    const reader = new KafkaMessageBus({ brokers, clientId: 'secrets-probe', namespace });
    try {
      const secrets = await issueTokens(registry);
      await registry.app.get(LogForwarder).caughtUp();
      const expected = await publishedCount(registry.app.get<EventStore>(EVENT_STORE));
      const received: IncomingMessage[] = [];
      const consumer = await reader.consume({ groupId: 'secrets-probe', topic: TOPICS.events, handler: async (m) => void received.push(m) });
      await eventually(async () => received.length >= expected, { what: `${expected} events on ${namespace}${TOPICS.events}` });
      await consumer.stop();
      expect(received).toHaveLength(expected);
      expectNoSecrets(received, secrets, registry.app.get(TokenDirectory));
    } finally {
      await reader.close();
      await registry.close();
    }
  });
});
