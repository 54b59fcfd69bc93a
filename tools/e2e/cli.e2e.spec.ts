import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { WebhooksModule } from '@mrw/webhooks';

const ROOT = join(__dirname, '../..');
const CLI = join(ROOT, 'dist/apps/cli/main.js');
const FIXTURES = join(ROOT, 'libs/evaluator/fixtures');
const MODEL_FILE = join(FIXTURES, 'breast-cancer-logreg.onnx');
const SHA256 = `sha256:${createHash('sha256').update(readFileSync(MODEL_FILE)).digest('hex')}`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The built `mrw` (what `npx mrw` runs) as a child process against an embedded registry with the
 * evaluator and the deployer: what a CI job sees, exit codes included.
 */
describe('the mrw CLI', () => {
  let suite: RegistryHarness;
  let home: string;

  const mrw = (args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: home,
        env: { PATH: process.env['PATH'], HOME: home, MRW_CONFIG: join(home, 'mrw.json'), MRW_URL: suite.baseUrl, MRW_TOKEN: suite.adminToken, ...env } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const json = <T = any>(run: Run): T => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(run.stdout) as T;
  };
  const policy = (body: unknown) => suite.http('PUT', '/api/v1/models/cli-churn/policy', { body });
  const evaluation = { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 } } };

  beforeAll(async () => {
    // npm test builds before jest; a lone run of this file builds only when there is nothing to run.
    if (!existsSync(CLI)) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    home = await mkdtemp(join(tmpdir(), 'mrw-cli-'));
    // Webhooks point at loopback below, which the outbound guard refuses unless allowed.
    suite = await startRegistry({ modules: [EvaluatorModule, DeployerModule, WebhooksModule], env: { MRW_EVALUATOR_THREADS: '1', MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
  });

  afterAll(async () => {
    await suite?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('documents its commands and exit codes in --help', async () => {
    const help = await mrw(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['models', 'versions', 'promote', 'approvals', 'rollback', 'audit', 'asof', 'eval-sets', 'webhooks', 'dlq', 'login']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(help.stdout).toMatch(/^Exit codes:\n {2}0 {2}success\n {2}1 {2}error.*\n {2}2 {2}usage.*\n {2}3 {2}refused.*\n {2}4 {2}failed.*\n {2}5 {2}timeout/m);
    expect((await mrw(['promote', 'cli-churn', 'one', '--to', 'Staging'])).code).toBe(2);
    expect((await mrw(['frobnicate'])).code).toBe(2);
  });

  it('creates and lists models, as tables and as JSON', async () => {
    const created = await mrw(['models', 'create', 'cli-churn', '--description', 'churn in 30 days', '--tag', 'team=growth']);
    expect(created).toMatchObject({ code: 0, stdout: 'created model cli-churn\n' });
    const listed = json<{ items: Array<{ name: string; description: string }> }>(await mrw(['models', 'list', '--json']));
    expect(listed.items).toEqual([expect.objectContaining({ name: 'cli-churn', description: 'churn in 30 days' })]);
    const table = await mrw(['models', 'list']);
    expect(table.stdout).toMatch(/^NAME +LATEST +SERVING +UPDATED +DESCRIPTION\ncli-churn +- +- +\S+ +churn in 30 days\n$/);
  });

  it('uploads an evaluation set with its manifest', async () => {
    const uploaded = await mrw(['eval-sets', 'upload', 'bc-holdout', join(FIXTURES, 'breast-cancer-holdout.csv'), '--manifest', join(FIXTURES, 'breast-cancer-holdout.manifest.json')]);
    expect(uploaded.code).toBe(0);
    expect(uploaded.stdout).toMatch(/^uploaded bc-holdout v1: 171 rows, csv, sha256:[0-9a-f]{64}$/m);
    expect((await policy({ evaluation, approval: { Production: { required: 0, reviewers: [], expiresIn: 'P1D' } } })).status).toBe(200);
  });

  it('registers a local file with a progress bar, the digest computed on the way', async () => {
    const registered = await mrw([
      'versions', 'register', 'cli-churn', MODEL_FILE, '--progress',
      '--metric', 'val_auc=0.97', '--tag', 'framework=sklearn', '--run-id', 'run-1', '--idempotency-key', 'run-1',
    ]);
    expect(registered.code).toBe(0);
    expect(registered.stderr).toMatch(/uploading breast-cancer-logreg\.onnx .* 0% \| 0 B of 1\.0 KiB/);
    expect(registered.stderr).toMatch(/uploading breast-cancer-logreg\.onnx .* 100% \| 1\.0 KiB of 1\.0 KiB/);
    expect(registered.stdout).toContain('registered cli-churn v1 (stage None)');
    expect(registered.stdout).toMatch(new RegExp(`^digest +${SHA256}$`, 'm'));
    const shown = json(await mrw(['versions', 'show', 'cli-churn', '1', '--json']));
    expect(shown).toMatchObject({ digest: SHA256, metrics: { val_auc: 0.97 }, tags: { framework: 'sklearn' }, runId: 'run-1', stage: 'None' });

    // The same idempotency key registers nothing new; with --json no progress bar, even when asked.
    const again = await mrw(['versions', 'register', 'cli-churn', MODEL_FILE, '--progress', '--json', '--idempotency-key', 'run-1', '--metric', 'val_auc=0.97', '--tag', 'framework=sklearn', '--run-id', 'run-1']);
    expect(json(again)).toMatchObject({ version: 1, digest: SHA256 });
    expect((await mrw(['versions', 'register', 'cli-churn', join(home, 'missing.onnx')])).code).toBe(2);
    expect((await mrw(['versions', 'register', 'cli-churn', MODEL_FILE, '--metric', 'auc=high'])).code).toBe(2);
  });

  let beforeProduction = '';
  let afterProduction = '';

  it('promote --wait follows evaluation to Staging, and gates and deployment to Production: exit 0', async () => {
    const staging = await mrw(['promote', 'cli-churn', '1', '--to', 'Staging', '--wait', '--timeout', '2m']);
    expect({ code: staging.code, stderr: staging.stderr }).toEqual({ code: 0, stderr: '' });
    expect(staging.stdout).toMatch(/^cli-churn v1 → Staging: request [0-9a-f-]{36}$/m);
    expect(staging.stdout).toMatch(/^evaluating: on bc-holdout \(evaluation [0-9a-f-]{36}\)$/m);
    expect(staging.stdout).toMatch(/^completed: cli-churn v1 is in Staging \(evaluation passed: accuracy=0\.97/m);

    beforeProduction = new Date().toISOString();
    const production = await mrw(['promote', 'cli-churn', '1', '--to', 'Production', '--wait', '--timeout', '2m', '--comment', 'first model']);
    afterProduction = new Date().toISOString();
    expect({ code: production.code, stderr: production.stderr }).toEqual({ code: 0, stderr: '' });
    expect(production.stdout).toMatch(/^gates: passed/m);
    expect(production.stdout).toMatch(/^deploying: deployment [0-9a-f-]{36} /m);
    expect(production.stdout).toMatch(/^completed: cli-churn v1 is in Production and serving$/m);
  });

  it('asof tells what served before and after the promotion', async () => {
    const before = await mrw(['asof', 'cli-churn', beforeProduction]);
    expect(before).toMatchObject({ code: 0, stdout: `${beforeProduction}: no version of cli-churn was serving\n` });
    const after = json(await mrw(['asof', 'cli-churn', afterProduction, '--json']));
    expect(after).toMatchObject({ model: 'cli-churn', asOf: afterProduction, servingVersion: 1, version: { version: 1, stage: 'Production', digest: SHA256 } });
    expect((await mrw(['asof', 'cli-churn', 'last tuesday'])).code).toBe(2);
  });

  it('promote --wait exits 3 with the failing checks when the gates refuse', async () => {
    json(await mrw(['versions', 'register', 'cli-churn', MODEL_FILE, '--json']));
    expect((await mrw(['promote', 'cli-churn', '2', '--to', 'Staging', '--wait', '--timeout', '2m'])).code).toBe(0);
    await policy({ evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.999 } } }, approval: { Production: { required: 0, reviewers: [], expiresIn: 'P1D' } } });
    const refused = await mrw(['promote', 'cli-churn', '2', '--to', 'Production', '--wait']);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('refused: the gates failed');
    expect(refused.stdout).toMatch(/^accuracy +threshold +0\.97\d* +0\.999 +accuracy 0\.97\d* misses the threshold >= 0\.999$/m);
    const asJson = await mrw(['promote', 'cli-churn', '2', '--to', 'Production', '--json']);
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ outcome: 'refused', exitCode: 3, checks: [expect.objectContaining({ metric: 'accuracy', passed: false })] });
  });

  it('promote --wait exits 5 at --timeout while an approval waits, and 3 once a reviewer rejects', async () => {
    await policy({ evaluation, approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' } } });
    const started = Date.now();
    const timedOut = await mrw(['promote', 'cli-churn', '2', '--to', 'Production', '--wait', '--timeout', '2s']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(timedOut.code).toBe(5);
    expect(timedOut.stdout).toMatch(/^awaiting-approval: 0 of 1 approvals, expires \S+; a reviewer runs: mrw approvals approve [0-9a-f-]{36}$/m);
    expect(timedOut.stdout).toContain('timed out after 2s: the request is still awaiting-approval');

    const pending = json<{ items: Array<{ id: string; model: string; version: number }> }>(await mrw(['approvals', 'list', '--model', 'cli-churn', '--json']));
    expect(pending.items).toEqual([expect.objectContaining({ model: 'cli-churn', version: 2 })]);
    const rita = await suite.token('rita', ['reviewer']);
    const rejected = await mrw(['approvals', 'reject', pending.items[0]!.id, '--comment', 'not on a Friday'], { MRW_TOKEN: rita });
    expect(rejected).toMatchObject({ code: 0, stdout: expect.stringMatching(/^rejected: cli-churn v2 → Production, now rejected/) });

    // A job waiting on a new request exits 3 as soon as the reviewer rejects it.
    const waiting = mrw(['promote', 'cli-churn', '2', '--to', 'Production', '--wait', '--timeout', '2m']);
    const next = await eventually(async () => {
      const inbox = await suite.http('GET', '/api/v1/approvals?model=cli-churn&status=pending');
      return inbox.body.items[0]?.id as string | undefined;
    }, { what: 'the second approval request' });
    expect((await mrw(['approvals', 'reject', next, '--comment', 'still Friday'], { MRW_TOKEN: rita })).code).toBe(0);
    const refused = await waiting;
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/^refused: rejected\n {2}rejected by rita: still Friday$/m);
  });

  it('audit --verify says the hash chains are intact', async () => {
    const one = await mrw(['audit', 'cli-churn', '1', '--verify']);
    expect(one).toMatchObject({ code: 0, stdout: expect.stringMatching(/^modelVersion-cli-churn@1: chain intact, \d+ events, head [0-9a-f]{12}\n$/) });
    const all = await mrw(['audit', 'cli-churn', '--verify']);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toEqual([expect.stringMatching(/@1: chain intact/), expect.stringMatching(/@2: chain intact/)]);
    const trail = json<{ events: Array<{ type: string; actor: { id: string } }> }>(await mrw(['audit', 'cli-churn', '1', '--json']));
    expect(trail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['ModelVersionRegistered', 'StageTransitioned', 'DeploymentSucceeded']));
  });

  it('manages webhooks and lists dead letters', async () => {
    const created = await mrw(['webhooks', 'create', '--url', 'http://127.0.0.1:9/hooks/registry', '--event', 'MODEL_VERSION_CREATED', '--event', 'APPROVAL_REQUESTED', '--model', 'cli-churn']);
    expect(created.code).toBe(0);
    const id = /^created webhook ([0-9a-f-]{36}) → http:\/\/127\.0\.0\.1:9\/… \(MODEL_VERSION_CREATED, APPROVAL_REQUESTED\)$/m.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(created.stdout).toMatch(/^signing secret \(shown once, keep it\): \S{24,}$/m);
    const listed = json<{ items: Array<{ id: string; model: string }> }>(await mrw(['webhooks', 'list', '--json']));
    expect(listed.items).toEqual([expect.objectContaining({ id, model: 'cli-churn' })]);
    expect((await mrw(['webhooks', 'deliveries', id!])).code).toBe(0);
    expect(await mrw(['webhooks', 'delete', id!])).toMatchObject({ code: 0, stdout: `deleted webhook ${id}\n` });
    expect(json<{ items: unknown[] }>(await mrw(['webhooks', 'list', '--json'])).items).toEqual([]);
    expect(json(await mrw(['dlq', 'list', '--json']))).toEqual({ total: 0, items: [] });
  });

  it('a refused token exits 1 with what to do next; login keeps URL and token in a 0600 profile', async () => {
    const denied = await mrw(['models', 'list'], { MRW_TOKEN: 'mrw_not-a-real-token-0123456789abcdef' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('hint: check MRW_TOKEN or run mrw login');

    const login = await mrw(['login', '--url', suite.baseUrl, '--token', suite.adminToken], { MRW_URL: undefined, MRW_TOKEN: undefined });
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(suite.adminToken);
    expect(statSync(join(home, 'mrw.json')).mode & 0o777).toBe(0o600);
    const viaProfile = json<{ items: unknown[] }>(await mrw(['models', 'list', '--json'], { MRW_URL: undefined, MRW_TOKEN: undefined }));
    expect(viaProfile.items).toHaveLength(1);
  });
});
