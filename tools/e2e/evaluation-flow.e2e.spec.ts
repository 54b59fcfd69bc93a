import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { RegistryCommands } from '@mrw/platform';
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
    // The models served over HTTP below are on loopback, which outbound calls refuse unless allowed.
    suite = await startRegistry({ modules: [EvaluatorModule], env: { MRW_EVALUATOR_THREADS: '1', MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
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

  it('fails the evaluation with UNKNOWN_SET when the policy names a set nobody uploaded', async () => {
    await suite.http('POST', '/api/v1/models', { body: { name: 'orphan' } });
    await suite.http('PUT', '/api/v1/models/orphan/policy', { body: { evaluation: { set: 'never-uploaded' } } });
    const v = await register('orphan', 'breast-cancer-logreg.onnx');
    await suite.http('POST', `/api/v1/models/orphan/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
    expect(await evaluated('orphan', v)).toMatchObject({
      status: 'failed',
      code: 'UNKNOWN_SET',
      reason: 'no evaluation set named never-uploaded has been uploaded',
    });
  });

  it('compares a candidate with the serving champion on the same rows, and applies the change rule', async () => {
    await suite.http('POST', '/api/v1/models', { body: { name: 'duel' } });
    await suite.http('PUT', '/api/v1/models/duel/policy', {
      body: {
        evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 }, f1: { minAbsoluteChange: 0 } } },
        approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
      },
    });
    // v1 becomes the champion: evaluated, promoted without approvers, deployed.
    const v1 = await register('duel', 'breast-cancer-logreg.onnx');
    await suite.http('POST', `/api/v1/models/duel/versions/${v1}/transitions`, { body: { toStage: 'Staging' } });
    await evaluated('duel', v1);
    const promoted = await suite.http('POST', `/api/v1/models/duel/versions/${v1}/transitions`, { body: { toStage: 'Production' } });
    expect(promoted.body.request.status).toBe('deploying');
    const deploymentId = promoted.body.request.deploymentId as string;
    const deployer = suite.app.get(RegistryCommands);
    for (const [type, data] of [
      ['RecordDeploymentStarted', { deploymentId, environment: 'production', target: 'local' }],
      ['RecordDeploymentSucceeded', { deploymentId, endpoint: 'http://models.internal/duel' }],
    ] as const) {
      await deployer.send('deployer', { commandId: randomUUID(), type, model: 'duel', version: v1, data, correlationId: randomUUID(), causationId: null });
    }
    expect((await suite.http('GET', '/api/v1/models/duel')).body.servingVersion).toBe(v1);

    const v2 = await register('duel', 'breast-cancer-gbt.onnx');
    await suite.http('POST', `/api/v1/models/duel/versions/${v2}/transitions`, { body: { toStage: 'Staging' } });
    const evaluation = await evaluated('duel', v2);
    expect(evaluation.championVersion).toBe(v1);
    // The per-threshold curves of both models, as the version page draws them.
    const trapezoidArea = (x: number[], y: number[]) => x.reduce((area, xi, i) => (i === 0 ? 0 : area + ((xi - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2), 0);
    const curvesMatch = (curves: any, rocAuc: number) => {
      expect(curves.roc.fpr.length).toBeLessThanOrEqual(200);
      expect(curves.pr.precision.length).toBeLessThanOrEqual(200);
      expect([curves.roc.thresholds[0], curves.pr.thresholds.at(-1)]).toEqual([null, null]);
      expect(Math.abs(trapezoidArea(curves.roc.fpr, curves.roc.tpr) - rocAuc)).toBeLessThan(0.01);
    };
    curvesMatch(evaluation.details.curves, evaluation.metrics.roc_auc);
    curvesMatch(evaluation.details.championCurves, evaluation.details.championMetrics.roc_auc);
    expect(evaluation.comparison).toMatchObject({ championVersion: v1, bootstrap: { resamples: 1000, seed: expect.any(Number) } });
    const f1 = evaluation.comparison.metrics.f1;
    expect(f1.candidate).toBeCloseTo(expected('breast-cancer-gbt')['f1'] as number, 5);
    expect(f1.champion).toBeCloseTo(expected('breast-cancer-logreg')['f1'] as number, 5);
    expect(f1.difference).toBeCloseTo(f1.candidate - f1.champion, 12);
    expect(f1.ci.lower).toBeLessThanOrEqual(f1.difference);
    expect(f1.ci.upper).toBeGreaterThanOrEqual(f1.difference);
    expect(evaluation.comparison.mcnemar.pValue).toBeGreaterThan(0.05);
    expect(evaluation.verdict.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ metric: 'f1', rule: 'min_absolute_change', passed: false })]),
    );

    const side = await suite.http('GET', `/api/v1/models/duel/compare?versions=${v1},${v2}`);
    expect(side.status).toBe(200);
    expect(side.body.set.digest).toBe(evaluation.set.digest);
    expect(side.body.metrics.accuracy).toEqual({
      [String(v1)]: expect.closeTo(expected('breast-cancer-logreg')['accuracy'] as number, 5),
      [String(v2)]: expect.closeTo(expected('breast-cancer-gbt')['accuracy'] as number, 5),
    });
    const bad = await suite.http('GET', '/api/v1/models/duel/compare?versions=1');
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  describe('models served over HTTP', () => {
    let server: Server;
    let base: string;
    const model = readFileSync(join(FIXTURES, 'breast-cancer-logreg.onnx'));
    let busyAnswers = 0;

    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/model.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
        else if (req.url === '/busy.onnx' && (busyAnswers += 1) <= 3) res.writeHead(busyAnswers === 2 ? 429 : 503).end('try later');
        else if (req.url === '/busy.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
        else res.writeHead(404).end('not here');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('evaluates a model fetched over HTTP, from a host the operator allows, against its declared digest', async () => {
      const digest = `sha256:${createHash('sha256').update(model).digest('hex')}`;
      const version = await suite.http('POST', '/api/v1/models/cancer/versions', { body: { source: `${base}/model.onnx`, artifactDigest: digest } });
      expect(version.status).toBe(201);
      const v = version.body.version as number;
      await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
      expect(await evaluated('cancer', v)).toMatchObject({ status: 'completed' });
    });

    it('retries a source that answers 503 and 429 (not now) until it answers, instead of failing the evaluation', async () => {
      const version = await suite.http('POST', '/api/v1/models/cancer/versions', { body: { source: `${base}/busy.onnx` } });
      const v = version.body.version as number;
      await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
      expect(await evaluated('cancer', v)).toMatchObject({ status: 'completed' });
      expect(busyAnswers).toBe(4);
    });

    it.each([
      ['a digest that does not match the bytes', '/model.onnx', `sha256:${'0'.repeat(64)}`, 'DIGEST_MISMATCH'],
      ['a missing file', '/gone.onnx', undefined, 'FETCH_FAILED'],
    ])('fail the evaluation for %s', async (_, path, digest, code) => {
      const version = await suite.http('POST', '/api/v1/models/cancer/versions', {
        body: { source: `${base}${path}`, ...(digest ? { artifactDigest: digest } : {}) },
      });
      const v = version.body.version as number;
      await suite.http('POST', `/api/v1/models/cancer/versions/${v}/transitions`, { body: { toStage: 'Staging' } });
      expect(await evaluated('cancer', v)).toMatchObject({ status: 'failed', code });
    });
  });
});
