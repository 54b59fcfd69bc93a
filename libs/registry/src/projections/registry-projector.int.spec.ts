import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@mrw/event-store';
import { testEvent } from '@mrw/event-store/testing';
import { Readiness } from '@mrw/platform';
import { openReadModel } from './read-model.database';
import { RegistryProjector } from './registry-projector';

describe('RegistryProjector rebuilding from an empty read model', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-projector-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('indexes the audit table once it has caught up, and keeps following the log', async () => {
    const store = new SqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    await store.appendToStream('model-churn', [testEvent('ModelCreated', { model: 'churn', description: '', tags: {} })], { expectedRevision: 'no_stream' });
    const db = openReadModel(join(dir, 'read-model.sqlite'));
    const indexes = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND name LIKE 'audit_by_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    // Left out of the fresh schema: built in one pass after the bulk load.
    expect(indexes()).toEqual([]);
    const projector = new RegistryProjector(store, db, new Readiness());
    projector.onApplicationBootstrap();
    await projector.caughtUp();
    expect(indexes()).toEqual(['audit_by_actor', 'audit_by_model', 'audit_by_time', 'audit_by_type']);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM audit WHERE model = ? ORDER BY position`).all('churn') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toContain('audit_by_model');
    const appended = await store.appendToStream('model-churn', [testEvent('ModelDescriptionChanged', { description: 'x' })], { expectedRevision: 0 });
    await projector.waitFor(appended.position);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM audit WHERE model = 'churn'`).get()).toEqual({ n: 2 });
    await projector.onApplicationShutdown();
    await store.close();
  });
});
