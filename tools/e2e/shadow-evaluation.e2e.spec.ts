import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');

/**
 * Shadow evaluation (`policy.deployment.shadow`): a version entering Staging is served in the
 * local runtime's `shadow` environment and the evaluator scores it through that Open Inference
 * Protocol endpoint; the metrics equal in-process scoring of the same model on the same set.
 */
describe('shadow evaluation through the local runtime', () => {
  let suite: RegistryHarness;

  const multipart = async (path: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${suite.adminToken}` }, body: form });
    return (await response.json()) as any;
  };
  const file = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);

  const model = async (name: string, policy: Record<string, unknown>) => {
    await suite.http('POST', '/api/v1/models', { body: { name } });
    expect((await suite.http('PUT', `/api/v1/models/${name}/policy`, { body: policy })).status).toBe(200);
  };
  const register = async (name: string, bytes: Blob): Promise<number> => {
    const artifact = await multipart('/api/v1/artifacts', { file: bytes });
    const version = await suite.http('POST', `/api/v1/models/${name}/versions`, { body: { source: artifact.uri } });
    expect(version.status).toBe(201);
    return version.body.version as number;
  };
  const toStaging = async (name: string, version: number) => {
    expect((await suite.http('POST', `/api/v1/models/${name}/versions/${version}/transitions`, { body: { toStage: 'Staging' } })).status).toBe(202);
  };
  const evaluated = (name: string, version: number) =>
    eventually(
      async () => {
        const state = await suite.http('GET', `/api/v1/models/${name}/versions/${version}`);
        const evaluation = state.body.evaluations?.at(-1);
        return evaluation && evaluation.status !== 'running' ? evaluation : undefined;
      },
      { timeoutMs: 90_000, what: `the evaluation of ${name}@${version}` },
    );

  const shadowPolicy = {
    evaluation: { set: 'holdout' },
    approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
    deployment: { targets: [{ kind: 'local', environment: 'production' }], shadow: true },
  };

  beforeAll(async () => {
    suite = await startRegistry({ modules: [EvaluatorModule, DeployerModule], env: { MRW_EVALUATOR_THREADS: '1' } });
    const set = await multipart('/api/v1/evaluation-sets/holdout/versions', {
      file: file('breast-cancer-holdout.csv'),
      manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
    });
    expect(set.rows).toBeGreaterThan(100);
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('scores the candidate through the shadow endpoint, with exactly the metrics of in-process scoring', async () => {
    await model('shadowed', shadowPolicy);
    await model('in-process', { evaluation: { set: 'holdout' } });
    const viaShadow = await register('shadowed', file('breast-cancer-logreg.onnx'));
    const inProcess = await register('in-process', file('breast-cancer-logreg.onnx'));
    await toStaging('shadowed', viaShadow);
    await toStaging('in-process', inProcess);

    const shadow = await evaluated('shadowed', viaShadow);
    const local = await evaluated('in-process', inProcess);
    expect(shadow.status).toBe('completed');
    expect(local.status).toBe('completed');
    // Which way each ran is on the record.
    expect(shadow.scoring).toEqual({ candidate: { via: 'shadow', environment: 'shadow', endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) }, champion: null });
    expect(shadow.shadow).toMatchObject({ environment: 'shadow', status: 'ready', endpoint: shadow.scoring.candidate.endpoint });
    expect(local.scoring).toEqual({ candidate: { via: 'in-process' }, champion: null });
    // The same model on the same rows: identical numbers, not merely close ones.
    expect(shadow.metrics).toEqual(local.metrics);
    expect(shadow.details).toEqual(local.details);
    expect(shadow.set).toEqual(local.set);

    // The shadow environment serves the candidate; nothing about serving in production changed.
    const ready = await fetch(`${shadow.scoring.candidate.endpoint}/v2/models/shadowed/versions/${viaShadow}/ready`);
    expect(ready.status).toBe(200);
    expect((await suite.http('GET', '/api/v1/models/shadowed')).body.servingVersion ?? null).toBeNull();
    const audit = await suite.http('GET', `/api/v1/models/shadowed/versions/${viaShadow}/audit`);
    const types = (audit.body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['EvaluationRequested', 'ShadowDeploymentReady', 'EvaluationCompleted']));
    expect(types.filter((t) => t === 'ShadowDeploymentReady')).toHaveLength(1);
  });

  it('scores a challenger through the shadow endpoint and the serving champion in-process, on the same rows', async () => {
    const champion = 1;
    const promoted = await suite.http('POST', `/api/v1/models/shadowed/versions/${champion}/transitions`, { body: { toStage: 'Production' } });
    expect(promoted.body.request.status).toBe('deploying');
    await eventually(async () => (await suite.http('GET', '/api/v1/models/shadowed')).body.servingVersion === champion, { timeoutMs: 60_000, what: 'v1 serving' });

    const challenger = await register('shadowed', file('breast-cancer-gbt.onnx'));
    await toStaging('shadowed', challenger);
    const evaluation = await evaluated('shadowed', challenger);
    expect(evaluation.status).toBe('completed');
    expect(evaluation.scoring).toMatchObject({ candidate: { via: 'shadow', environment: 'shadow' }, champion: { via: 'in-process' } });
    expect(evaluation.comparison.championVersion).toBe(champion);
    expect(evaluation.details.championMetrics.accuracy).toBeGreaterThan(0.9);
  });

  it('fails the evaluation with SHADOW_DEPLOYMENT_FAILED when the candidate cannot be served', async () => {
    await model('unservable', shadowPolicy);
    const version = await register('unservable', new Blob([Buffer.from('this is not an ONNX model')]));
    await toStaging('unservable', version);
    const evaluation = await evaluated('unservable', version);
    expect(evaluation).toMatchObject({ status: 'failed', code: 'SHADOW_DEPLOYMENT_FAILED', shadow: { status: 'failed' } });
    expect(evaluation.reason).toMatch(/shadow environment: MODEL_UNREADABLE/);
  });
});
