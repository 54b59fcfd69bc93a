import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHttpReceiver, type HttpReceiver } from '@mrw/approvals/testing';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const ROOT = resolve(__dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/ci');
const FIXTURES = join(ROOT, 'libs/evaluator/fixtures');
const CLI = `${process.execPath} ${join(ROOT, 'dist/apps/cli/main.js')}`;
const TOKEN_ENV = 'MRW_E2E_CI_GITHUB_TOKEN';

/** Whether the example's training job can run here: python3 with scikit-learn and skl2onnx (.ci/run installs them). */
const trainable = spawnSync('python3', ['-c', 'import sklearn, skl2onnx'], { encoding: 'utf8' }).status === 0;
if (!trainable) console.warn('SKIPPED: the CI/CD example e2e needs python3 with scikit-learn and skl2onnx (pip install -r examples/ci/requirements.txt)');
const maybe = trainable ? it : it.skip;

/** Runs a script as a CI runner would: bash, the job's environment, its output kept for the failure message. */
const runJob = (script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolveRun) => {
    const child = spawn('bash', [join(EXAMPLE, script)], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, cwd: EXAMPLE });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => resolveRun({ code, output }));
  });

/** A job that must have succeeded; its output is the failure message otherwise. */
const succeeded = (job: { code: number | null; output: string }): void => {
  if (job.code !== 0) throw new Error(`the job exited ${String(job.code)}:\n${job.output}`);
};

/**
 * examples/ci end to end: the example's own scripts, run as CI and CD runners would, against a
 * running suite and a local stand-in for GitHub's API that runs the CD job when the deployer
 * dispatches it — from "train" to "v2 serves on the OIP endpoint after a reviewer approves".
 */
describe('the CI/CD example, from a commit to a served model', () => {
  let suite: RegistryHarness;
  let github: HttpReceiver;
  let buildDir: string;
  const cdRuns: Array<Promise<{ code: number | null; output: string }>> = [];
  const onSuite = (url: string): string => {
    const parsed = new URL(url);
    return `${suite.baseUrl}${parsed.pathname}${parsed.search}`;
  };

  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), 'mrw-ci-example-'));
    process.env[TOKEN_ENV] = 'ghp_ci_example_token_0123456789abcdef';
    // GitHub: a workflow_dispatch starts deploy.yml, i.e. cd.sh with the inputs as its environment.
    github = await startHttpReceiver((request, res) => {
      res.writeHead(204).end();
      if (request.method !== 'POST' || !request.url.endsWith('/actions/workflows/deploy.yml/dispatches')) return;
      const { inputs } = JSON.parse(request.body) as { inputs: Record<string, string> };
      cdRuns.push(
        runJob('cd.sh', {
          DEPLOYMENT_ID: inputs['deployment_id'] ?? '',
          MODEL: inputs['model'] ?? '',
          VERSION: inputs['version'] ?? '',
          ARTIFACT_URI: inputs['artifact_uri'] ?? '',
          ARTIFACT_DIGEST: inputs['artifact_digest'] ?? '',
          // The harness listens on a port chosen at start, after MRW_PUBLIC_URL (links' base) is set: point the URL at it.
          CALLBACK_URL: onSuite(inputs['callback_url'] ?? ''),
          RUN_ID: `cd-${cdRuns.length + 1}`,
        }),
      );
    });
    suite = await startRegistry({ modules: [EvaluatorModule, DeployerModule], env: { MRW_EVALUATOR_THREADS: '1', MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
  });

  afterAll(async () => {
    await suite?.close();
    await github?.close();
    delete process.env[TOKEN_ENV];
    await rm(buildDir, { recursive: true, force: true });
  });

  maybe('trains, evaluates, waits for a reviewer, deploys through the CD workflow and serves v2, with the audit trail telling the story', async () => {
    // The platform team's set-up: the standard evaluation set, the model and its policy, tokens.
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'))]), 'holdout.csv');
    form.append('manifest', readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'));
    expect((await fetch(`${suite.baseUrl}/api/v1/evaluation-sets/churn-holdout/versions`, { method: 'POST', headers: { authorization: `Bearer ${suite.adminToken}` }, body: form })).status).toBe(201);
    await suite.http('POST', '/api/v1/models', { body: { name: 'churn' } });
    const policy = await suite.http('PUT', '/api/v1/models/churn/policy', {
      body: {
        evaluation: { set: 'churn-holdout', thresholds: { accuracy: { threshold: 0.9 } } },
        approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P3D' } },
        deployment: {
          targets: [
            { kind: 'local', environment: 'production' },
            { kind: 'github-actions', environment: 'production', settings: { repository: 'acme/churn', workflow: 'deploy.yml', apiUrl: github.base, tokenEnv: TOKEN_ENV } },
          ],
        },
      },
    });
    expect(policy.status).toBe(200);
    const ci = await suite.token('ci-bot', ['contributor'], ['churn']);
    const rita = await suite.token('rita', ['reviewer']);

    for (const [round, args] of [
      [1, '--c 1.0 --seed 0'],
      [2, '--c 0.5 --seed 1'],
    ] as const) {
      // The merge to main: the CI job, exactly as train.yml runs it.
      const job = await runJob('ci.sh', {
        MRW_URL: suite.baseUrl,
        MRW_TOKEN: ci,
        MODEL: 'churn',
        RUN_ID: `ci-${round}`,
        GIT_COMMIT: `commit-${round}`,
        TRAIN_ARGS: args,
        BUILD_DIR: buildDir,
        MRW_CLI: CLI,
        STAGING_TIMEOUT: '60s',
      });
      succeeded(job);
      expect(job.output).toContain(`registered churn v${round}`);

      // The result awaits review; a reviewer approves.
      const pending = await eventually(
        async () => ((await suite.http('GET', '/api/v1/approvals?status=pending', { token: rita })).body.items as Array<{ id: string; version: number }>).find((a) => a.version === round),
        { what: `the approval of v${round}` },
      );
      expect((await suite.http('POST', `/api/v1/approvals/${pending.id}/approve`, { token: rita, body: { comment: 'metrics look right' } })).status).toBe(200);

      // The deployer serves it locally and dispatches deploy.yml; cd.sh reports through the callback.
      await eventually(async () => cdRuns.length >= round, { timeoutMs: 30_000, what: `the CD run of v${round}` });
      const cd = await cdRuns[round - 1]!;
      succeeded(cd);
      await eventually(async () => (await suite.http('GET', '/api/v1/models/churn')).body.servingVersion === round, { timeoutMs: 60_000, what: `v${round} serving` });
    }

    // v2 answers on the OIP endpoint.
    const state = (await suite.http('GET', '/api/v1/models/churn/versions/2')).body;
    const endpoint = (state.deployments.at(-1) as { endpoint: string }).endpoint;
    const row = readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'), 'utf8').split('\n')[1]!.split(',').slice(0, 30).map(Number);
    const inferred = (await (
      await fetch(`${endpoint}/v2/models/churn/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: row }] }) })
    ).json()) as { model_version: string };
    expect(inferred.model_version).toBe('2');

    // The audit trail tells the whole story of v2, with who did what.
    const audit = (await suite.http('GET', '/api/v1/models/churn/versions/2/audit')).body.events as Array<{ type: string; actor: { id: string } }>;
    const story = audit.map((e) => `${e.type}:${e.actor.id}`);
    expect(story).toEqual(
      expect.arrayContaining([
        'ModelVersionRegistered:ci-bot',
        'EvaluationRequested:ci-bot',
        'EvaluationCompleted:evaluator',
        'ApprovalRequested:ci-bot',
        'ApprovalGranted:rita',
        'DeploymentRequested:rita',
        'DeploymentSucceeded:deployer',
      ]),
    );
    expect(story.indexOf('ApprovalGranted:rita')).toBeLessThan(story.indexOf('DeploymentSucceeded:deployer'));
    // Re-running the CI job of round 2 registers nothing new (the run id is the idempotency key).
    const again = await runJob('ci.sh', { MRW_URL: suite.baseUrl, MRW_TOKEN: ci, MODEL: 'churn', RUN_ID: 'ci-2', GIT_COMMIT: 'commit-2', TRAIN_ARGS: '--c 0.5 --seed 1', BUILD_DIR: buildDir, MRW_CLI: CLI, STAGING_TIMEOUT: '10s' });
    expect(again.output).toContain('registered churn v2');
    expect((await suite.http('GET', '/api/v1/models/churn/versions')).body.total).toBe(2);
  });
});
