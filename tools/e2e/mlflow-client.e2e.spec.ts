import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EvaluatorModule } from '@mrw/evaluator';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { eventually } from '@mrw/messaging/testing';
import { MLFLOW_VERSION, sharedMlflowVenv } from '../mlflow/pinned';

const ROOT = resolve(__dirname, '../..');
const FIXTURES = join(ROOT, 'libs/evaluator/fixtures');
const SCRIPT = join(__dirname, 'mlflow/mlflow_client_calls.py');
const MLFLOW = MLFLOW_VERSION;
const VENV = sharedMlflowVenv();
const VENV_PYTHON = join(VENV, 'bin/python');

/** A venv with the pinned MLflow package and `onnx` for its onnx flavour (made once, reused); the reason when it cannot be had. */
const prepareMlflow = (): string | null => {
  const probe = () => spawnSync(VENV_PYTHON, ['-c', 'import mlflow, onnx; print(mlflow.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (existsSync(VENV_PYTHON) && probe().stdout.trim() === MLFLOW) return null;
  const venv = spawnSync(process.env['MRW_PYTHON'] ?? 'python3', ['-m', 'venv', VENV], { encoding: 'utf8', timeout: 120_000 });
  if (venv.status !== 0) return `cannot create a venv at ${VENV}: ${(venv.error?.message ?? venv.stderr).trim()}`;
  const pip = spawnSync(join(VENV, 'bin/pip'), ['install', '-q', `mlflow==${MLFLOW}`, 'onnx'], { encoding: 'utf8', timeout: 900_000 });
  if (pip.status !== 0) return `pip install mlflow==${MLFLOW} onnx failed: ${(pip.error?.message ?? pip.stderr).trim().split('\n').at(-1)}`;
  return probe().stdout.trim() === MLFLOW ? null : `mlflow ${MLFLOW} does not import from ${VENV}`;
};

const missing = prepareMlflow();
const TITLE = `the real MLflow client (mlflow ${MLFLOW}) registers, tags, aliases, promotes through our governed rules and loads models:/ URIs`;
if (missing) console.warn(`\n\n*** ${TITLE} — SKIPPED: ${missing} ***\n\n`);

/** Runs the MLflow script without blocking this process (the registry answers it from here). */
const runScript = (env: Record<string, string>): Promise<{ code: number | null; output: string; result: any }> =>
  new Promise((done, fail) => {
    const child = spawn(VENV_PYTHON, [SCRIPT], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: unknown = null;
      try {
        result = JSON.parse(last);
      } catch {
        // the assertions below show the output
      }
      done({ code, output: `${stdout}\n${stderr}`, result });
    });
  });

describe('MLflow client', () => {
  let suite: RegistryHarness | undefined;

  afterAll(async () => {
    await suite?.close();
  });

  if (missing) {
    it.skip(`${TITLE} — SKIPPED: ${missing}`, () => undefined);
    return;
  }

  it(
    TITLE,
    async () => {
      const registry = await startRegistry({ modules: [EvaluatorModule], env: { MRW_EVALUATOR_THREADS: '1' } });
      suite = registry;
      const upload = async (path: string, parts: Record<string, Blob | string>) => {
        const form = new FormData();
        for (const [field, value] of Object.entries(parts)) form.append(field, value, ...(typeof value === 'string' ? [] : [field]));
        const response = await fetch(`${registry.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${registry.adminToken}` }, body: form });
        expect(response.status).toBe(201);
        return (await response.json()) as { uri: string };
      };
      await upload('/api/v1/evaluation-sets/bc-holdout/versions', {
        file: new Blob([readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'))]),
        manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
      });
      const artifact = await upload('/api/v1/artifacts', { file: new Blob([readFileSync(join(FIXTURES, 'breast-cancer-logreg.onnx'))]) });
      const contributor = await registry.token('trainer', ['contributor']);
      const viewer = await registry.token('watcher', ['viewer']);
      const model = 'mlflow-cancer';
      const env = { MLFLOW_TRACKING_URI: registry.baseUrl, MLFLOW_TRACKING_TOKEN: contributor, MODEL: model, ARTIFACT_URI: artifact.uri };

      const created = await runScript({ ...env, PHASE: 'create' });
      if (created.code !== 0) console.error(created.output);
      expect(created.code).toBe(0);
      expect(created.result).toEqual({
        created: { name: model, tags: { team: 'risk' }, description: 'breast cancer screening' },
        duplicate: 'RESOURCE_ALREADY_EXISTS',
        edited: { returned: 'breast cancer screening, v2 features', description: 'breast cancer screening, v2 features', tags: { owner: 'ana' } },
      });
      // The governance a team sets once, over our API; the training code stays MLflow's.
      const policy = await registry.http('PUT', `/api/v1/models/${model}/policy`, {
        body: { evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 } } }, servingAlias: 'champion' },
      });
      expect(policy.status).toBe(200);

      const registered = await runScript({ ...env, PHASE: 'register' });
      if (registered.code !== 0) console.error(registered.output);
      expect(registered.code).toBe(0);
      expect(registered.result).toEqual({
        registered: { version: '1', status: 'READY', source: artifact.uri },
        second: { version: '2', tags: { origin: 'mlflow' } },
        second_description: 'retrained on March data',
        models: [model],
        versions: ['1', '2'],
        alias: '1',
        tags: { validated: 'yes' },
        staged: 'Staging',
      });
      // Staging through MLflow ran our evaluation, recorded on the version.
      const evaluation = await eventually(
        async () => {
          const state = await registry.http('GET', `/api/v1/models/${model}/versions/1`);
          const last = state.body.evaluations?.at(-1);
          return last && last.status !== 'running' ? last : undefined;
        },
        { timeoutMs: 120_000, what: 'the evaluation MLflow\'s Staging started' },
      );
      expect(evaluation).toMatchObject({ status: 'completed', set: { name: 'bc-holdout' }, verdict: { passed: true } });

      const promoted = await runScript({ ...env, PHASE: 'promote', VERSION: '1', VIEWER_TOKEN: viewer });
      if (promoted.code !== 0) console.error(promoted.output);
      expect(promoted.code).toBe(0);
      const inbox = await registry.http('GET', `/api/v1/approvals?status=pending&model=${model}`);
      expect(inbox.body.items).toHaveLength(1);
      expect(promoted.result).toEqual({
        production: { stage: 'Staging', tags: { validated: 'yes', 'mrw.pending_approval': inbox.body.items[0].id } },
        viewer_reads: model,
        viewer_write: 'PERMISSION_DENIED',
      });
      const audit = await registry.http('GET', `/api/v1/models/${model}/versions/1/audit`);
      expect(audit.body.events.find((e: { type: string }) => e.type === 'StageTransitionRequested').actor).toEqual({ kind: 'user', id: 'trainer' });

      const onnx = join(FIXTURES, 'breast-cancer-logreg.onnx');
      const fixtureDigest = createHash('sha256').update(readFileSync(onnx)).digest('hex');
      const loaded = await runScript({ ...env, PHASE: 'load', ONNX_PATH: onnx });
      if (loaded.code !== 0) console.error(loaded.output);
      expect(loaded.code).toBe(0);
      expect(loaded.result).toEqual({
        logged: { version: '3', download_uri: `mlflow-artifacts:/_registry/${model}/3` },
        // MLflow's client adds registered_model_meta to a model folder it downloads.
        by_alias: { files: ['MLmodel', 'model.onnx', 'registered_model_meta'], sha256: fixtureDigest, flavors: ['onnx', 'python_function'] },
        by_number: { files: ['model.onnx'], sha256: fixtureDigest },
        onnx_inputs: ['input'],
        champion: 'INVALID_STATE',
        s3: 'INVALID_PARAMETER_VALUE',
        // v2 archived by archive_existing_versions; v1 kept in Staging by the rules (its approval is pending).
        stages: { '1': 'Staging', '2': 'Archived', '3': 'Staging' },
      });
      // Staging through MLflow evaluated v3 as well (and the archived v2 keeps its evaluation as evidence).
      for (const version of [2, 3]) {
        await eventually(
          async () => {
            const last = (await registry.http('GET', `/api/v1/models/${model}/versions/${version}`)).body.evaluations?.at(-1);
            return last && last.status !== 'running' ? last : undefined;
          },
          { timeoutMs: 120_000, what: `v${version}'s evaluation` },
        );
      }
    },
    600_000,
  );
});
