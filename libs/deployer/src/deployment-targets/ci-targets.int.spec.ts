import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddressPolicy, OutboundHttp, parseAllowedHosts } from '@mrw/outbound';
import { verifyWebhook } from '@mrw/platform';
import { ArgoCdTarget } from './argocd.target';
import { TargetRefusedError, TargetUnavailableError, type TargetTrigger } from './deployment-target';
import { GitHubActionsTarget } from './github-actions.target';
import { GitLabTarget } from './gitlab.target';
import { WebhookTarget } from './webhook.target';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local stand-in for GitHub, GitLab, Argo CD or a webhook receiver: records each request exactly and answers as told. */
const startReceiver = async (answer: (request: Received, res: ServerResponse) => void) => {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      answer(request, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
const env = { GH_DEPLOY_TOKEN: 'ghp_secret_value_0123456789', GITLAB_TRIGGER: 'glptt-secret-trigger', ARGOCD_TOKEN: 'argo-secret-jwt', HOOK_SECRET: 'whsec_c2VjcmV0LWZvci13ZWJob29rcw==' };
const clock = { now: () => new Date() };
const CALLBACK = 'https://mrw.example.com/api/v1/deployments/0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11/callback?token=abc.def';

const request = (settings: Record<string, unknown>): TargetTrigger => ({
  deploymentId: '0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11',
  idempotencyKey: 'churn@7/0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11',
  model: 'churn',
  version: 7,
  purpose: 'promotion',
  replacing: 6,
  environment: 'production',
  settings,
  artifactUri: 'https://models.example.com/churn-7.onnx',
  artifactDigest: 'sha256:' + 'a'.repeat(64),
  callbackUrl: CALLBACK,
  signal: new AbortController().signal,
});

const FACTS = {
  deployment_id: '0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11',
  model: 'churn',
  version: '7',
  artifact_uri: 'https://models.example.com/churn-7.onnx',
  artifact_digest: 'sha256:' + 'a'.repeat(64),
  callback_url: CALLBACK,
};

describe('deployment targets: the exact request each CI/CD system gets', () => {
  const receivers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  const receiver = async (answer: (request: Received, res: ServerResponse) => void) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };

  it('github-actions: workflow_dispatch with string inputs, bearer token and API version; 204 is accepted; what was sent hides the secrets', async () => {
    const github = await receiver((_req, res) => res.writeHead(204).end());
    const target = new GitHubActionsTarget(http, env);
    const result = await target.trigger(
      request({ repository: 'acme/churn-deploy', workflow: 'deploy.yml', ref: 'release', apiUrl: `${github.base}/`, tokenEnv: 'GH_DEPLOY_TOKEN' }),
    );
    expect(github.received).toHaveLength(1);
    const [sent] = github.received;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/repos/acme/churn-deploy/actions/workflows/deploy.yml/dispatches');
    expect(sent?.headers).toMatchObject({
      authorization: 'Bearer ghp_secret_value_0123456789',
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    });
    expect(JSON.parse(sent?.body ?? '')).toEqual({ ref: 'release', inputs: FACTS });
    expect(result).toMatchObject({ outcome: 'triggered', response: { status: 204 } });
    const shown = JSON.stringify(result);
    expect(shown).not.toContain('ghp_secret_value');
    expect(shown).not.toContain('token=abc.def');
    expect(shown).toContain('Bearer [redacted]');
  });

  it('github-actions: a 422 (unknown input, wrong ref) is a refusal; a 503 may pass; a missing token variable is a refusal that names it', async () => {
    const refusing = await receiver((_req, res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"message":"Unexpected inputs provided"}'));
    const settings = { repository: 'acme/x', workflow: 'deploy.yml', apiUrl: refusing.base, tokenEnv: 'GH_DEPLOY_TOKEN' };
    const target = new GitHubActionsTarget(http, env);
    await expect(target.trigger(request(settings))).rejects.toThrow(TargetRefusedError);
    await expect(target.trigger(request(settings))).rejects.toThrow(/answered 422: \{"message":"Unexpected inputs provided"\}/);

    const away = await receiver((_req, res) => res.writeHead(503).end('maintenance'));
    await expect(target.trigger(request({ ...settings, apiUrl: away.base }))).rejects.toThrow(TargetUnavailableError);

    await expect(target.trigger(request({ ...settings, tokenEnv: 'NOT_SET_ANYWHERE' }))).rejects.toThrow(/NOT_SET_ANYWHERE .* is not set/);
  });

  it('gitlab: the pipeline trigger API with form-encoded token, ref and variables; 201 is accepted', async () => {
    const gitlab = await receiver((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":4711,"status":"created"}'));
    const target = new GitLabTarget(http, env);
    const result = await target.trigger(request({ project: 'ml/churn-deploy', ref: 'main', apiUrl: gitlab.base, tokenEnv: 'GITLAB_TRIGGER' }));
    const [sent] = gitlab.received;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/api/v4/projects/ml%2Fchurn-deploy/trigger/pipeline');
    expect(sent?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = Object.fromEntries(new URLSearchParams(sent?.body ?? '').entries());
    expect(form).toEqual({
      token: 'glptt-secret-trigger',
      ref: 'main',
      'variables[DEPLOYMENT_ID]': FACTS.deployment_id,
      'variables[MODEL]': 'churn',
      'variables[VERSION]': '7',
      'variables[ARTIFACT_URI]': FACTS.artifact_uri,
      'variables[ARTIFACT_DIGEST]': FACTS.artifact_digest,
      'variables[CALLBACK_URL]': CALLBACK,
    });
    expect(result).toMatchObject({ outcome: 'triggered', response: { status: 201 } });
    expect(JSON.stringify(result)).not.toContain('glptt-secret-trigger');
  });

  it('argocd: sets the version parameters with a merge patch, then syncs with the deployment facts as operation infos', async () => {
    const argo = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const target = new ArgoCdTarget(http, env);
    await target.trigger(
      request({ server: argo.base, application: 'churn-prod', tokenEnv: 'ARGOCD_TOKEN', versionParameter: 'model.version', artifactParameter: 'model.uri' }),
    );
    expect(argo.received.map((r) => `${r.method} ${r.url}`)).toEqual(['PATCH /api/v1/applications/churn-prod', 'POST /api/v1/applications/churn-prod/sync']);
    for (const r of argo.received) expect(r.headers['authorization']).toBe('Bearer argo-secret-jwt');
    const patch = JSON.parse(argo.received[0]?.body ?? '');
    expect(patch).toEqual({ name: 'churn-prod', patchType: 'merge', patch: expect.any(String) });
    expect(JSON.parse(patch.patch)).toEqual({
      spec: { source: { helm: { parameters: [{ name: 'model.version', value: '7' }, { name: 'model.uri', value: FACTS.artifact_uri }] } } },
    });
    expect(JSON.parse(argo.received[1]?.body ?? '')).toEqual({
      name: 'churn-prod',
      prune: false,
      dryRun: false,
      infos: Object.entries(FACTS).map(([name, value]) => ({ name, value })),
    });
  });

  it('argocd without parameters only syncs', async () => {
    const argo = await receiver((_req, res) => res.writeHead(200).end('{}'));
    await new ArgoCdTarget(http, env).trigger(request({ server: argo.base, application: 'churn-prod', tokenEnv: 'ARGOCD_TOKEN' }));
    expect(argo.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v1/applications/churn-prod/sync']);
  });

  it('webhook: a Standard Webhooks-signed POST whose id is the deployment id, with the facts and the callback URL', async () => {
    const hook = await receiver((_req, res) => res.writeHead(202).end());
    const result = await new WebhookTarget(http, env, clock).trigger(request({ url: `${hook.base}/deploy`, secretEnv: 'HOOK_SECRET' }));
    const [sent] = hook.received;
    expect(sent?.url).toBe('/deploy');
    expect(sent?.headers['webhook-id']).toBe(FACTS.deployment_id);
    expect(verifyWebhook(env.HOOK_SECRET, sent?.headers ?? {}, sent?.body ?? '', new Date())).toMatchObject({ ok: true });
    expect(verifyWebhook('whsec_b3RoZXI=', sent?.headers ?? {}, sent?.body ?? '', new Date())).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(JSON.parse(sent?.body ?? '')).toEqual({
      type: 'deployment.requested',
      timestamp: expect.any(String),
      data: {
        deploymentId: FACTS.deployment_id,
        idempotencyKey: 'churn@7/0b7c2c5e-5d1a-4c3e-9f57-2f0a6c1d9e11',
        model: 'churn',
        version: 7,
        environment: 'production',
        purpose: 'promotion',
        replacing: 6,
        artifact: { uri: FACTS.artifact_uri, digest: FACTS.artifact_digest },
        callbackUrl: CALLBACK,
      },
    });
    expect(result).toMatchObject({ outcome: 'triggered', response: { status: 202 } });
  });

  it('refuses an address the outbound guard does not allow, before sending anything', async () => {
    const strict = new OutboundHttp({ policy: new AddressPolicy() });
    const github = await receiver((_req, res) => res.writeHead(204).end());
    await expect(
      new GitHubActionsTarget(strict, env).trigger(request({ repository: 'a/b', workflow: 'w.yml', apiUrl: github.base, tokenEnv: 'GH_DEPLOY_TOKEN' })),
    ).rejects.toThrow(/address is refused/);
    expect(github.received).toEqual([]);
  });
});
