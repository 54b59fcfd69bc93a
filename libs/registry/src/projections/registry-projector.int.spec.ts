import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

  /** A log holding one event: model churn created. */
  const logWithChurn = async (): Promise<SqliteEventStore> => {
    const store = new SqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    await store.appendToStream('model-churn', [testEvent('ModelCreated', { model: 'churn', description: '', tags: {} })], { expectedRevision: 'no_stream' });
    return store;
  };

  it('indexes the audit table once it has caught up, and keeps following the log', async () => {
    const store = await logWithChurn();
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

  it('builds from empty with syncing off behind a marker, and leaves NORMAL syncing and no marker once caught up', async () => {
    const store = await logWithChurn();
    const file = join(dir, 'read-model.sqlite');
    const db = openReadModel(file);
    const projector = new RegistryProjector(store, db, new Readiness());
    projector.onApplicationBootstrap();
    // The marker is made before the first batch is read.
    expect(existsSync(`${file}.building`)).toBe(true);
    expect(db.pragma('synchronous', { simple: true })).toBe(0);
    await projector.caughtUp();
    expect(existsSync(`${file}.building`)).toBe(false);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(projector.checkpoint).toBeGreaterThan(0n);
    await projector.onApplicationShutdown();
    // Reopened, it is trusted: it goes on from its checkpoint.
    const again = new RegistryProjector(store, openReadModel(file), new Readiness());
    expect(again.checkpoint).toBe(projector.checkpoint);
    await again.onApplicationShutdown();
    await store.close();
  });

  it('starts a read model over whose build did not finish (its marker is still there)', async () => {
    const store = await logWithChurn();
    const file = join(dir, 'read-model.sqlite');
    const projector = new RegistryProjector(store, openReadModel(file), new Readiness());
    projector.onApplicationBootstrap();
    await projector.caughtUp();
    await projector.onApplicationShutdown();
    // As a power cut during a build would leave it.
    await writeFile(`${file}.building`, '');
    const db = openReadModel(file);
    expect(existsSync(`${file}.building`)).toBe(false);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM models`).get()).toEqual({ n: 0 });
    const rebuilt = new RegistryProjector(store, db, new Readiness());
    expect(rebuilt.checkpoint).toBe(0n);
    rebuilt.onApplicationBootstrap();
    await rebuilt.caughtUp();
    expect(db.prepare(`SELECT name FROM models`).all()).toEqual([{ name: 'churn' }]);
    await rebuilt.onApplicationShutdown();
    await store.close();
  });
});
