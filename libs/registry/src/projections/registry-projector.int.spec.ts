import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '@mrw/event-store';
import { testEvent } from '@mrw/event-store/testing';
import { eventually } from '@mrw/messaging/testing';
import { Readiness } from '@mrw/platform';
import { auditIndexFileOf, openAuditIndex, openReadModel, READ_MODEL_SCHEMA_VERSION } from './read-model.database';
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

  /** A projector on `db` starts from the log's beginning and ends up with the churn model. */
  const expectBuiltFromEmpty = async (store: SqliteEventStore, db: Database.Database): Promise<void> => {
    const rebuilt = new RegistryProjector(store, db, new Readiness());
    expect(rebuilt.checkpoint).toBe(0n);
    rebuilt.onApplicationBootstrap();
    await rebuilt.caughtUp();
    expect(db.prepare(`SELECT name FROM models`).all()).toEqual([{ name: 'churn' }]);
    await rebuilt.onApplicationShutdown();
    await store.close();
  };

  it('keeps the audit index in a file of its own, indexed for searches, and keeps following the log', async () => {
    const store = await logWithChurn();
    const projector = new RegistryProjector(store, openReadModel(join(dir, 'read-model.sqlite')), new Readiness());
    // The audit index's own file, next to the read model's.
    const db = projector.auditIndex;
    expect(db.name).toBe(join(dir, 'read-model.audit-index.sqlite'));
    const indexes = () => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND name LIKE 'audit_by_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    projector.onApplicationBootstrap();
    await projector.caughtUp();
    expect(indexes()).toEqual(['audit_by_actor', 'audit_by_model', 'audit_by_time', 'audit_by_type']);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM audit WHERE model = ? ORDER BY position`).all('churn') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toContain('audit_by_model');
    const appended = await store.appendToStream('model-churn', [testEvent('ModelDescriptionChanged', { description: 'x' })], { expectedRevision: 0 });
    await projector.waitFor(appended.position);
    // A search brings the audit index up to the log's head first.
    await projector.auditCaughtUp();
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
    // The markers are made before the first batch is read, the audit index's too (its writer's
    // thread turns its syncing off on its own connection).
    expect(existsSync(`${file}.building`)).toBe(true);
    expect(existsSync(`${auditIndexFileOf(file)}.building`)).toBe(true);
    expect(db.pragma('synchronous', { simple: true })).toBe(0);
    await projector.caughtUp();
    expect(existsSync(`${file}.building`)).toBe(false);
    expect(existsSync(`${auditIndexFileOf(file)}.building`)).toBe(false);
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
    await expectBuiltFromEmpty(store, db);
  });

  it('starts a read model of another schema version over in a new file, without the old tables or their space', async () => {
    const store = await logWithChurn();
    const file = join(dir, 'read-model.sqlite');
    // A read model as an older release left it: another schema version, a table this one
    // does not know, and pages of data.
    const old = new Database(file);
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE retired (blob BLOB)`);
    old.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(READ_MODEL_SCHEMA_VERSION - 1));
    const insert = old.prepare(`INSERT INTO retired (blob) VALUES (?)`);
    for (let n = 0; n < 64; n += 1) insert.run(Buffer.alloc(16_384, n));
    old.close();
    const oldSize = statSync(file).size;
    expect(oldSize).toBeGreaterThan(1_000_000);

    const db = openReadModel(file);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'retired'`).all() as unknown[]).length;
    expect(tables).toBe(0);
    expect(db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get()).toEqual({ value: String(READ_MODEL_SCHEMA_VERSION) });
    expect(db.pragma('page_count', { simple: true }) as number).toBeLessThan(oldSize / 16_384);
    await expectBuiltFromEmpty(store, db);
  });
});

describe('RegistryProjector following the log', () => {
  let dir: string;
  let store: SqliteEventStore;
  const file = () => join(dir, 'read-model.sqlite');
  const auditRows = (projector: RegistryProjector) => (projector.auditIndex.prepare(`SELECT COUNT(*) AS n FROM audit`).get() as { n: number }).n;
  const describe = (n: number) =>
    store.appendToStream('model-churn', [testEvent('ModelDescriptionChanged', { description: `d${n}` })], { expectedRevision: n });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-projector-'));
    store = new SqliteEventStore({ file: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    await store.appendToStream('model-churn', [testEvent('ModelCreated', { model: 'churn', description: '', tags: {} })], { expectedRevision: 'no_stream' });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const started = async (db = openReadModel(file())): Promise<{ projector: RegistryProjector; db: ReturnType<typeof openReadModel> }> => {
    const projector = new RegistryProjector(store, db, new Readiness());
    projector.onApplicationBootstrap();
    await projector.caughtUp();
    return { projector, db };
  };

  it('writes the audit index on its own: gathered without a search, at once for one', async () => {
    const { projector } = await started();
    let last = await describe(0);
    await projector.waitFor(last.position);
    // Nobody searches: it is written within its lag all the same.
    await eventually(async () => projector.auditCheckpoint >= last.position, { what: 'the audit index written without a search' });
    expect(auditRows(projector)).toBe(2);
    for (let n = 1; n <= 5; n += 1) last = await describe(n);
    await projector.auditCaughtUp();
    expect(projector.auditCheckpoint).toBe(last.position);
    expect(auditRows(projector)).toBe(7);
    await projector.onApplicationShutdown();
  });

  it('loses nothing of the audit index across a stop, whether it had gathered the events or not', async () => {
    const { projector } = await started();
    const last = await describe(0);
    await projector.waitFor(last.position);
    // Stopped at once: what it gathered is written at the stop, what it had not is read again at the start.
    await projector.onApplicationShutdown();
    const again = new RegistryProjector(store, openReadModel(file()), new Readiness());
    expect(again.checkpoint).toBe(last.position);
    again.onApplicationBootstrap();
    await again.caughtUp();
    expect(again.auditCheckpoint).toBe(last.position);
    await again.onApplicationShutdown();
    const db = openReadModel(file());
    const audit = openAuditIndex(auditIndexFileOf(file()));
    expect(audit.prepare(`SELECT COUNT(*) AS n FROM audit`).get()).toEqual({ n: 2 });
    expect(db.prepare(`SELECT name, position FROM checkpoint`).safeIntegers(true).all()).toEqual([{ name: 'registry', position: last.position }]);
    expect(audit.prepare(`SELECT name, position FROM checkpoint`).safeIntegers(true).all()).toEqual([{ name: 'audit', position: last.position }]);
    db.close();
    audit.close();
  });

  it('catches an audit index left behind up to the rest before following the log', async () => {
    const { projector, db } = await started();
    const first = await describe(0);
    let last = first;
    for (let n = 1; n <= 3; n += 1) last = await describe(n);
    await projector.caughtUp();
    await projector.onApplicationShutdown();
    // As a crash before the gathered rows were written would leave it: the rest at `last`, the audit index at `first`.
    const behind = openAuditIndex(auditIndexFileOf(file()));
    behind.prepare(`DELETE FROM audit WHERE position > ?`).run(first.position);
    behind.prepare(`UPDATE checkpoint SET position = ? WHERE name = 'audit'`).run(first.position);
    behind.close();
    const again = new RegistryProjector(store, openReadModel(file()), new Readiness());
    expect([again.checkpoint, again.auditCheckpoint]).toEqual([last.position, first.position]);
    again.onApplicationBootstrap();
    await again.caughtUp();
    expect(again.auditCheckpoint).toBe(last.position);
    expect(auditRows(again)).toBe(5);
    expect(db.open).toBe(false);
    await again.onApplicationShutdown();
  });

  it('builds a missing audit index on its own while the rest goes on from its checkpoint, and the other way round', async () => {
    const { projector } = await started();
    let last = await describe(0);
    await projector.caughtUp();
    await projector.onApplicationShutdown();
    const auditFile = auditIndexFileOf(file());
    await rm(auditFile);
    const again = new RegistryProjector(store, openReadModel(file()), new Readiness());
    expect([again.checkpoint, again.auditCheckpoint]).toEqual([last.position, 0n]);
    again.onApplicationBootstrap();
    await again.caughtUp();
    expect(again.auditCheckpoint).toBe(last.position);
    expect(auditRows(again)).toBe(2);
    expect(existsSync(`${auditFile}.building`)).toBe(false);
    await again.onApplicationShutdown();
    // An audit index whose build did not finish (its marker is still there) is started over.
    await writeFile(`${auditFile}.building`, '');
    const unfinished = openAuditIndex(auditFile);
    expect([existsSync(`${auditFile}.building`), unfinished.prepare(`SELECT COUNT(*) FROM audit`).pluck().get()]).toEqual([false, 0]);
    unfinished.close();
    // A read model rebuilt (a schema bump, a lost file) leaves the audit index where it is.
    last = await describe(1);
    await rm(file());
    const rebuilt = new RegistryProjector(store, openReadModel(file()), new Readiness());
    expect(rebuilt.checkpoint).toBe(0n);
    expect(rebuilt.auditCheckpoint).toBeLessThan(last.position);
    rebuilt.onApplicationBootstrap();
    await rebuilt.caughtUp();
    expect([rebuilt.checkpoint, rebuilt.auditCheckpoint]).toEqual([last.position, last.position]);
    expect(auditRows(rebuilt)).toBe(3);
    await rebuilt.onApplicationShutdown();
  });

  it('keeps a version row as its events say, within an append and across appends, and ignores a repeated registration', async () => {
    const { projector, db } = await started();
    const version = (n: number) =>
      db.prepare(`SELECT stage, source, tags, evaluation_status, evaluation_passed, pending_approval, serving, registered_at, updated_at FROM versions WHERE model = 'churn' AND version = ?`).get(n);
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
    const event = (type: string, data: Record<string, unknown>, second: number) => {
      const e = testEvent(type, data);
      return { ...e, metadata: { ...e.metadata, occurredAt: at(second) } };
    };
    const registration = (source: string) => ({
      model: 'churn', version: 1, source, artifactDigest: null, runId: null, metrics: {}, tags: { team: 'risk' }, description: '', registeredBy: { kind: 'user', id: 'ada' },
    });
    await store.appendToStream('model-churn', [event('ModelVersionNumberReserved', { model: 'churn', version: 1 }, 1)], { expectedRevision: 0 });
    // A version's way to Staging in one append: its events reach the projection together.
    let last = await store.appendToStream(
      'modelVersion-churn@1',
      [
        event('ModelVersionRegistered', registration('s3://m/1'), 2),
        event('ModelVersionTagSet', { key: 'run', value: '7' }, 3),
        event('StageTransitioned', { fromStage: 'None', toStage: 'Staging', trigger: { kind: 'request', requestId: 'r1' } }, 4),
        event('EvaluationRequested', { evaluationId: 'e1' }, 5),
        // Not shown on the board: the row stays as the event before left it.
        event('EvaluationProgressed', { evaluationId: 'e1', rowsDone: 1, rowsTotal: 2 }, 6),
      ],
      { expectedRevision: 'no_stream' },
    );
    await projector.waitFor(last.position);
    expect(version(1)).toEqual({
      stage: 'Staging', source: 's3://m/1', tags: '{"team":"risk","run":"7"}', evaluation_status: 'running', evaluation_passed: null, pending_approval: null, serving: 0,
      registered_at: at(2), updated_at: at(5),
    });
    expect(db.prepare(`SELECT last_version, updated_at FROM models WHERE name = 'churn'`).get()).toEqual({ last_version: 1, updated_at: at(1) });
    // Later appends start from the row as written.
    last = await store.appendToStream(
      'modelVersion-churn@1',
      [
        event('EvaluationCompleted', { evaluationId: 'e1', metrics: {}, comparison: null, verdict: { passed: false, checks: [] } }, 7),
        event('ModelVersionTagRemoved', { key: 'team' }, 8),
      ],
      { expectedRevision: 4 },
    );
    await projector.waitFor(last.position);
    last = await store.appendToStream('modelVersion-churn@1', [event('DeploymentSucceeded', { deploymentId: 'd1' }, 9)], { expectedRevision: 6 });
    await projector.waitFor(last.position);
    const deployed = {
      stage: 'Staging', source: 's3://m/1', tags: '{"run":"7"}', evaluation_status: 'completed', evaluation_passed: 0, pending_approval: null, serving: 1,
      registered_at: at(2), updated_at: at(9),
    };
    expect(version(1)).toEqual(deployed);
    // A log holding a second registration (the deciders never append one) changes nothing, as before.
    last = await store.appendToStream('modelVersion-churn@1', [event('ModelVersionRegistered', registration('s3://m/other'), 10)], { expectedRevision: 7 });
    await projector.waitFor(last.position);
    expect(version(1)).toEqual(deployed);
    await projector.onApplicationShutdown();
  });

  it('answers an audit search 503 at once when the read model has stopped following the log', async () => {
    const { projector, db } = await started();
    // The read model's file is gone from under it: the next batch fails.
    db.close();
    await describe(0);
    await eventually(async () => (await projector.auditCaughtUp().then(() => undefined, (error: unknown) => error)) ?? undefined, {
      what: 'the search refused',
    }).then((error) => expect(error).toMatchObject({ code: 'READ_MODEL_BEHIND', status: 503 }));
    await projector.onApplicationShutdown();
  });

  it('stops a start that is still catching up before it follows the log, leaving a build to start over', async () => {
    const file = join(dir, 'read-model.sqlite');
    const projector = new RegistryProjector(store, openReadModel(file), new Readiness());
    projector.onApplicationBootstrap();
    await projector.onApplicationShutdown();
    expect(existsSync(`${file}.building`)).toBe(true);
    const again = new RegistryProjector(store, openReadModel(file), new Readiness());
    expect(again.checkpoint).toBe(0n);
    again.onApplicationBootstrap();
    await again.caughtUp();
    expect(again.checkpoint).toBeGreaterThan(0n);
    await again.onApplicationShutdown();
  });
});
