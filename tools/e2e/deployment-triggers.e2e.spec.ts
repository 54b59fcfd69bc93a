import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@mrw/approvals/testing';
import { modelVersionStream } from '@mrw/contracts';
import { DEPLOYER_TIMERS, DeployerBusController, DeployerModule, deploymentTimerIds, DEPLOYMENT_TIMER_KINDS } from '@mrw/deployer';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { projectionsCaughtUp, SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const TOKEN_ENV = 'MRW_E2E_GITHUB_DEPLOY_TOKEN';
const GITHUB_TOKEN = 'ghp_e2e_deploy_token_0123456789abcdef';
const MINUTE = 60_000;

interface Dispatch {
  readonly ref: string;
  readonly inputs: Record<string, string>;
}

/**
 * The deployer against a local stand-in for GitHub's workflow_dispatch API, in embedded mode
 * with the registry: each deployment is triggered exactly once, the pipeline's callback
 * completes it (the serving pointer moves), a refused trigger, a failed pipeline or silence past
 * the timeout fails it (rule 4.7: back to Staging, the champion keeps serving), and neither a
 * redelivered event nor a restart triggers it twice.
 */
describe('deployment triggers: GitHub Actions, callbacks, timeouts, restarts', () => {
  let dataDir: string;
  let clock: SkippingClock;
  let github: HttpReceiver;
  let answer: (request: ReceivedRequest, res: ServerResponse) => void;
  let suite: RegistryHarness | undefined;

  const start = async (): Promise<RegistryHarness> => {
    suite = await startRegistry({ dataDir, clock, modules: [DeployerModule], env: { MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    return suite;
  };
  const timersOf = (harness: RegistryHarness): DurableTimers => harness.app.get<DurableTimers>(DEPLOYER_TIMERS, { strict: false });
  const dispatchesFor = (model: string): Dispatch[] =>
    github.received.map((r) => JSON.parse(r.body) as Dispatch).filter((d) => d.inputs['model'] === model);

  const githubTarget = { kind: 'github-actions', environment: 'production', settings: { repository: 'acme/deploy', workflow: 'deploy.yml', ref: 'main', tokenEnv: TOKEN_ENV } };

  /** A model whose Production approval needs nobody, deploying through the GitHub stand-in. */
  const createModel = async (harness: RegistryHarness, model: string): Promise<void> => {
    expect((await harness.http('POST', '/api/v1/models', { body: { name: model } })).status).toBe(201);
    const policy = await harness.http('PUT', `/api/v1/models/${model}/policy`, {
      body: {
        approval: { Production: { required: 0, reviewers: [], expiresIn: 'P1D' } },
        deployment: { targets: [{ ...githubTarget, settings: { ...githubTarget.settings, apiUrl: github.base } }] },
      },
    });
    expect(policy.status).toBe(200);
  };

  /** Registers the next version and asks for Production: right after, the registry requests its deployment. */
  const promote = async (harness: RegistryHarness, model: string): Promise<{ version: number; deploymentId: string }> => {
    const registered = await harness.http('POST', `/api/v1/models/${model}/versions`, {
      body: { source: `https://models.example.com/${model}.onnx`, artifactDigest: `sha256:${'b'.repeat(64)}` },
    });
    expect(registered.status).toBe(201);
    const version = registered.body.version as number;
    expect((await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Staging' } })).status).toBe(202);
    const production = await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Production' } });
    expect(production.body.request).toMatchObject({ status: 'deploying' });
    const deploymentId = (await versionOf(harness, model, version)).deployments[0].id as string;
    return { version, deploymentId };
  };

  const versionOf = async (harness: RegistryHarness, model: string, version: number) =>
    (await harness.http('GET', `/api/v1/models/${model}/versions/${version}`)).body;

  const deploymentStatus = async (harness: RegistryHarness, model: string, version: number, deploymentId: string): Promise<string> => {
    const found = ((await versionOf(harness, model, version)).deployments as Array<{ id: string; status: string }>).find((d) => d.id === deploymentId);
    return found?.status ?? 'unknown';
  };

  const until = (harness: RegistryHarness, model: string, version: number, deploymentId: string, status: string) =>
    eventually(async () => (await deploymentStatus(harness, model, version, deploymentId)) === status, { what: `deployment of ${model}@${version} ${status}` });

  /** The callback URL's path and query, sent to this suite (MRW_PUBLIC_URL is not set in tests). */
  const callbackPath = (dispatch: Dispatch): string => {
    const url = new URL(dispatch.inputs['callback_url'] as string);
    return `${url.pathname}${url.search}`;
  };

  const callback = (harness: RegistryHarness, path: string, body: unknown) => harness.http('POST', path, { token: null, body });

  beforeAll(() => {
    process.env[TOKEN_ENV] = GITHUB_TOKEN;
  });
  afterAll(() => {
    delete process.env[TOKEN_ENV];
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-deployer-'));
    clock = new SkippingClock();
    answer = (_request, res) => res.writeHead(204).end();
    github = await startHttpReceiver((request, res) => answer(request, res));
  });

  afterEach(async () => {
    await suite?.close();
    suite = undefined;
    await github.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('dispatches once with the deployment id and a callback; a redelivered event sends nothing; the callback makes the version serve', async () => {
    const harness = await start();
    await createModel(harness, 'churn');
    const { version, deploymentId } = await promote(harness, 'churn');

    await github.waitFor(1);
    const [request] = github.received;
    expect(request?.url).toBe('/repos/acme/deploy/actions/workflows/deploy.yml/dispatches');
    expect(request?.headers).toMatchObject({ authorization: `Bearer ${GITHUB_TOKEN}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    const [dispatch] = dispatchesFor('churn');
    expect(dispatch).toEqual({
      ref: 'main',
      inputs: {
        deployment_id: deploymentId,
        model: 'churn',
        version: String(version),
        artifact_uri: 'https://models.example.com/churn.onnx',
        artifact_digest: `sha256:${'b'.repeat(64)}`,
        callback_url: expect.stringMatching(new RegExp(`/api/v1/deployments/${deploymentId}/callback\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`)),
      },
    });
    await until(harness, 'churn', version, deploymentId, 'started');

    // The same DeploymentRequested again, as the bus would redeliver it: nothing is sent twice.
    const store = harness.app.get<EventStore>(EVENT_STORE, { strict: false });
    const requested = (await store.readStream(modelVersionStream('churn', version))).find((e) => e.type === 'DeploymentRequested');
    await harness.app.get(DeployerBusController).requested(requested as never);
    await timersOf(harness).wake();
    expect(github.received).toHaveLength(1);

    // A forged or altered token is refused and changes nothing.
    const path = callbackPath(dispatch as Dispatch);
    const forged = path.replace(/token=([^.]+)\.(.)/, (_m, claims: string, first: string) => `token=${claims}.${first === 'A' ? 'B' : 'A'}`);
    expect((await callback(harness, forged, { status: 'succeeded' })).body).toMatchObject({ status: 403, code: 'CALLBACK_TOKEN_INVALID' });
    const elsewhere = path.replace(deploymentId, '00000000-0000-4000-8000-000000000000');
    expect((await callback(harness, elsewhere, { status: 'succeeded' })).body).toMatchObject({ status: 403, code: 'CALLBACK_TOKEN_INVALID' });
    expect((await callback(harness, path, { status: 'done' })).status).toBe(400);

    const reported = await callback(harness, path, { status: 'succeeded', endpoint: 'https://churn.models.example.com/v2/models/churn' });
    expect([reported.status, reported.body]).toEqual([202, { deploymentId, target: 0, status: 'succeeded', concluded: 'succeeded' }]);
    await until(harness, 'churn', version, deploymentId, 'succeeded');
    expect((await harness.http('GET', '/api/v1/models/churn')).body).toMatchObject({ servingVersion: version });
    expect((await versionOf(harness, 'churn', version)).deployments[0]).toMatchObject({ endpoint: 'https://churn.models.example.com/v2/models/churn' });

    // Used once: a second report is refused.
    expect((await callback(harness, path, { status: 'failed', message: 'late' })).body).toMatchObject({ status: 409, code: 'CALLBACK_ALREADY_USED' });

    // The deployments API, for viewers: the list row, and what was sent without any secret.
    const viewer = await harness.token('vic', ['viewer']);
    const list = await harness.http('GET', '/api/v1/deployments?model=churn&environment=production&status=succeeded', { token: viewer });
    expect(list.body).toEqual({
      total: 1,
      items: [
        expect.objectContaining({
          id: deploymentId,
          model: 'churn',
          version,
          environment: 'production',
          target: 'github-actions',
          status: 'succeeded',
          endpoint: 'https://churn.models.example.com/v2/models/churn',
          startedAt: expect.any(String),
          finishedAt: expect.any(String),
          reason: null,
        }),
      ],
    });
    expect((await harness.http('GET', '/api/v1/deployments?model=churn&status=failed', { token: viewer })).body.total).toBe(0);
    const detail = await harness.http('GET', `/api/v1/deployments/${deploymentId}`, { token: viewer });
    expect(detail.body.targets).toEqual([
      expect.objectContaining({
        kind: 'github-actions',
        status: 'succeeded',
        attempts: 1,
        sent: expect.objectContaining({ method: 'POST', headers: expect.objectContaining({ authorization: 'Bearer [redacted]' }) }),
        response: { status: 204, answer: '' },
        reported: expect.objectContaining({ outcome: 'succeeded', via: 'callback' }),
      }),
    ]);
    const text = JSON.stringify(detail.body) + JSON.stringify(list.body);
    expect(text).not.toContain(GITHUB_TOKEN);
    expect(text).not.toContain(new URL((dispatch as Dispatch).inputs['callback_url'] as string).searchParams.get('token'));
    expect((await harness.http('GET', '/api/v1/deployments/00000000-0000-4000-8000-000000000000', { token: viewer })).status).toBe(404);

    await projectionsCaughtUp(harness);
    expect((await harness.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('a refused dispatch (4xx) and a failed pipeline fail the deployment: the candidate returns to Staging, the champion keeps serving', async () => {
    const harness = await start();
    await createModel(harness, 'fraud');
    const v1 = await promote(harness, 'fraud');
    await github.waitFor(1);
    expect((await callback(harness, callbackPath(dispatchesFor('fraud')[0] as Dispatch), { status: 'succeeded' })).status).toBe(202);
    await until(harness, 'fraud', v1.version, v1.deploymentId, 'succeeded');

    // GitHub refuses the dispatch (e.g. the workflow has no workflow_dispatch trigger).
    answer = (_request, res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"message":"Workflow does not have \'workflow_dispatch\' trigger"}');
    const v2 = await promote(harness, 'fraud');
    await until(harness, 'fraud', v2.version, v2.deploymentId, 'failed');
    const failed = await versionOf(harness, 'fraud', v2.version);
    expect(failed.stage).toBe('Staging');
    expect(failed.deployments[0].reason).toMatch(/^github-actions \(production\): .*answered 422: .*workflow_dispatch/);
    expect((await harness.http('GET', '/api/v1/models/fraud')).body).toMatchObject({ servingVersion: v1.version });
    expect(github.received).toHaveLength(2); // refused once, not retried

    // The pipeline runs but reports failure: same rule.
    answer = (_request, res) => res.writeHead(204).end();
    const v3 = await promote(harness, 'fraud');
    await github.waitFor(3);
    const reported = await callback(harness, callbackPath(dispatchesFor('fraud')[2] as Dispatch), { status: 'failed', message: 'smoke test failed: p99 latency 900 ms' });
    expect(reported.body).toMatchObject({ concluded: 'failed' });
    await until(harness, 'fraud', v3.version, v3.deploymentId, 'failed');
    const v3State = await versionOf(harness, 'fraud', v3.version);
    expect(v3State.stage).toBe('Staging');
    expect(v3State.deployments[0].reason).toBe('github-actions (production): smoke test failed: p99 latency 900 ms');
    expect((await harness.http('GET', '/api/v1/models/fraud')).body).toMatchObject({ servingVersion: v1.version });
    await projectionsCaughtUp(harness);
    expect((await harness.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('fails a deployment with no outcome within the timeout; its callback has expired by then', async () => {
    const harness = await start();
    await createModel(harness, 'silent');
    const { version, deploymentId } = await promote(harness, 'silent');
    await github.waitFor(1);
    await until(harness, 'silent', version, deploymentId, 'started');

    clock.skip(29 * MINUTE);
    await timersOf(harness).wake();
    expect(await deploymentStatus(harness, 'silent', version, deploymentId)).toBe('started');

    clock.skip(7 * MINUTE); // past the default PT30M, and past the callback's 5 minutes of grace
    expect((await callback(harness, callbackPath(dispatchesFor('silent')[0] as Dispatch), { status: 'succeeded' })).body).toMatchObject({
      status: 410,
      code: 'CALLBACK_TOKEN_EXPIRED',
    });
    await timersOf(harness).wake();
    await until(harness, 'silent', version, deploymentId, 'failed');
    const state = await versionOf(harness, 'silent', version);
    expect(state.stage).toBe('Staging');
    expect(state.deployments[0].reason).toMatch(/^DEPLOYMENT_TIMED_OUT: no outcome within PT30M \(github-actions \(production\) triggered, no callback\)$/);
    expect(github.received).toHaveLength(1);
  });

  it('a restart after the trigger was recorded, before its timer was marked done, does not dispatch again; the callback still completes it', async () => {
    const first = await start();
    await createModel(first, 'steady');
    const { version, deploymentId } = await promote(first, 'steady');
    await github.waitFor(1);
    await until(first, 'steady', version, deploymentId, 'started');
    const timerId = deploymentTimerIds.trigger(deploymentId, 0);
    await eventually(async () => timersOf(first).get(timerId)?.status === 'fired', { what: 'the trigger timer marked fired' });
    // What a kill between the run's record and the timer's "fired" leaves on disk: the trigger
    // timer pending again (moved a millisecond, as the scheduler cannot be stopped mid-run from here).
    const timer = timersOf(first).get(timerId);
    await timersOf(first).stop();
    timersOf(first).schedule(timerId, new Date(Date.parse(String(timer?.dueAt)) + 1), DEPLOYMENT_TIMER_KINDS.trigger, timer?.payload);
    await first.close({ keepData: true });
    suite = undefined;

    const restarted = await start();
    await eventually(async () => timersOf(restarted).get(timerId)?.status === 'fired', { what: 'the trigger timer fired again after the restart' });
    expect(timersOf(restarted).get(timerId)?.attempts).toBe(1);
    expect(github.received).toHaveLength(1);

    // Two reports at once with the same URL: exactly one is recorded.
    const path = callbackPath(dispatchesFor('steady')[0] as Dispatch);
    const both = await Promise.all([callback(restarted, path, { status: 'succeeded' }), callback(restarted, path, { status: 'failed', message: 'racing' })]);
    expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(both.find((r) => r.status === 202)?.body).toMatchObject({ status: 'succeeded' });
    await until(restarted, 'steady', version, deploymentId, 'succeeded');
    expect((await restarted.http('GET', '/api/v1/models/steady')).body).toMatchObject({ servingVersion: version });
    expect(github.received).toHaveLength(1);
    await projectionsCaughtUp(restarted);
    expect((await restarted.http('GET', '/api/v1/dead-letters')).body.items).toEqual([]);
  });

  it('lets a second deployment to the same environment wait until the first has an outcome, then dispatches it', async () => {
    const harness = await start();
    await createModel(harness, 'queued');
    const first = await promote(harness, 'queued');
    await eventually(async () => dispatchesFor('queued').length === 1, { what: 'the first dispatch' });
    const second = await promote(harness, 'queued');

    // The second one's trigger has run and is waiting: nothing was sent for it.
    const waiting = await eventually(
      async () => timersOf(harness).list().find((t) => t.attempts >= 1 && (t.lastError ?? '').includes(`waits for deployment ${first.deploymentId}`)),
      { what: "the second trigger waiting for the first deployment" },
    );
    expect(waiting.status).toBe('pending');
    expect(dispatchesFor('queued').map((d) => d.inputs['deployment_id'])).toEqual([first.deploymentId]);

    // The first pipeline reports; the second is dispatched after it.
    expect((await callback(harness, callbackPath(dispatchesFor('queued')[0] as Dispatch), { status: 'succeeded' })).status).toBe(202);
    await until(harness, 'queued', first.version, first.deploymentId, 'succeeded');
    await timersOf(harness).wake();
    await eventually(async () => dispatchesFor('queued').length === 2, { timeoutMs: 60_000, what: 'the second dispatch' });
    expect(dispatchesFor('queued').map((d) => d.inputs['deployment_id'])).toEqual([first.deploymentId, second.deploymentId]);
  });
});
