import { createServer, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@mrw/approvals/testing';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { WebhookDeliveries, WebhooksModule } from '@mrw/webhooks';

/**
 * Stage-transition webhooks end to end, against real local HTTP receivers: signed deliveries
 * (verified with the `standardwebhooks` package, an independent implementation), retries with
 * the same `webhook-id`, order after an outage, dead letters with their history, redelivery,
 * test messages, replays, secret rotation, scopes, and refused addresses.
 */
describe('stage-transition webhooks', () => {
  let suite: RegistryHarness;
  let receiver: HttpReceiver;
  let answer: (request: ReceivedRequest, res: ServerResponse) => void;

  const ok = (_request: ReceivedRequest, res: ServerResponse) => res.writeHead(200).end('thanks');
  const subscribe = async (body: Record<string, unknown>, token?: string) => suite.http('POST', '/api/v1/webhooks', { body: { url: `${receiver.base}/hook`, ...body }, ...(token ? { token } : {}) });
  const createVersion = async (model: string): Promise<number> => {
    const registered = await suite.http('POST', `/api/v1/models/${model}/versions`, { body: { source: `https://models.example.com/${model}.onnx` } });
    expect(registered.status).toBe(201);
    return registered.body.version as number;
  };
  const toStaging = async (model: string, version: number) =>
    expect((await suite.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Staging' } })).status).toBe(202);
  const messagesFor = (model: string) => receiver.received.filter((r) => (JSON.parse(r.body) as { model_name?: string }).model_name === model);
  const caughtUp = () => suite.app.get(WebhookDeliveries).caughtUp();

  beforeAll(async () => {
    answer = ok;
    receiver = await startHttpReceiver((request, res) => answer(request, res));
    suite = await startRegistry({ modules: [WebhooksModule], env: { MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', MRW_WEBHOOK_MAX_AGE: 'PT6S' } });
    for (const name of ['churn', 'fraud', 'quiet', 'flaky', 'dead', 'scoped']) await suite.http('POST', '/api/v1/models', { body: { name } });
  });

  afterAll(async () => {
    await suite?.close();
    await receiver?.close();
  });

  beforeEach(() => {
    answer = ok;
  });

  it('delivers a stage transition once per matching subscription, signed, in the Databricks shape, with the audit ids', async () => {
    const created = await subscribe({ events: ['MODEL_VERSION_TRANSITIONED_STAGE'], model: 'churn', description: 'CD' });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    const other = await subscribe({ events: ['MODEL_VERSION_TRANSITIONED_STAGE'], model: 'fraud', secret: 'whsec_b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVzISE=' });
    expect(other.status).toBe(201);

    const version = await createVersion('churn');
    await toStaging('churn', version);
    await caughtUp();
    const [message, ...more] = messagesFor('churn');
    expect(more).toEqual([]);
    const verified = new Webhook(secret).verify(message!.body, {
      'webhook-id': message!.headers['webhook-id'] as string,
      'webhook-timestamp': message!.headers['webhook-timestamp'] as string,
      'webhook-signature': message!.headers['webhook-signature'] as string,
    }) as Record<string, unknown>;
    expect(verified).toMatchObject({
      event: 'MODEL_VERSION_TRANSITIONED_STAGE',
      webhook_id: created.body.id,
      model_name: 'churn',
      version: String(version),
      from_stage: 'None',
      to_stage: 'Staging',
      event_type: 'StageTransitioned',
      stream: `modelVersion-churn@${version}`,
    });
    expect(typeof verified['text']).toBe('string');
    // The ids tie the delivery to the audit trail.
    const audit = await suite.http('GET', `/api/v1/models/churn/versions/${version}/audit`);
    const transitioned = (audit.body.events as Array<{ type: string; eventId: string; revision: number }>).find((e) => e.type === 'StageTransitioned');
    expect(verified['event_id']).toBe(transitioned?.eventId);
    // The other subscription is about another model: nothing for it.
    expect(receiver.received.filter((r) => (JSON.parse(r.body) as { webhook_id: string }).webhook_id === other.body.id)).toEqual([]);
    // The secret is write-only, the URL shown as its origin only.
    const shown = await suite.http('GET', `/api/v1/webhooks/${created.body.id}`);
    expect(shown.body).toMatchObject({ url: `${receiver.base}/…`, events: ['MODEL_VERSION_TRANSITIONED_STAGE'], status: 'ACTIVE', health: 'HEALTHY' });
    expect(JSON.stringify(shown.body)).not.toContain(secret.slice(6));
    expect(JSON.stringify((await suite.http('GET', '/api/v1/webhooks')).body)).not.toContain('/hook');
  });

  it('retries a receiver answering 503 with the same webhook-id, honouring Retry-After, and keeps the history', async () => {
    const created = await subscribe({ events: ['MODEL_VERSION_CREATED'], model: 'flaky' });
    let calls = 0;
    answer = (_request, res) => {
      calls += 1;
      if (calls <= 2) res.writeHead(503, { 'retry-after': '1' }).end('busy');
      else res.writeHead(200).end('ok');
    };
    const before = receiver.received.length;
    await createVersion('flaky');
    await caughtUp();
    const messages = receiver.received.slice(before);
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((m) => m.headers['webhook-id'])).size).toBe(1);
    const deliveries = await suite.http('GET', `/api/v1/webhooks/${created.body.id}/deliveries`);
    expect(deliveries.body.total).toBe(1);
    const [delivery] = deliveries.body.items;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, event: 'MODEL_VERSION_CREATED', webhookId: messages[0]!.headers['webhook-id'] });
    expect(delivery.history.map((a: { status: number }) => a.status)).toEqual([503, 503, 200]);
    expect(delivery.history[0].excerpt).toBe('busy');
    // Retry-After: 1 was honoured between the attempts.
    expect(Date.parse(delivery.history[1].at) - Date.parse(delivery.history[0].at)).toBeGreaterThanOrEqual(1000);
  });

  it('delivers in order once a receiver that was down comes back', async () => {
    const late = await startHttpReceiver();
    const port = late.port;
    await late.close();
    const created = await subscribe({ events: ['MODEL_VERSION_TAG_SET'], model: 'quiet', url: `http://127.0.0.1:${port}/hook` });
    expect(created.status).toBe(201);
    const version = await createVersion('quiet');
    for (const key of ['a', 'b', 'c', 'd']) await suite.http('PUT', `/api/v1/models/quiet/versions/${version}/tags/${key}`, { body: { value: key } });
    // The receiver returns on the same port a moment later.
    const keys: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        keys.push((JSON.parse(body) as { data: { key: string } }).data.key);
        res.writeHead(204).end();
      });
    });
    await eventually(async () => (await suite.http('GET', `/api/v1/webhooks/${created.body.id}/deliveries`)).body.items[0]?.attempts >= 1, { what: 'a failed attempt' });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    try {
      await caughtUp();
      expect(keys).toEqual(['a', 'b', 'c', 'd']);
      expect((server.address() as AddressInfo).port).toBe(port);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('dead-letters a delivery a receiver refuses past the maximum age, flags the subscription FAILING, and redelivers it on request', async () => {
    const created = await subscribe({ events: ['MODEL_VERSION_CREATED'], model: 'dead' });
    answer = (_request, res) => res.writeHead(500).end('boom');
    await createVersion('dead');
    await caughtUp();
    const dead = await suite.http('GET', `/api/v1/webhooks/${created.body.id}/deliveries?status=dead`);
    expect(dead.body.total).toBe(1);
    const [delivery] = dead.body.items;
    expect(delivery.history.length).toBeGreaterThanOrEqual(2);
    expect(delivery.history.every((a: { status: number; excerpt: string }) => a.status === 500 && a.excerpt === 'boom')).toBe(true);
    const flagged = await suite.http('GET', `/api/v1/webhooks/${created.body.id}`);
    expect(flagged.body).toMatchObject({ health: 'FAILING', healthReason: expect.stringContaining('dead-lettered') });

    answer = ok;
    const redelivered = await suite.http('POST', `/api/v1/webhooks/${created.body.id}/deliveries/${delivery.id}/redeliver`);
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toMatchObject({ kind: 'redelivery', status: 'delivered', webhookId: delivery.webhookId });
    expect(receiver.received.at(-1)?.headers['webhook-id']).toBe(delivery.webhookId);
  });

  it('sends a test message and replays history since a moment, in order, with new webhook-ids', async () => {
    const since = new Date().toISOString();
    const created = await subscribe({ events: ['MODEL_VERSION_TRANSITIONED_STAGE'], model: 'scoped' });
    const tested = await suite.http('POST', `/api/v1/webhooks/${created.body.id}/test`, { body: {} });
    expect(tested.body).toMatchObject({ kind: 'test', status: 'delivered', attempts: 1 });
    expect((JSON.parse(receiver.received.at(-1)!.body) as { text: string }).text).toMatch(/^\[test\]/);

    const first = await createVersion('scoped');
    const second = await createVersion('scoped');
    await toStaging('scoped', first);
    await toStaging('scoped', second);
    await caughtUp();
    const live = messagesFor('scoped').filter((m) => (JSON.parse(m.body) as { event_id: string }).event_id !== '00000000-0000-4000-8000-000000000000');
    expect(live.map((m) => (JSON.parse(m.body) as { version: string }).version)).toEqual([String(first), String(second)]);

    const replay = await suite.http('POST', `/api/v1/webhooks/${created.body.id}/replay`, { body: { since } });
    expect(replay.status).toBe(202);
    await eventually(async () => (await suite.http('GET', `/api/v1/webhooks/${created.body.id}/deliveries`)).body.items.filter((d: { kind: string }) => d.kind === 'replay').length === 2, {
      what: 'the replayed deliveries',
    });
    const replayed = messagesFor('scoped').slice(-2);
    expect(replayed.map((m) => (JSON.parse(m.body) as { event_id: string }).event_id)).toEqual(live.map((m) => (JSON.parse(m.body) as { event_id: string }).event_id));
    expect(replayed.map((m) => m.headers['webhook-id'])).not.toEqual(live.map((m) => m.headers['webhook-id']));
  });

  it('signs with the new and the previous secret during a rotation', async () => {
    const oldSecret = 'whsec_b2xkLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm';
    const newSecret = 'whsec_bmV3LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm';
    const created = await subscribe({ events: ['MODEL_VERSION_CREATED'], model: 'fraud', secret: oldSecret });
    const rotated = await suite.http('PATCH', `/api/v1/webhooks/${created.body.id}`, { body: { secret: newSecret, secretOverlap: 'PT1H' } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.previousSecretUntil).toEqual(expect.any(String));
    const before = receiver.received.length;
    await createVersion('fraud');
    await caughtUp();
    const message = receiver.received.slice(before).find((m) => (JSON.parse(m.body) as { webhook_id: string }).webhook_id === created.body.id)!;
    const headers = { 'webhook-id': message.headers['webhook-id'] as string, 'webhook-timestamp': message.headers['webhook-timestamp'] as string, 'webhook-signature': message.headers['webhook-signature'] as string };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(message.body, headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(message.body, headers)).not.toThrow();
  });

  it('refuses link-local and private addresses that are not allowed, and holds contributors to their models', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://10.0.0.7/hook', 'http://[::ffff:169.254.169.254]/']) {
      const refused = await suite.http('POST', '/api/v1/webhooks', { body: { url, events: ['MODEL_VERSION_CREATED'] } });
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('WEBHOOK_URL_REFUSED');
    }
    const count = (await suite.http('GET', '/api/v1/webhooks')).body.total;
    const carol = await suite.token('carol', ['contributor'], ['churn']);
    expect((await subscribe({ events: ['MODEL_VERSION_CREATED'] }, carol)).status).toBe(403);
    expect((await subscribe({ events: ['MODEL_VERSION_CREATED'], model: 'fraud' }, carol)).status).toBe(403);
    const own = await subscribe({ events: ['MODEL_VERSION_CREATED'], model: 'churn' }, carol);
    expect(own.status).toBe(201);
    const seen = await suite.http('GET', '/api/v1/webhooks', { token: carol });
    expect(seen.body.items.every((w: { model: string }) => w.model === 'churn')).toBe(true);
    const fraudHook = (await suite.http('GET', '/api/v1/webhooks')).body.items.find((w: { model: string }) => w.model === 'fraud');
    expect((await suite.http('GET', `/api/v1/webhooks/${fraudHook.id}`, { token: carol })).status).toBe(404);
    const viewer = await suite.token('vic', ['viewer']);
    expect((await suite.http('GET', '/api/v1/webhooks', { token: viewer })).status).toBe(403);
    expect((await suite.http('GET', '/api/v1/webhooks')).body.total).toBe(count + 1);
    // Subscriptions live in private streams: not in the audit trail.
    const audit = await suite.http('GET', '/api/v1/audit?type=WebhookCreated');
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([]);
  });
});

describe('webhook URLs without an allow-list', () => {
  let suite: RegistryHarness;

  beforeAll(async () => {
    suite = await startRegistry({ modules: [WebhooksModule] });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('refuses loopback and metadata addresses when MRW_OUTBOUND_ALLOWED_HOSTS does not allow them, and keeps nothing', async () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9000/']) {
      const refused = await suite.http('POST', '/api/v1/webhooks', { body: { url, events: ['MODEL_VERSION_CREATED'] } });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', detail: expect.stringContaining('MRW_OUTBOUND_ALLOWED_HOSTS') });
    }
    expect((await suite.http('GET', '/api/v1/webhooks')).body.total).toBe(0);
  });
});
