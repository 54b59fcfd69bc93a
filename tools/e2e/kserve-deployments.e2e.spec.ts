import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { parse } from 'yaml';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@mrw/approvals/testing';
import { DeployerModule } from '@mrw/deployer';
import { eventually } from '@mrw/messaging/testing';
import { projectionsCaughtUp, SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const TOKEN_ENV = 'MRW_E2E_KUBE_TOKEN';
const KUBE_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.e2e-kube-service-account';
const ENDPOINT = 'https://churn.ml.example.com';

/**
 * The kserve target through the whole pipeline (registry, approval, deployer) in embedded mode.
 * A real cluster cannot run here (no container engine), so a local stand-in plays the Kubernetes
 * API server with KServe: it answers server-side apply with the InferenceService and a status
 * the test scripts. Apply mode: the deployer retries until KServe reports Ready and the version
 * serves on `status.url`; a 403 fails the deployment. GitOps mode: the manifest is shown and
 * served as YAML, and the callback URL in it completes the deployment.
 */
describe('kserve deployments: applied through the Kubernetes API, or handed to GitOps', () => {
  let dataDir: string;
  let kube: HttpReceiver;
  let answer: (request: ReceivedRequest, res: ServerResponse) => void;
  let suite: RegistryHarness | undefined;

  const start = async (): Promise<RegistryHarness> => {
    suite = await startRegistry({ dataDir, clock: new SkippingClock(), modules: [DeployerModule], env: { MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    return suite;
  };

  const createModel = async (harness: RegistryHarness, model: string, settings: Record<string, unknown>) => {
    expect((await harness.http('POST', '/api/v1/models', { body: { name: model } })).status).toBe(201);
    const policy = await harness.http('PUT', `/api/v1/models/${model}/policy`, {
      body: { approval: { Production: { required: 0, reviewers: [], expiresIn: 'P1D' } }, deployment: { targets: [{ kind: 'kserve', environment: 'production', settings }] } },
    });
    expect(policy.status).toBe(200);
  };

  const promote = async (harness: RegistryHarness, model: string): Promise<{ version: number; deploymentId: string }> => {
    const registered = await harness.http('POST', `/api/v1/models/${model}/versions`, {
      body: { source: `https://models.example.com/${model}.onnx`, artifactDigest: `sha256:${'c'.repeat(64)}` },
    });
    expect(registered.status).toBe(201);
    const version = registered.body.version as number;
    expect((await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Staging' } })).status).toBe(202);
    expect((await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Production' } })).status).toBe(202);
    const deploymentId = (await harness.http('GET', `/api/v1/models/${model}/versions/${version}`)).body.deployments[0].id as string;
    return { version, deploymentId };
  };

  const until = (harness: RegistryHarness, deploymentId: string, status: string) =>
    eventually(async () => (await harness.http('GET', `/api/v1/deployments/${deploymentId}`)).body.status === status, {
      timeoutMs: 30_000,
      what: `deployment ${deploymentId} ${status}`,
    });

  /** The InferenceService as the API server answers an apply: the manifest, generation 1, and a status. */
  const isvc = (body: string, status: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(body), metadata: { ...JSON.parse(body).metadata, generation: 1 }, status });
  const notReady = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'PredictorNotReady' }] };
  const ready = { observedGeneration: 1, url: ENDPOINT, conditions: [{ type: 'Ready', status: 'True' }] };

  beforeAll(() => {
    process.env[TOKEN_ENV] = KUBE_TOKEN;
  });
  afterAll(() => {
    delete process.env[TOKEN_ENV];
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-kserve-'));
    answer = (_request, res) => res.writeHead(500).end();
    kube = await startHttpReceiver((request, res) => answer(request, res));
  });

  afterEach(async () => {
    await suite?.close();
    suite = undefined;
    await kube.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('applies the InferenceService, retries while KServe reports it not ready, and serves the version on status.url', async () => {
    const harness = await start();
    await createModel(harness, 'churn', { namespace: 'ml', apiServer: kube.base, tokenEnv: TOKEN_ENV });
    // Not ready on the first two applies, Ready on the third.
    answer = (request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(isvc(request.body, kube.received.length < 3 ? notReady : ready));
    const { version, deploymentId } = await promote(harness, 'churn');

    await until(harness, deploymentId, 'succeeded');
    expect(kube.received).toHaveLength(3);
    for (const r of kube.received) {
      expect(`${r.method} ${r.url}`).toBe('PATCH /apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/churn?fieldManager=mrw-deployer&force=true');
      expect(r.headers).toMatchObject({ authorization: `Bearer ${KUBE_TOKEN}`, 'content-type': 'application/apply-patch+yaml' });
      expect(r.body).toBe(kube.received[0]?.body);
    }
    expect(JSON.parse(kube.received[0]?.body ?? '').metadata.annotations['mrw/deployment-id']).toBe(deploymentId);
    expect((await harness.http('GET', '/api/v1/models/churn')).body).toMatchObject({ servingVersion: version });

    const viewer = await harness.token('vic', ['viewer']);
    const detail = await harness.http('GET', `/api/v1/deployments/${deploymentId}`, { token: viewer });
    expect(detail.body).toMatchObject({ status: 'succeeded', endpoint: ENDPOINT, target: 'kserve' });
    expect(detail.body.targets[0]).toMatchObject({
      kind: 'kserve',
      status: 'succeeded',
      attempts: 3,
      sent: { method: 'PATCH', headers: { authorization: 'Bearer [redacted]' }, body: { kind: 'InferenceService', metadata: { name: 'churn', namespace: 'ml' } } },
      reported: { outcome: 'succeeded', via: 'target', endpoint: ENDPOINT },
    });
    expect(JSON.stringify(detail.body)).not.toContain(KUBE_TOKEN);
    // The manifest route serves what was applied, without a callback (the deployer reports itself).
    const manifest = await harness.http('GET', `/api/v1/deployments/${deploymentId}/manifest`, { token: viewer });
    expect(manifest.status).toBe(200);
    expect(parse(manifest.body as string)).toEqual(JSON.parse(kube.received[0]?.body ?? ''));
  });

  it('fails the deployment when the Kubernetes API refuses (403): back to Staging, with what to fix', async () => {
    const harness = await start();
    await createModel(harness, 'fraud', { namespace: 'ml', apiServer: kube.base, tokenEnv: TOKEN_ENV });
    answer = (_request, res) =>
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'inferenceservices.serving.kserve.io "fraud" is forbidden' }));
    const { version, deploymentId } = await promote(harness, 'fraud');
    await until(harness, deploymentId, 'failed');
    const state = (await harness.http('GET', `/api/v1/models/fraud/versions/${version}`)).body;
    expect(state.stage).toBe('Staging');
    expect(state.deployments[0].reason).toMatch(
      /^kserve \(production\): kserve at .* refused to apply InferenceService ml\/fraud \(403\): inferenceservices.serving.kserve.io "fraud" is forbidden; the token's account needs get and patch/,
    );
    expect(kube.received).toHaveLength(1);
  });

  it('GitOps: nothing is applied; the manifest is shown and served as YAML, and the callback URL in it completes the deployment', async () => {
    const harness = await start();
    await createModel(harness, 'churn', { namespace: 'ml', storageUri: 's3://models/{model}/{version}/' });
    const { version, deploymentId } = await promote(harness, 'churn');
    await until(harness, deploymentId, 'started');
    expect(kube.received).toEqual([]);

    const viewer = await harness.token('vic', ['viewer']);
    const detail = await harness.http('GET', `/api/v1/deployments/${deploymentId}`, { token: viewer });
    const [target] = detail.body.targets;
    expect(target).toMatchObject({ kind: 'kserve', status: 'triggered', response: null, sent: { method: 'RENDER', url: 'kserve://ml/churn' } });
    expect(target.sent.body.spec.predictor.model).toEqual({ modelFormat: { name: 'onnx' }, protocolVersion: 'v2', storageUri: `s3://models/churn/${version}/` });
    expect(target.sent.body.metadata.annotations['mrw/callback-url']).toMatch(/callback\?token=\[redacted\]$/);

    // A viewer reads the manifest with the callback's token redacted; a deployer (the GitOps pipeline) gets the live URL.
    const shown = await harness.http('GET', `/api/v1/deployments/${deploymentId}/manifest`, { token: viewer });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parse(shown.body as string)).toEqual(target.sent.body);
    const pipeline = await harness.token('gitops-bot', ['deployer']);
    const live = await harness.http('GET', `/api/v1/deployments/${deploymentId}/manifest`, { token: pipeline });
    const callbackUrl = parse(live.body as string).metadata.annotations['mrw/callback-url'] as string;
    expect(callbackUrl).toMatch(new RegExp(`/api/v1/deployments/${deploymentId}/callback\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));

    expect((await harness.http('GET', `/api/v1/deployments/${deploymentId}/manifest?target=1`, { token: viewer })).body).toMatchObject({
      status: 404,
      code: 'MANIFEST_NOT_FOUND',
    });
    expect((await harness.http('GET', '/api/v1/deployments/00000000-0000-4000-8000-000000000000/manifest', { token: viewer })).body).toMatchObject({
      status: 404,
      code: 'DEPLOYMENT_NOT_FOUND',
    });

    // The pipeline applied it and KServe reports Ready: it reports through the URL it was given.
    const url = new URL(callbackUrl);
    const reported = await harness.http('POST', `${url.pathname}${url.search}`, { token: null, body: { status: 'succeeded', endpoint: ENDPOINT } });
    expect(reported.status).toBe(202);
    await until(harness, deploymentId, 'succeeded');
    expect((await harness.http('GET', '/api/v1/models/churn')).body).toMatchObject({ servingVersion: version });
    await projectionsCaughtUp(harness);
    expect((await harness.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('refuses a policy whose kserve settings the deployer could not use, and a token written into it', async () => {
    const harness = await start();
    expect((await harness.http('POST', '/api/v1/models', { body: { name: 'loose' } })).status).toBe(201);
    const refused = await harness.http('PUT', '/api/v1/models/loose/policy', {
      body: {
        deployment: {
          targets: [{ kind: 'kserve', environment: 'production', settings: { namespace: 'ML', apiServer: 'https://kube.example.com', token: KUBE_TOKEN, resources: { limits: { memory: '2GB' } } } }],
        },
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('INVALID_POLICY');
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'deployment.targets[0].settings.token',
      'deployment.targets[0].settings.namespace',
      'deployment.targets[0].settings.resources.limits.memory',
    ]);
    expect(JSON.stringify(refused.body)).not.toContain(KUBE_TOKEN);
  });
});
