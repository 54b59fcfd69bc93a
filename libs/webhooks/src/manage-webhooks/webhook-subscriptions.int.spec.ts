import { deriveId, webhookNoticeStream, webhookStream, type WebhookDisabled } from '@mrw/contracts';
import { EventStoreUnavailableError, SqliteEventStore, type EventStore } from '@mrw/event-store';
import { Readiness, ServerSecrets, type Clock } from '@mrw/platform';
import { WebhookDirectory } from './webhook-directory';
import { WebhookSubscriptions } from './webhook-subscriptions';

const SECRET = 'whsec_c3Vic2NyaXB0aW9uLXNlY3JldC0wMTIzNDU2';
const URL_WITH_TOKEN = 'https://hooks.example.com:8443/services/T0/B0/token-in-the-path?key=k3y';
const clock: Clock = { now: () => new Date('2026-03-01T10:00:00.000Z') };

/** A store whose next append to `stream` fails as an outage would (a crash between two appends, as the caller sees it). */
const failingOnce = (store: EventStore, stream: string): EventStore => {
  let armed = true;
  return {
    appendToStream: async (name, events, options) => {
      if (armed && name === stream) {
        armed = false;
        throw new EventStoreUnavailableError(`append to ${name}`, 'unavailable');
      }
      return store.appendToStream(name, events, options);
    },
    readStream: (name, options) => store.readStream(name, options),
    readAll: (options) => store.readAll(options),
    readAt: (positions) => store.readAt(positions),
    subscribeToAll: (options) => store.subscribeToAll(options),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
};

describe('disabling a webhook subscription that kept failing', () => {
  let store: SqliteEventStore;

  beforeEach(() => {
    store = new SqliteEventStore({ file: ':memory:' });
  });

  afterEach(async () => {
    await store.close();
  });

  const subscriptionsOver = (log: EventStore): WebhookSubscriptions =>
    new WebhookSubscriptions(log, new WebhookDirectory(log, new Readiness()), clock, new ServerSecrets('a-server-secret-of-at-least-32-characters!'));

  const failingSubscription = async (subscriptions: WebhookSubscriptions): Promise<string> => {
    const { subscription } = await subscriptions.create(
      { url: URL_WITH_TOKEN, description: 'CD', events: ['MODEL_VERSION_CREATED', 'MODEL_VERSION_TAG_SET'], model: 'churn', status: 'ACTIVE' },
      SECRET,
      { kind: 'user', id: 'carol' },
    );
    await subscriptions.flag(subscription.id, 'FAILING', 'delivery d1 (MODEL_VERSION_CREATED) was dead-lettered: the receiver answered 500');
    return subscription.id;
  };

  const noticesOf = async (id: string) => store.readStream(webhookNoticeStream(id));

  it('disables it and publishes one WebhookDisabled for its owner, with the origin only and an id derived from the failing spell', async () => {
    const subscriptions = subscriptionsOver(store);
    const id = await failingSubscription(subscriptions);
    await subscriptions.disableForFailures(id, 'delivery d2 (MODEL_VERSION_TAG_SET) was dead-lettered: the receiver answered 500');

    const [notice, ...more] = await noticesOf(id);
    expect(more).toEqual([]);
    expect(notice?.type).toBe('WebhookDisabled');
    const data = notice?.data as WebhookDisabled['data'];
    expect(data).toEqual({
      webhookId: id,
      owner: { kind: 'user', id: 'carol' },
      model: 'churn',
      urlOrigin: 'https://hooks.example.com:8443',
      reason: 'delivery d2 (MODEL_VERSION_TAG_SET) was dead-lettered: the receiver answered 500',
      failingSince: '2026-03-01T10:00:00.000Z',
      events: ['MODEL_VERSION_CREATED', 'MODEL_VERSION_TAG_SET'],
    });
    // Created (revision 0), flagged FAILING (1): the disable was decided at revision 1.
    expect(notice?.metadata.eventId).toBe(deriveId(id, 'WebhookDisabled@2026-03-01T10:00:00.000Z#1'));
    expect(notice?.metadata.actor).toEqual({ kind: 'service', id: 'registry' });
    const published = JSON.stringify({ data: notice?.data, metadata: notice?.metadata });
    for (const secretPart of ['token-in-the-path', 'k3y', SECRET.slice('whsec_'.length)]) expect(published).not.toContain(secretPart);

    const disabled = (await store.readStream(webhookStream(id))).at(-1);
    expect(disabled).toMatchObject({ type: 'WebhookUpdated', data: { changes: { status: 'DISABLED' }, reason: expect.stringMatching(/^failing since 2026-03-01T10:00:00.000Z: delivery d2/) } });
  });

  it('tells nothing more when it is called again for a subscription already disabled', async () => {
    const subscriptions = subscriptionsOver(store);
    const id = await failingSubscription(subscriptions);
    await subscriptions.disableForFailures(id, 'first');
    const revision = (await store.readStream(webhookStream(id))).length;
    await subscriptions.disableForFailures(id, 'second');
    expect(await noticesOf(id)).toHaveLength(1);
    expect(await store.readStream(webhookStream(id))).toHaveLength(revision);
  });

  it('tells again when its owner turned it on again and it is disabled again, still failing', async () => {
    const subscriptions = subscriptionsOver(store);
    const id = await failingSubscription(subscriptions);
    await subscriptions.disableForFailures(id, 'first');
    await subscriptions.update(id, { status: 'ACTIVE' }, undefined, { kind: 'user', id: 'carol' });
    await subscriptions.disableForFailures(id, 'second');
    const notices = await noticesOf(id);
    expect(notices.map((n) => (n.data as WebhookDisabled['data']).reason)).toEqual(['first', 'second']);
    expect(new Set(notices.map((n) => (n.data as WebhookDisabled['data']).failingSince)).size).toBe(1);
  });

  it('neither disables nor tells a subscription that is healthy again', async () => {
    const subscriptions = subscriptionsOver(store);
    const id = await failingSubscription(subscriptions);
    await subscriptions.flag(id, 'HEALTHY', 'delivery d3 succeeded');
    await subscriptions.disableForFailures(id, 'too late');
    expect(await noticesOf(id)).toEqual([]);
    expect((await store.readStream(webhookStream(id))).at(-1)?.type).toBe('WebhookHealthChanged');
  });

  it('appends the notice once when the disable itself failed and is tried again on the next dead letter', async () => {
    const setup = subscriptionsOver(store);
    const id = await failingSubscription(setup);
    const flaky = failingOnce(store, webhookStream(id));
    const subscriptions = subscriptionsOver(flaky);
    await expect(subscriptions.disableForFailures(id, 'first')).rejects.toThrow(EventStoreUnavailableError);
    // Told already, not yet disabled: the next dead letter finishes it without telling twice.
    expect(await noticesOf(id)).toHaveLength(1);
    await subscriptions.disableForFailures(id, 'second');
    expect(await noticesOf(id)).toHaveLength(1);
    expect((await store.readStream(webhookStream(id))).at(-1)?.data).toMatchObject({ changes: { status: 'DISABLED' } });
  });
});
