import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@mrw/messaging/testing';
import { freePort, ServiceProcess } from './service-process';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const ADMIN = 'crash-admin-token-0123456789abcdef';

/** The built suite (embedded mode) killed in the middle of an evaluation, then restarted. */
describe('a crash in the middle of an evaluation', () => {
  let suite: ServiceProcess;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${suite.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const upload = async (path: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.url}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: form });
    return (await response.json()) as any;
  };

  afterAll(async () => {
    await suite?.stop();
  });

  it('re-runs the evaluation after the restart and records exactly one result', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrw-eval-crash-'));
    suite = new ServiceProcess('suite', await freePort(), { MRW_DATA_DIR: dir, MRW_ADMIN_TOKEN: ADMIN, MRW_EVALUATOR_THREADS: '1' }, dir);
    await suite.start({ MRW_CRASH_AT: 'evaluator:before-result' });
    await suite.ready();

    await upload('/evaluation-sets/holdout/versions', {
      file: new Blob([readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'))]),
      manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
    });
    const artifact = await upload('/artifacts', { file: new Blob([readFileSync(join(FIXTURES, 'breast-cancer-logreg.onnx'))]) });
    await call('POST', '/models', { name: 'fragile' });
    await call('PUT', '/models/fragile/policy', { evaluation: { set: 'holdout' } });
    await call('POST', '/models/fragile/versions', { source: artifact.uri });
    // Entering Staging starts the evaluation; the process dies before reporting its result.
    await call('POST', '/models/fragile/versions/1/transitions', { toStage: 'Staging' }).catch(() => undefined);
    expect(await suite.waitForExit()).toBe('SIGKILL');

    await suite.start();
    await suite.ready();
    const evaluation = await eventually(
      async () => {
        const state = await call('GET', '/models/fragile/versions/1');
        return state.body.evaluations?.[0]?.status === 'completed' ? state.body.evaluations[0] : undefined;
      },
      { timeoutMs: 60_000, what: 'the re-run evaluation' },
    );
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.95);
    const audit = await call('GET', '/models/fragile/versions/1/audit');
    expect(audit.body.events.filter((e: { type: string }) => e.type === 'EvaluationCompleted')).toHaveLength(1);
    expect(audit.body.events.filter((e: { type: string }) => e.type === 'EvaluationRequested')).toHaveLength(1);
  });
});
