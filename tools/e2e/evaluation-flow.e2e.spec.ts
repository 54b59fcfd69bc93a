import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const reference = JSON.parse(readFileSync(join(FIXTURES, 'reference-metrics.json'), 'utf8')) as {
  evaluations: Array<{ model: string; set: string; metrics: Record<string, number | number[][]> }>;
};
const expected = (model: string) => reference.evaluations.find((e) => e.model === model)?.metrics ?? {};

/** Embedded mode with the evaluator: real scikit-learn models, the real breast-cancer holdout. */
describe('automated evaluation on entering Staging', () => {
  let suite: RegistryHarness;

  const multipart = async (path: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.adminToken}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const file = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);

  const register = async (model: string, fixture: string): Promise<number> => {
    const artifact = await multipart('/api/v1/artifacts', { file: file(fixture) });
    const version = await suite.http('POST', `/api/v1/models/${model}/versions`, { body: { source: artifact.body.uri } });
    expect(version.status).toBe(201);
    return version.body.version as number;
  };

  const evaluated = (model: string, version: number) =>
    eventually(
      async () => {
        const state = await suite.http('GET', `/api/v1/models/${model}/versions/${version}`);
        const evaluation = state.body.evaluations?.[state.body.evaluations.length - 1];
        return evaluation && evaluation.status !== 'running' ? evaluation : undefined;
      },
      { timeoutMs: 60_000, what: `the evaluation of ${model}@${version}` },
    );

  beforeAll(async () => {
    suite = await startRegistry({ modules: [EvaluatorModule], env: { MRW_EVALUATOR_THREADS: '1' } });
  });

  afterAll(async () => {
    await suite.close();
  });

  it('stores evaluation sets by content: the same bytes are the same version', async () => {
    const manifest = readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8');
    const first = await multipart('/api/v1/evaluation-sets/bc-holdout/versions', { file: file('breast-cancer-holdout.csv'), manifest });
    const again = await multipart('/api/v1/evaluation-sets/bc-holdout/versions', { file: file('breast-cancer-holdout.csv'), manifest });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ version: 1, rows: 171, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), format: 'csv' });
    expect(again.body).toEqual(first.body);
    const parquet = await multipart('/api/v1/evaluation-sets/bc-parquet/versions', { file: file('breast-cancer-holdout.zstd.parquet'), manifest });
    expect(parquet.body).toMatchObject({ version: 1, rows: 171, format: 'parquet' });
    const listed = await suite.http('GET', '/api/v1/evaluation-sets/bc-holdout');
    expect(listed.body.versions).toHaveLength(1);
  });

  it('refuses a set that does not match its manifest, with the reason', async () => {
    const bad = await multipart('/api/v1/evaluation-sets/broken/versions', {
      file: new Blob(['a,b,label\n1,NaN,0\n']),
      manifest: JSON.stringify({ task: 'binary', label: 'label' }),
    });
    expect([bad.status, bad.body.code]).toEqual([422, 'SET_NAN_IN_FEATURES']);
    const noLabel = await multipart('/api/v1/evaluation-sets/broken/versions', {
      file: new Blob(['a,b\n1,2\n']),
      manifest: JSON.stringify({ task: 'binary', label: 'label' }),
    });
    expect([noLabel.status, noLabel.body.code]).toEqual([422, 'SET_UNKNOWN_COLUMN']);
    const manifest = await multipart('/api/v1/evaluation-sets/broken/versions', {
      file: new Blob(['a,label\n1,0\n']),
      manifest: JSON.stringify({ task: 'ordinal', label: 'label' }),
    });
    expect([manifest.status, manifest.body.code]).toEqual([422, 'INVALID_MANIFEST']);
    expect((await suite.http('GET', '/api/v1/evaluation-sets/broken')).status).toBe(404);
  });

  it('evaluates a good model to the reference metrics, and the gates open an approval', async () => {
    await suite.http('POST', '/api/v1/models', { body: { name: 'cancer' } });
    await suite.http('PUT', '/api/v1/models/cancer/policy', {
      body: { evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 }, roc_auc: { threshold: 0.95 } } } },
    });
    const v1 = await register('cancer', 'breast-cancer-logreg.onnx');
    const staged = await suite.http('POST', `/api/v1/models/cancer/versions/${v1}/transitions`, { body: { toStage: 'Staging' } });
    expect(staged.body.request.status).toBe('evaluating');

    const evaluation = await evaluated('cancer', v1);
    const reference = expected('breast-cancer-logreg');
    expect(evaluation.status).toBe('completed');
    expect(evaluation.set.digest).toMatch(/^sha256:/);
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'f1_macro', 'roc_auc', 'log_loss', 'business_kpi']) {
      expect(evaluation.metrics[metric]).toBeCloseTo(reference[metric] as number, 5);
    }
    expect(evaluation.details.confusionMatrix).toEqual(reference['confusion_matrix']);
    expect(evaluation.verdict.passed).toBe(true);
    expect(evaluation.progress).toEqual({ rowsDone: 171, rowsTotal: 171 });

    const promotion = await suite.http('POST', `/api/v1/models/cancer/versions/${v1}/transitions`, { body: { toStage: 'Production' } });
    expect(promotion.body.request.status).toBe('awaiting-approval');
  });

  it('refuses the promotion of a worse model with the failing checks and their numbers', async () => {
    const v = await register('cancer', 'breast-cancer-worse.onnx');
    await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
    const evaluation = await evaluated('cancer', v);
    expect(evaluation.metrics.accuracy).toBeCloseTo(expected('breast-cancer-worse')['accuracy'] as number, 5);
    expect(evaluation.verdict.passed).toBe(false);
    const promotion = await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Production' } });
    expect(promotion.body.request.status).toBe('refused');
    expect(promotion.body.request.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ metric: 'accuracy', rule: 'threshold', passed: false, expected: 0.9 })]),
    );
  });

  it.each([
    ['a corrupt model file', 'not an onnx model at all', 'MODEL_UNREADABLE'],
    ['a ZipMap export', readFileSync(join(FIXTURES, 'breast-cancer-logreg-zipmap.onnx')), 'ZIPMAP_OUTPUT'],
    ['a model for other features', readFileSync(join(FIXTURES, 'diabetes-ridge.onnx')), 'INPUT_MISMATCH'],
  ])('records %s as a failed evaluation with its reason, and keeps the promotion blocked', async (_, bytes, code) => {
    const artifact = await multipart('/api/v1/artifacts', { file: new Blob([bytes]) });
    const version = await suite.http('POST', '/api/v1/models/cancer/versions', { body: { source: artifact.body.uri } });
    const v = version.body.version as number;
    await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
    const evaluation = await evaluated('cancer', v);
    expect(evaluation).toMatchObject({ status: 'failed', code });
    expect(evaluation.reason).toEqual(expect.any(String));
    const promotion = await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Production' } });
    expect(promotion.body.request.status).toBe('refused');
  });
});
