import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { testEvent } from '@mrw/event-store/testing';
import { Readiness } from '@mrw/platform';
import { openReadModel } from '../projections/read-model.database';
import { RegistryProjector } from '../projections/registry-projector';
import { AuditQueries } from './audit.queries';

describe('AuditQueries: positions from the audit index, events from the log', () => {
  let dir: string;
  let store: SqliteEventStore;
  let projector: RegistryProjector;
  let db: ReturnType<typeof openReadModel>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-audit-'));
    store = new SqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    await store.appendToStream('model-churn', [testEvent('ModelCreated', { model: 'churn', description: '', tags: {} })], { expectedRevision: 'no_stream' });
    await store.appendToStream('model-fraud', [testEvent('ModelCreated', { model: 'fraud', description: '', tags: {} })], { expectedRevision: 'no_stream' });
    for (let n = 0; n < 3; n += 1) {
      await store.appendToStream('model-churn', [testEvent('ModelDescriptionUpdated', { model: 'churn', description: `d${n}` })], { expectedRevision: n });
    }
    // Private and operational streams are not audited.
    await store.appendToStream('tokenCredential-t1', [testEvent('TokenCredentialIssued', { hash: 'secret' })], { expectedRevision: 'no_stream' });
    db = openReadModel(join(dir, 'read-model.sqlite'));
    projector = new RegistryProjector(store, db, new Readiness());
    projector.onApplicationBootstrap();
    await projector.caughtUp();
  });

  afterEach(async () => {
    await projector.onApplicationShutdown();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each entry as the log holds the event, page by page', async () => {
    const audit = new AuditQueries(store, projector);
    const all = await store.readAll();
    const first = await audit.search({ model: 'churn', limit: 2 });
    expect(first.items.map((e) => [e.type, e.model, e.revision])).toEqual([
      ['ModelCreated', 'churn', 0],
      ['ModelDescriptionUpdated', 'churn', 1],
    ]);
    const created = all[0] as RecordedEvent;
    expect(first.items[0]).toEqual({
      position: Number(created.position), stream: 'model-churn', revision: 0, model: 'churn', version: null, type: 'ModelCreated',
      actor: created.metadata.actor, occurredAt: created.metadata.occurredAt, eventId: created.metadata.eventId, hash: created.metadata.hash,
      data: created.data,
    });
    const second = await audit.search({ model: 'churn', after: first.next ?? 0, limit: 2 });
    expect(second.items.map((e) => e.revision)).toEqual([2, 3]);
    const rest = await audit.search({ model: 'churn', after: second.next ?? 0, limit: 2 });
    expect(rest).toEqual({ items: [], next: null });
    // Everything but the private stream.
    expect((await audit.search({ limit: 100 })).items.map((e) => e.stream)).toEqual(['model-churn', 'model-fraud', 'model-churn', 'model-churn', 'model-churn']);
  });

  it('takes the log head the request\'s read-your-writes check read instead of reading it again, and holds what was acknowledged before it', async () => {
    const headReads = jest.spyOn(store, 'headPosition');
    const audit = new AuditQueries(store, projector);
    // Acknowledged, but still gathering for the audit index (written together every 200 ms).
    const appended = await store.appendToStream('model-fraud', [testEvent('ModelDescriptionUpdated', { model: 'fraud', description: 'x' })], { expectedRevision: 0 });
    const page = await audit.search({ model: 'fraud', limit: 10 }, appended.position);
    expect(page.items.map((e) => e.type)).toEqual(['ModelCreated', 'ModelDescriptionUpdated']);
    expect(headReads).not.toHaveBeenCalled();
    // Without one it reads the head itself.
    await audit.search({ model: 'fraud', limit: 10 });
    expect(headReads).toHaveBeenCalledTimes(1);
  });

  it('leaves out an event the store no longer holds, and still moves the cursor past it', async () => {
    const created = (await store.readAll())[0] as RecordedEvent;
    // As EventStoreDB answers for the events of a deleted stream.
    const forgetful: EventStore = Object.assign(Object.create(store) as EventStore, {
      readAt: async (positions: readonly bigint[]) => (await store.readAt(positions)).filter((e) => e.position !== created.position),
    });
    const audit = new AuditQueries(forgetful, projector);
    const page = await audit.search({ model: 'churn', limit: 2 });
    expect(page.items.map((e) => e.revision)).toEqual([1]);
    expect(page.next).not.toBeNull();
    expect((await audit.search({ model: 'churn', after: page.next ?? 0, limit: 2 })).items.map((e) => e.revision)).toEqual([2, 3]);
  });
});
