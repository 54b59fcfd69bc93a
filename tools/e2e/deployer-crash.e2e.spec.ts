import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@mrw/approvals/testing';
import { eventually } from '@mrw/messaging/testing';
import { freePort, ServiceProcess } from './service-process';

const ADMIN = 'deployer-crash-admin-token-0123456789';
const TOKEN_ENV = 'MRW_E2E_GITHUB_TOKEN';
const GITHUB_TOKEN = 'ghp_crash_test_token_0123456789abcdef';

interface Dispatch {
  readonly ref: string;
  readonly inputs: Record<string, string>;
}

/**
 * The built suite killed (SIGKILL, from its fault hook) right after a GitHub `workflow_dispatch`
 * left and before the deployer recorded it, then restarted. A stand-in for GitHub's API keeps
 * the runs a dispatch starts, titled as the workflow's `run-name` renders them, and checks the
 * exact requests GitHub would get.
 */
describe('a deployer killed between a dispatch and its record', () => {
  let suite: ServiceProcess | undefined;
  let github: HttpReceiver;
  /** The workflow's `run-name`, rendered from a dispatch's inputs (GitHub shows it as the run's `display_title`). */
  let runName: (inputs: Record<string, string>) => string;
  const runs: Array<{ id: number; display_title: string; event: string; created_at: string }> = [];

  const answer = (request: ReceivedRequest, res: import('node:http').ServerResponse): void => {
    if (request.headers['authorization'] !== `Bearer ${GITHUB_TOKEN}`) return void res.writeHead(401).end('{"message":"Bad credentials"}');
    const url = new URL(request.url, 'http://github.test');
    if (request.method === 'POST' && url.pathname === '/repos/acme/deploy/actions/workflows/deploy.yml/dispatches') {
      const { inputs } = JSON.parse(request.body) as Dispatch;
      runs.push({ id: 1000 + runs.length, display_title: runName(inputs), event: 'workflow_dispatch', created_at: new Date().toISOString() });
      return void res.writeHead(204).end();
    }
    if (request.method === 'GET' && url.pathname === '/repos/acme/deploy/actions/workflows/deploy.yml/runs') {
      const since = (url.searchParams.get('created') ?? '').replace(/^>=/, '');
      const listed = runs.filter((r) => url.searchParams.get('event') === r.event && (!since || r.created_at >= since));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ total_count: listed.length, workflow_runs: listed }));
    }
    res.writeHead(404).end('{"message":"Not Found"}');
  };

  const call = async (method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const response = await fetch(`${(suite as ServiceProcess).url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const dispatches = (): Dispatch[] => github.received.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as Dispatch);

  /** Starts the suite with the fault hook armed, promotes v1 of `model`, and returns once the process died right after the dispatch. */
  const crashAfterDispatch = async (model: string): Promise<{ dir: string; port: number }> => {
    const dir = await mkdtemp(join(tmpdir(), 'mrw-deployer-crash-'));
    const port = await freePort();
    suite = new ServiceProcess('suite', port, { MRW_DATA_DIR: dir, MRW_ADMIN_TOKEN: ADMIN, MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', [TOKEN_ENV]: GITHUB_TOKEN }, dir);
    await suite.start({ MRW_CRASH_AT: 'deployer:after-send' });
    await suite.ready();
    expect((await call('POST', '/api/v1/models', { name: model })).status).toBe(201);
    const policy = await call('PUT', `/api/v1/models/${model}/policy`, {
      approval: { Production: { required: 0, reviewers: [], expiresIn: 'P1D' } },
      deployment: {
        targets: [
          {
            kind: 'github-actions',
            environment: 'production',
            settings: { repository: 'acme/deploy', workflow: 'deploy.yml', apiUrl: github.base, tokenEnv: TOKEN_ENV, runAppearsWithin: 'PT1S' },
          },
        ],
      },
    });
    expect(policy.status).toBe(200);
    expect((await call('POST', `/api/v1/models/${model}/versions`, { source: 'https://models.example.com/m.onnx', artifactDigest: `sha256:${'c'.repeat(64)}` })).status).toBe(201);
    expect((await call('POST', `/api/v1/models/${model}/versions/1/transitions`, { toStage: 'Staging' })).status).toBe(202);
    await call('POST', `/api/v1/models/${model}/versions/1/transitions`, { toStage: 'Production' }).catch(() => undefined);
    expect(await suite.waitForExit()).toBe('SIGKILL');
    expect(dispatches()).toHaveLength(1);
    return { dir, port };
  };

  const restartAndFinish = async (model: string): Promise<{ response: { answer: string } }> => {
    await (suite as ServiceProcess).start();
    await (suite as ServiceProcess).ready();
    const deploymentId = dispatches()[0]?.inputs['deployment_id'] as string;
    const target = await eventually(
      async () => {
        const found = (await call('GET', `/api/v1/deployments/${deploymentId}`)).body;
        return found.targets?.[0]?.status === 'triggered' ? found.targets[0] : undefined;
      },
      { timeoutMs: 30_000, what: 'the trigger recorded after the restart' },
    );
    // The pipeline reports once, through the callback URL it was given.
    const callback = new URL(dispatches()[0]?.inputs['callback_url'] as string);
    expect((await call('POST', `${callback.pathname}${callback.search}`, { status: 'succeeded' }, null)).status).toBeLessThan(300);
    await eventually(async () => (await call('GET', `/api/v1/models/${model}`)).body.servingVersion === 1, { timeoutMs: 30_000, what: `${model} v1 serving` });
    return target;
  };

  beforeEach(async () => {
    runs.length = 0;
    github = await startHttpReceiver(answer);
  });

  afterEach(async () => {
    await suite?.stop();
    suite = undefined;
    await github.close();
  });

  it('finds the run its dispatch started (by the deployment id in the run name) and does not dispatch again', async () => {
    runName = (inputs) => `Deploy ${inputs['model']} v${inputs['version']} (${inputs['deployment_id']})`;
    await crashAfterDispatch('crashy');
    const target = await restartAndFinish('crashy');

    expect(dispatches()).toHaveLength(1);
    const lookups = github.received.filter((r) => r.method === 'GET');
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    const lookup = new URL(lookups[0]?.url as string, 'http://github.test');
    expect(lookup.searchParams.get('event')).toBe('workflow_dispatch');
    expect(lookup.searchParams.get('created')).toMatch(/^>=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lookups[0]?.headers).toMatchObject({ authorization: `Bearer ${GITHUB_TOKEN}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    expect(target.response.answer).toMatch(/^run 1000 "Deploy crashy v1 \(.+\)" started by an earlier dispatch/);
    expect(JSON.stringify(target)).not.toContain(GITHUB_TOKEN);
  });

  it('without the deployment id in the run name, dispatches once more with the same deployment id and callback for the workflow to deduplicate by', async () => {
    runName = () => 'deploy';
    await crashAfterDispatch('plain');
    await restartAndFinish('plain');

    const [first, second, ...more] = dispatches();
    expect(more).toEqual([]);
    expect(second?.inputs).toEqual(first?.inputs);
  });
});
