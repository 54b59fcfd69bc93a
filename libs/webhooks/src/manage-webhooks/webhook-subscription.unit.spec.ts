import { evolveWebhook, settingsChanged, wantedNames, type WebhookEvent, type WebhookSubscription } from './webhook-subscription';
import { retryAfterMs } from '../deliver-webhooks/webhook-sender';

const created: WebhookEvent = {
  type: 'WebhookCreated',
  data: {
    id: 'w1',
    owner: { kind: 'user', id: 'ada' },
    url: 'enc:v1:sealed-url',
    description: 'CD',
    events: ['MODEL_VERSION_TRANSITIONED_STAGE'],
    model: 'churn',
    status: 'ACTIVE',
    secret: 'enc:v1:sealed-secret',
    startAfter: '42',
  },
};
const fold = (...events: WebhookEvent[]): WebhookSubscription | undefined =>
  events.reduce<WebhookSubscription | undefined>((s, e, i) => evolveWebhook(s, { type: e.type, data: e.data, revision: i, at: `2026-11-30T10:00:0${i}.000Z` }), undefined);

describe('a webhook subscription, folded from its stream', () => {
  it('starts healthy and active after the log position it was created at', () => {
    expect(fold(created)).toMatchObject({ id: 'w1', status: 'ACTIVE', health: 'HEALTHY', startAfter: 42n, revision: 0, deleted: false, previousSecret: null });
  });

  it('keeps the first moment it was FAILING until a success makes it HEALTHY again', () => {
    const failing = (reason: string): WebhookEvent => ({ type: 'WebhookHealthChanged', data: { health: 'FAILING', reason } });
    const state = fold(created, failing('dead letter 1'), failing('dead letter 2'));
    expect(state).toMatchObject({ health: 'FAILING', failingSince: '2026-11-30T10:00:01.000Z', healthReason: 'dead letter 2' });
    expect(fold(created, failing('x'), { type: 'WebhookHealthChanged', data: { health: 'HEALTHY', reason: 'ok' } })).toMatchObject({ health: 'HEALTHY', failingSince: null, healthReason: null });
  });

  it('keeps the previous secret beside the new one after a rotation', () => {
    const state = fold(created, { type: 'WebhookSecretRotated', data: { secret: 'enc:v1:new', previous: 'enc:v1:sealed-secret', previousUntil: '2026-12-01T00:00:00.000Z' } });
    expect(state).toMatchObject({ secret: 'enc:v1:new', previousSecret: { secret: 'enc:v1:sealed-secret', until: '2026-12-01T00:00:00.000Z' } });
  });

  it('applies only what a change changes, and marks a deletion', () => {
    const state = fold(created) as WebhookSubscription;
    expect(settingsChanged(state, { description: 'CD', events: ['MODEL_VERSION_TRANSITIONED_STAGE'], status: 'DISABLED' })).toEqual({ status: 'DISABLED' });
    expect(fold(created, { type: 'WebhookDeleted', data: {} })?.deleted).toBe(true);
  });
});

describe('which events a subscription wants', () => {
  it('names the ones it asked for, most specific first, and only for its model', () => {
    const names = ['MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', 'MODEL_VERSION_TRANSITIONED_STAGE'];
    expect(wantedNames({ events: ['MODEL_VERSION_TRANSITIONED_STAGE', 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION'], model: null }, 'churn', names)).toEqual(names);
    expect(wantedNames({ events: ['MODEL_VERSION_TRANSITIONED_STAGE'], model: 'churn' }, 'fraud', names)).toEqual([]);
    expect(wantedNames({ events: ['MODEL_VERSION_CREATED'], model: 'churn' }, 'churn', names)).toEqual([]);
  });
});

describe("a receiver's Retry-After", () => {
  const now = Date.parse('2026-11-30T10:00:00Z');
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Mon, 30 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 30 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});
