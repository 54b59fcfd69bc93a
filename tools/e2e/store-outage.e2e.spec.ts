import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { EvaluatorModule } from '@mrw/evaluator';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import { Metrics, RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const OUTAGE_MS = 15_000;

/**
 * A second process that takes the event store's write lock when told to ("lock" on stdin),
 * holds it for `ms` and lets go: every writer of the suite is refused (SQLITE_BUSY) meanwhile,
 * as when the store is away.
 */
const lockHolder = (file: string, ms: number): ChildProcess =>
  spawn(
    process.execPath,
    [
      '-e',
      `const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(file)});
       process.stdin.once('data', () => {
         db.exec('BEGIN IMMEDIATE');
         process.stdout.write('locked\\n');
         setTimeout(() => { db.exec('COMMIT'); db.close(); process.exit(0); }, ${ms});
       });`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );

/** Embedded mode: the store goes away for 15 s in the middle of an evaluation. */
describe('the event store away for 15 s mid-flow', () => {
  let suite: RegistryHarness;

  beforeAll(async () => {
    suite = await startRegistry({ modules: [EvaluatorModule], env: { MRW_EVALUATOR_THREADS: '1' } });
  });

  afterAll(async () => {
    await suite?.close();
  });

  const upload = async (path: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${suite.adminToken}` }, body: form });
    return (await response.json()) as any;
  };
  const fixture = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);

  it('records the evaluation once afterwards, retrying meanwhile (visible in /readyz and /metrics), with nothing dead-lettered', async () => {
    await upload('/api/v1/evaluation-sets/bc/versions', {
      file: fixture('breast-cancer-holdout.csv'),
      manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
    });
    await suite.http('POST', '/api/v1/models', { body: { name: 'outage' } });
    await suite.http('PUT', '/api/v1/models/outage/policy', { body: { evaluation: { set: 'bc', thresholds: { accuracy: { threshold: 0.9 } } } } });
    const artifact = await upload('/api/v1/artifacts', { file: fixture('breast-cancer-logreg.onnx') });
    expect((await suite.http('POST', '/api/v1/models/outage/versions', { body: { source: artifact.uri } })).status).toBe(201);

    // The store goes away at the moment the evaluator first reports back to the registry.
    const holder = lockHolder(join(suite.dataDir, 'events.sqlite'), OUTAGE_MS);
    const commands = suite.app.get(RegistryCommands);
    const send = commands.send.bind(commands);
    let lockedAt = 0;
    jest.spyOn(commands, 'send').mockImplementation(async (service, command) => {
      if (lockedAt === 0) {
        holder.stdin?.write('lock\n');
        await once(holder.stdout!, 'data');
        lockedAt = Date.now();
      }
      return send(service, command);
    });
    const released = once(holder, 'exit');

    expect((await suite.http('POST', '/api/v1/models/outage/versions/1/transitions', { body: { toStage: 'Staging' } })).status).toBe(202);
    const retrying = await eventually(
      async () => {
        const ready = await fetch(`${suite.baseUrl}/readyz`).then((r) => r.json() as Promise<{ checks: Array<{ name: string; detail?: string }> }>);
        return ready.checks.find((c) => c.name === 'mrw-registry-consumer' && c.detail?.includes('retrying'));
      },
      { timeoutMs: OUTAGE_MS, intervalMs: 200, what: "/readyz showing the registry's consumer retrying" },
    );
    expect(retrying.detail).toMatch(/retrying RecordEvaluation\w+ .*transient failure/);
    await released;
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(OUTAGE_MS - 100);

    const evaluation = await eventually(
      async () => {
        const state = await suite.http('GET', '/api/v1/models/outage/versions/1');
        const last = state.body.evaluations?.[0];
        return last?.status === 'completed' ? last : undefined;
      },
      { timeoutMs: 60_000, what: 'the evaluation recorded after the outage' },
    );
    expect(evaluation.verdict.passed).toBe(true);
    const store = suite.app.get<EventStore>(EVENT_STORE);
    const completed = (await store.readStream('modelVersion-outage@1')).filter((e) => e.type === 'EvaluationCompleted');
    expect(completed).toHaveLength(1);
    expect((await suite.http('GET', '/api/v1/dead-letters?status=all')).body.total).toBe(0);
    const retries = (await suite.app.get(Metrics).consumerRetries.get()).values.find(
      (v) => v.labels['group'] === 'mrw-registry' && v.labels['kind'] === 'transient',
    );
    expect(retries?.value).toBeGreaterThan(0);
    const ready = await fetch(`${suite.baseUrl}/readyz`).then((r) => r.json() as Promise<{ checks: Array<{ name: string; detail?: string }> }>);
    expect(ready.checks.find((c) => c.name === 'mrw-registry-consumer')?.detail).toBeUndefined();
  });
});
