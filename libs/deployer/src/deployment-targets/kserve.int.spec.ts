import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AddressPolicy, OutboundHttp, parseAllowedHosts } from '@mrw/outbound';
import { failureKind } from '@mrw/resilience';
import { TargetRefusedError, TargetUnavailableError, type SentRequest, type TargetTrigger } from './deployment-target';
import { kserveSettingsOf, manifestYaml, renderInferenceService } from './kserve-manifest';
import { KServeTarget } from './kserve.target';

/**
 * The kserve target against a local stand-in for the Kubernetes API server with KServe
 * installed. A real cluster cannot run here (no container engine on the test machines), so the
 * stand-in checks each request exactly as Kubernetes documents server-side apply (method, path,
 * `fieldManager`, `force`, `application/apply-patch+yaml`, the bearer token, the manifest) and
 * answers with the InferenceService as a cluster would: `metadata.generation` and a `status`
 * the test sets (KServe's Ready condition, `observedGeneration`, `modelStatus`).
 */

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Answer = (request: Received, res: ServerResponse) => void;

const FIXTURES = join(__dirname, '..', '..', 'fixtures');
const TLS = { cert: readFileSync(join(FIXTURES, 'kube-api-test.cert.pem'), 'utf8'), key: readFileSync(join(FIXTURES, 'kube-api-test.key.pem'), 'utf8') };

const startKubeApi = async (answer: Answer, tls = false) => {
  const received: Received[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      answer(request, res);
    });
  };
  const server: Server = tls ? createHttpsServer(TLS, handler) : createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

const http = new OutboundHttp({ policy: new AddressPolicy(parseAllowedHosts('127.0.0.1')) });
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.kube-service-account-token';
const env = { KUBE_TOKEN: TOKEN, KUBE_CA: TLS.cert };
const DEPLOYMENT_ID = '0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11';
const CALLBACK = `https://mrw.example.com/api/v1/deployments/${DEPLOYMENT_ID}/callback?token=abc.def`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const APPLY_PATH = '/apis/serving.kserve.io/v1beta1/namespaces/ml-serving/inferenceservices/churn-model';

const request = (settings: Record<string, unknown>, overrides: Partial<TargetTrigger> = {}): TargetTrigger => ({
  deploymentId: DEPLOYMENT_ID,
  idempotencyKey: `Churn_Model@7/${DEPLOYMENT_ID}`,
  model: 'Churn_Model',
  version: 7,
  purpose: 'promotion',
  replacing: 6,
  environment: 'production',
  settings,
  artifactUri: 'https://models.example.com/churn-7.onnx',
  artifactDigest: DIGEST,
  callbackUrl: CALLBACK,
  signal: new AbortController().signal,
  ...overrides,
});

/** The manifest the deployer must apply for `request(applying(…))`. */
const EXPECTED_MANIFEST = {
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: {
    name: 'churn-model',
    namespace: 'ml-serving',
    labels: { 'app.kubernetes.io/managed-by': 'mrw', 'mrw/model': 'Churn_Model', 'mrw/version': '7', 'mrw/environment': 'production' },
    annotations: {
      'mrw/model': 'Churn_Model',
      'mrw/deployment-id': DEPLOYMENT_ID,
      'mrw/idempotency-key': `Churn_Model@7/${DEPLOYMENT_ID}`,
      'mrw/artifact-uri': 'https://models.example.com/churn-7.onnx',
      'mrw/artifact-digest': DIGEST,
    },
  },
  spec: {
    predictor: {
      serviceAccountName: 'model-puller',
      model: {
        modelFormat: { name: 'onnx' },
        runtime: 'kserve-onnxruntime',
        protocolVersion: 'v2',
        storageUri: 'https://models.example.com/churn-7.onnx',
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
      },
    },
  },
};

const applying = (apiServer: string, more: Record<string, unknown> = {}) => ({
  namespace: 'ml-serving',
  runtime: 'kserve-onnxruntime',
  serviceAccountName: 'model-puller',
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2, memory: '2Gi' } },
  apiServer,
  tokenEnv: 'KUBE_TOKEN',
  ...more,
});

/** The InferenceService as the API server returns it after an apply: the applied manifest, its generation and a status. */
const inferenceService = (applied: string, generation: number, status: Record<string, unknown>) => {
  const manifest = JSON.parse(applied) as { metadata: Record<string, unknown> };
  return JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, generation, uid: 'd7c1…', resourceVersion: '4711' }, status });
};

const ready = (observedGeneration: number) => ({
  observedGeneration,
  url: 'https://churn-model.ml-serving.example.com',
  address: { url: 'http://churn-model-predictor.ml-serving.svc.cluster.local' },
  conditions: [
    { type: 'PredictorReady', status: 'True' },
    { type: 'Ready', status: 'True' },
  ],
  modelStatus: { transitionStatus: 'UpToDate', states: { activeModelState: 'Loaded', targetModelState: 'Loaded' } },
});

const json = (res: ServerResponse, status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);

/** What a trigger threw. */
const thrown = async (promise: Promise<unknown>): Promise<Error & { sent?: SentRequest }> => {
  try {
    await promise;
  } catch (error) {
    return error as Error & { sent?: SentRequest };
  }
  throw new Error('the trigger did not throw');
};

describe('kserve target: an InferenceService applied through the Kubernetes API, or rendered for GitOps', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const kubeApi = async (answer: Answer, tls = false) => {
    const api = await startKubeApi(answer, tls);
    servers.push(api);
    return api;
  };
  const target = new KServeTarget(http, env);

  it('applies the manifest with server-side apply (the exact request); Ready for the applied generation → succeeded on status.url; the token is not shown', async () => {
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 3, ready(3))));
    const result = await target.trigger(request(applying(`${api.base}/`)));

    expect(api.received).toHaveLength(1);
    const [sent] = api.received;
    expect(sent?.method).toBe('PATCH');
    const url = new URL(sent?.url ?? '', api.base);
    expect(url.pathname).toBe(APPLY_PATH);
    expect(Object.fromEntries(url.searchParams)).toEqual({ fieldManager: 'mrw-deployer', force: 'true' });
    expect(sent?.headers).toMatchObject({ 'content-type': 'application/apply-patch+yaml', accept: 'application/json', authorization: `Bearer ${TOKEN}` });
    // JSON is YAML: the body is the manifest, read here as YAML the way the API server reads it.
    expect(parse(sent?.body ?? '')).toEqual(EXPECTED_MANIFEST);

    expect(result).toEqual({
      outcome: 'succeeded',
      endpoint: 'https://churn-model.ml-serving.example.com',
      sent: {
        method: 'PATCH',
        url: `${api.base}${APPLY_PATH}?fieldManager=mrw-deployer&force=true`,
        headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json', authorization: 'Bearer [redacted]' },
        body: EXPECTED_MANIFEST,
      },
    });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("is not ready while KServe reconciles (an older generation's status, then Ready False): transient, and a later trigger applies the same manifest again and succeeds", async () => {
    const statuses = [
      // The previous version's status: Ready, but for generation 2.
      ready(2),
      {
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'False', reason: 'PredictorConfigurationReady not ready', message: 'Revision churn-model-predictor-00003 is loading' }],
        modelStatus: { transitionStatus: 'InProgress', states: { activeModelState: 'Loaded', targetModelState: 'Loading' } },
      },
      ready(3),
    ];
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 3, statuses[api.received.length - 1] ?? {})));
    const settings = applying(api.base);

    const first = await thrown(target.trigger(request(settings)));
    expect(first).toBeInstanceOf(TargetUnavailableError);
    expect(failureKind(first)).toBe('transient');
    expect(first.message).toBe('InferenceService ml-serving/churn-model applied (generation 3); KServe has not reconciled it yet');

    const second = await thrown(target.trigger(request(settings)));
    expect(second).toBeInstanceOf(TargetUnavailableError);
    expect(second.message).toBe(
      'InferenceService ml-serving/churn-model is not ready yet (PredictorConfigurationReady not ready: Revision churn-model-predictor-00003 is loading)',
    );

    await expect(target.trigger(request(settings))).resolves.toMatchObject({ outcome: 'succeeded', endpoint: 'https://churn-model.ml-serving.example.com' });
    expect(api.received).toHaveLength(3);
    expect(new Set(api.received.map((r) => `${r.method} ${r.url} ${r.body}`)).size).toBe(1);
  });

  it('falls back to status.address.url when KServe gives no external URL', async () => {
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 1, { ...ready(1), url: undefined })));
    await expect(target.trigger(request(applying(api.base)))).resolves.toMatchObject({
      outcome: 'succeeded',
      endpoint: 'http://churn-model-predictor.ml-serving.svc.cluster.local',
    });
  });

  it('fails when KServe reports that the model failed to load, with its reason; an older generation that failed does not count', async () => {
    const failed = {
      observedGeneration: 4,
      conditions: [{ type: 'Ready', status: 'False', reason: 'RevisionFailed' }],
      modelStatus: {
        transitionStatus: 'BlockedByFailedLoad',
        states: { activeModelState: '', targetModelState: 'FailedToLoad' },
        lastFailureInfo: { reason: 'ModelLoadFailed', message: 'Failed to load model: [ONNXRuntimeError] INVALID_PROTOBUF' },
      },
    };
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 4, failed)));
    const error = await thrown(target.trigger(request(applying(api.base))));
    expect(error).toBeInstanceOf(TargetRefusedError);
    expect(failureKind(error)).toBe('permanent');
    expect(error.message).toBe('InferenceService ml-serving/churn-model failed to load the model: ModelLoadFailed: Failed to load model: [ONNXRuntimeError] INVALID_PROTOBUF');
    expect(error.sent).toMatchObject({ method: 'PATCH', headers: { authorization: 'Bearer [redacted]' }, body: EXPECTED_MANIFEST });

    const older = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 5, failed)));
    await expect(target.trigger(request(applying(older.base)))).rejects.toThrow(TargetUnavailableError);
  });

  it("refuses on 401, 403, 404 and 422 with the API server's message and what to fix; 429 and 503 pass", async () => {
    const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
    let answer: [number, string] = [403, ''];
    const api = await kubeApi((_req, res) => json(res, ...answer));
    const settings = applying(api.base);

    answer = [
      403,
      status(
        403,
        'Forbidden',
        'inferenceservices.serving.kserve.io "churn-model" is forbidden: User "system:serviceaccount:mrw:deployer" cannot patch resource "inferenceservices" in API group "serving.kserve.io" in the namespace "ml-serving"',
      ),
    ];
    const forbidden = await thrown(target.trigger(request(settings)));
    expect(forbidden).toBeInstanceOf(TargetRefusedError);
    expect(forbidden.message).toBe(
      `kserve at ${api.base}${APPLY_PATH} refused to apply InferenceService ml-serving/churn-model (403): ` +
        'inferenceservices.serving.kserve.io "churn-model" is forbidden: User "system:serviceaccount:mrw:deployer" cannot patch resource "inferenceservices" in API group "serving.kserve.io" in the namespace "ml-serving"' +
        "; the token's account needs get and patch on inferenceservices.serving.kserve.io in namespace ml-serving",
    );
    expect(forbidden.sent?.headers['authorization']).toBe('Bearer [redacted]');

    answer = [401, status(401, 'Unauthorized', 'Unauthorized')];
    await expect(target.trigger(request(settings))).rejects.toThrow(/\(401\): Unauthorized; the token in KUBE_TOKEN is not accepted/);
    answer = [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    await expect(target.trigger(request(settings))).rejects.toThrow(/\(404\): the server could not find the requested resource; is KServe installed/);
    answer = [422, status(422, 'Invalid', 'admission webhook "inferenceservice.kserve-webhook-server.validator" denied the request: storageUri is invalid')];
    await expect(target.trigger(request(settings))).rejects.toThrow(/\(422\): admission webhook .* denied the request: storageUri is invalid; the cluster refused the manifest/);

    answer = [429, status(429, 'TooManyRequests', 'the server has received too many requests')];
    await expect(target.trigger(request(settings))).rejects.toThrow(TargetUnavailableError);
    answer = [503, 'apiserver is shutting down'];
    await expect(target.trigger(request(settings))).rejects.toThrow(TargetUnavailableError);
    expect(api.received).toHaveLength(6);
  });

  it('trusts the cluster CA named by caCertEnv for an https API server; without it the certificate is not trusted (transient, with the reason)', async () => {
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 1, ready(1))), true);
    await expect(target.trigger(request(applying(api.base, { caCertEnv: 'KUBE_CA' })))).resolves.toMatchObject({ outcome: 'succeeded' });
    expect(api.received).toHaveLength(1);

    const untrusted = await thrown(target.trigger(request(applying(api.base))));
    expect(untrusted).toBeInstanceOf(TargetUnavailableError);
    expect(untrusted.message).toMatch(/the connection failed \(.*self[- ]signed certificate/);
    expect(api.received).toHaveLength(1);

    await expect(target.trigger(request(applying(api.base, { caCertEnv: 'NO_SUCH_CA' })))).rejects.toThrow(/NO_SUCH_CA \(named by caCertEnv\) is not set/);
  });

  it('GitOps (no apiServer): sends nothing and renders the manifest, its callback URL as an annotation (the token redacted in what is shown)', async () => {
    const settings = { namespace: 'ml', name: 'churn', storageUri: 's3://models/{model}/{version}/{digest}/', resources: { limits: { memory: '2Gi' } } };
    const result = await target.trigger(request(settings));
    expect(result).toEqual({
      outcome: 'triggered',
      response: null,
      sent: {
        method: 'RENDER',
        url: 'kserve://ml/churn',
        headers: {},
        body: {
          apiVersion: 'serving.kserve.io/v1beta1',
          kind: 'InferenceService',
          metadata: {
            name: 'churn',
            namespace: 'ml',
            labels: EXPECTED_MANIFEST.metadata.labels,
            annotations: {
              ...EXPECTED_MANIFEST.metadata.annotations,
              'mrw/callback-url': `https://mrw.example.com/api/v1/deployments/${DEPLOYMENT_ID}/callback?token=[redacted]`,
            },
          },
          spec: {
            predictor: {
              model: {
                modelFormat: { name: 'onnx' },
                protocolVersion: 'v2',
                storageUri: `s3://models/Churn_Model/7/${'a'.repeat(64)}/`,
                resources: { limits: { memory: '2Gi' } },
              },
            },
          },
        },
      },
    });
    expect(JSON.stringify(result)).not.toContain('abc.def');

    // The YAML a pipeline commits reads back as the same object, with the live callback URL when asked for it.
    const manifest = renderInferenceService(request(settings), kserveSettingsOf(settings), CALLBACK);
    const yaml = manifestYaml(manifest);
    expect(yaml).toMatch(/^apiVersion: serving.kserve.io\/v1beta1\nkind: InferenceService\n/);
    expect(parse(yaml)).toEqual(manifest);
    expect(parse(yaml).metadata.annotations['mrw/callback-url']).toBe(CALLBACK);
  });

  it('refuses, before sending anything, what it cannot render: an artifact KServe cannot fetch, {digest} without a digest, a bad setting, a missing token', async () => {
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 1, ready(1))));
    const settings = applying(api.base);
    await expect(target.trigger(request(settings, { artifactUri: `artifacts://${DIGEST}` }))).rejects.toThrow(
      /KServe cannot fetch the artifact artifacts:\/\/… of Churn_Model@7; set storageUri/,
    );
    await expect(target.trigger(request({ ...settings, storageUri: 's3://m/{digest}' }, { artifactDigest: null }))).rejects.toThrow(
      /storageUri uses \{digest\}, and Churn_Model@7 was registered without an artifact digest/,
    );
    await expect(target.trigger(request({ ...settings, namespace: 'ML_Serving' }))).rejects.toThrow(/kserve target: namespace must be a Kubernetes namespace name/);
    await expect(target.trigger(request({ ...settings, tokenEnv: 'UNSET_KUBE_TOKEN' }))).rejects.toThrow(/UNSET_KUBE_TOKEN \(named by tokenEnv\) is not set/);
    expect(api.received).toEqual([]);
  });

  it('refuses an API server the outbound guard does not allow', async () => {
    const strict = new OutboundHttp({ policy: new AddressPolicy() });
    const api = await kubeApi((req, res) => json(res, 200, inferenceService(req.body, 1, ready(1))));
    await expect(new KServeTarget(strict, env).trigger(request(applying(api.base)))).rejects.toThrow(/address is refused/);
    expect(api.received).toEqual([]);
  });
});
