import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpReceiver, type HttpReceiver } from '@mrw/approvals/testing';
import { freePort, ServiceProcess } from './service-process';

const ADMIN = 'webhook-crash-admin-token-0123456789';

/** The built suite killed (SIGKILL) right after a webhook arrived and before the delivery was recorded, then restarted. */
describe('a suite killed in the middle of a webhook delivery', () => {
  let suite: ServiceProcess | undefined;
  let receiver: HttpReceiver;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${(suite as ServiceProcess).url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const versionsDelivered = () => receiver.received.map((r) => ({ version: (JSON.parse(r.body) as { version: string }).version, id: r.headers['webhook-id'] }));

  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });

  afterAll(async () => {
    await suite?.stop();
    await receiver.close();
  });

  it('loses nothing: the delivery in flight comes once more with the same webhook-id, the next ones once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrw-webhook-crash-'));
    suite = new ServiceProcess('suite', await freePort(), { MRW_DATA_DIR: dir, MRW_ADMIN_TOKEN: ADMIN, MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' }, dir);
    await suite.start({ MRW_CRASH_AT: 'webhooks:after-send' });
    await suite.ready();
    expect((await call('POST', '/models', { name: 'hooked' })).status).toBe(201);
    expect((await call('POST', '/webhooks', { url: `${receiver.base}/hook`, events: ['MODEL_VERSION_CREATED'], model: 'hooked' })).status).toBe(201);
    await call('POST', '/models/hooked/versions', { source: 'https://models.example.com/1.onnx' }).catch(() => undefined);
    expect(await suite.waitForExit()).toBe('SIGKILL');
    expect(versionsDelivered().map((d) => d.version)).toEqual(['1']);

    await suite.start();
    await suite.ready();
    await receiver.waitFor(2);
    expect((await call('POST', '/models/hooked/versions', { source: 'https://models.example.com/2.onnx' })).status).toBe(201);
    await receiver.waitFor(3);
    const delivered = versionsDelivered();
    expect(delivered.map((d) => d.version)).toEqual(['1', '1', '2']);
    expect(delivered[1]?.id).toBe(delivered[0]?.id);
    const hooks = await call('GET', '/webhooks');
    const deliveries = await call('GET', `/webhooks/${hooks.body.items[0].id}/deliveries`);
    expect(deliveries.body.items.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered']);
  });
});
