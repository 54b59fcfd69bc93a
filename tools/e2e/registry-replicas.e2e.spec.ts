import { randomBytes } from 'node:crypto';
import { PostgresEventStore, type EventStore, type SubscriptionOptions } from '@mrw/event-store';
import { describeWithPostgres, dropTestSchema, uniqueSchema } from '@mrw/event-store/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

/** How far behind the log the slow replica's read model runs. */
const LAG_MS = 600;

/**
 * A store whose projection subscription hands each batch over late: a registry replica whose
 * read model lags the log, as one does under load or right after another replica wrote.
 */
const laggingProjections = (store: EventStore): EventStore =>
  new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'subscribeToAll') return Reflect.get(target, property, receiver) as unknown;
      return (options: SubscriptionOptions) => {
        const handleBatch = options.handleBatch;
        if (options.name !== 'registry-projections' || !handleBatch) return target.subscribeToAll(options);
        return target.subscribeToAll({ ...options, handleBatch: async (events) => (await new Promise((r) => setTimeout(r, LAG_MS)), handleBatch(events)) });
      };
    },
  });

/**
 * Two registry replicas in one test process on one PostgreSQL schema (MRW_POSTGRES_URL, see
 * tools/jest/global-setup.js; else SKIPPED): a client behind a load balancer writes through
 * one and reads through the other, whose read model lags; it still reads its writes.
 */
describeWithPostgres('registry replicas sharing a PostgreSQL log', (url) => {
  const schema = uniqueSchema();
  // Replicas verify tokens with one server secret, as every process of a suite does.
  const env = { MRW_STORE: 'postgres', MRW_POSTGRES_URL: url, MRW_POSTGRES_SCHEMA: schema, MRW_SECRET_KEY: randomBytes(32).toString('base64url') };
  let writer: RegistryHarness;
  let reader: RegistryHarness;
  let readerStore: PostgresEventStore;

  beforeAll(async () => {
    writer = await startRegistry({ env });
    readerStore = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 4 });
    reader = await startRegistry({ env, eventStore: laggingProjections(readerStore) });
  });

  afterAll(async () => {
    await reader?.close();
    await readerStore?.close();
    await writer?.close();
    await dropTestSchema(url, schema);
  });

  it('lists through one replica what was just registered through the other', async () => {
    expect((await writer.http('POST', '/api/v1/models', { body: { name: 'churn' } })).status).toBe(201);
    expect((await writer.http('POST', '/api/v1/models/churn/versions', { body: { source: 'https://models.example.com/churn.onnx' } })).status).toBe(201);
    const listed = await reader.http('GET', '/api/v1/models/churn/versions');
    expect([listed.status, listed.body.total]).toEqual([200, 1]);
    expect((await reader.http('GET', '/api/v1/models?q=churn')).body.items.map((m: { name: string }) => m.name)).toEqual(['churn']);
  });

  it('finds through one replica the approval just opened through the other, and decides it', async () => {
    const carol = await writer.token('carol', ['contributor']);
    const rita = await writer.token('rita', ['reviewer']);
    expect((await writer.http('POST', '/api/v1/models', { token: carol, body: { name: 'fraud' } })).status).toBe(201);
    await writer.http('PUT', '/api/v1/models/fraud/policy', { body: { approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' } } } });
    await writer.http('POST', '/api/v1/models/fraud/versions', { token: carol, body: { source: 'https://models.example.com/fraud.onnx' } });
    await writer.http('POST', '/api/v1/models/fraud/versions/1/transitions', { token: carol, body: { toStage: 'Staging' } });
    const requested = await writer.http('POST', '/api/v1/models/fraud/versions/1/transitions', { token: carol, body: { toStage: 'Production' } });
    expect(requested.body.request.status).toBe('awaiting-approval');
    const approved = await reader.http('POST', `/api/v1/approvals/${requested.body.request.approvalId}/approve`, { token: rita, body: {} });
    expect([approved.status, approved.body.status]).toEqual([200, 'approved']);
  });
});
