import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const ROOT = resolve(__dirname, '../..');
const FIXTURES = join(ROOT, 'libs/evaluator/fixtures');
const EVAL_SET = 'breast-cancer-holdout';
const PYTHON = process.env['MRW_PYTHON'] ?? 'python3';

/** Why the Python suite cannot run here, or null when python3 and pytest answer. */
const missingPython = (): string | null => {
  const probe = spawnSync(PYTHON, ['-m', 'pytest', '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return `${PYTHON} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `pytest is not installed for ${PYTHON} (${(probe.stderr || probe.stdout).trim().split('\n').at(-1) ?? ''})`;
  return null;
};

const missing = missingPython();
const TITLE = 'the Python client (clients/python) passes its pytest suite against a running suite';
if (missing) console.warn(`${TITLE} — SKIPPED: ${missing}`);

/**
 * The Python client's own pytest suite, run against a real registry with the evaluator and the
 * deployer: its offline tests and every test that talks to the registry must pass, none skipped.
 * The server runs in this process, so pytest is spawned asynchronously (a blocking spawn would
 * stop the registry from answering it).
 */
describe('Python client', () => {
  let suite: RegistryHarness | undefined;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await suite?.close();
  });

  if (missing) {
    it.skip(`${TITLE} — SKIPPED: ${missing}`, () => undefined);
    return;
  }

  it(
    TITLE,
    async () => {
      suite = await startRegistry({ modules: [EvaluatorModule, DeployerModule], env: { MRW_EVALUATOR_THREADS: '1' } });
      const form = new FormData();
      form.append('file', new Blob([readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'))]), 'breast-cancer-holdout.csv');
      form.append('manifest', readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'));
      const uploaded = await fetch(`${suite.baseUrl}/api/v1/evaluation-sets/${EVAL_SET}/versions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${suite.adminToken}` },
        body: form,
      });
      expect(uploaded.status).toBe(201);

      const pytest = spawn(PYTHON, ['-m', 'pytest', 'clients/python/tests', '-q', '-rs', '-p', 'no:cacheprovider'], {
        cwd: ROOT,
        env: {
          ...process.env,
          MRW_URL: suite.baseUrl,
          MRW_TOKEN: suite.adminToken,
          MRW_FIXTURES: FIXTURES,
          MRW_EVAL_SET: EVAL_SET,
          // What CI has: the sources, no `pip install`; and no bytecode or cache left in the tree.
          PYTHONPATH: join(ROOT, 'clients/python/src'),
          PYTHONDONTWRITEBYTECODE: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = pytest;
      let output = '';
      pytest.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      pytest.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((done, fail) => {
        pytest.on('error', fail);
        pytest.on('close', (exit) => done(exit));
      });

      const summary = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || /skipped|failed|error/.test(summary)) console.error(`pytest exited with ${code}:\n${output}`);
      expect(code).toBe(0);
      // A registry test that skipped (say, an environment variable lost on the way) is no pass.
      expect(summary).toMatch(/^\d+ passed in /);
    },
    300_000,
  );
});
