import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sharedMlflowVenv } from '../../mlflow/pinned';

/** A Python venv holding the MLflow package: where its `mlflow` command is, and how to let it go. */
export interface MlflowVenv {
  readonly mlflow: string;
  readonly reused: boolean;
  dispose(): Promise<void>;
}

/** Runs a command; its exit code and last output lines, each output line also given to `onLine`. */
const run = (command: string, args: readonly string[], onLine: (text: string) => void = () => undefined): Promise<{ code: number | null; tail: string }> =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      // No pip self-update check, no prompts: the only network this needs is the package index.
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const keep = (text: string) => {
      tail.push(text);
      if (tail.length > 5) tail.shift();
      onLine(text);
    };
    createInterface({ input: child.stdout }).on('line', keep);
    createInterface({ input: child.stderr }).on('line', keep);
    child.on('error', (error) => resolve({ code: null, tail: error.message }));
    child.on('close', (code) => resolve({ code, tail: tail.join('\n') }));
  });

const installedVersion = async (python: string): Promise<string | undefined> => {
  if (!existsSync(python)) return undefined;
  let found: string | undefined;
  // Only the printed version counts: an import may also warn on stderr.
  const probe = await run(python, ['-c', 'import mlflow; print("mlflow", mlflow.__version__)'], (text) => {
    if (text.startsWith('mlflow ')) found = text.slice('mlflow '.length).trim();
  });
  return probe.code === 0 ? found : undefined;
};

/**
 * MLflow `version` in a venv: the one the MLflow e2e test keeps at `$TMPDIR/mrw-mlflow-<version>`
 * when it holds that version (it saves a minute), else a throwaway one installed from the package
 * index, printing pip's progress. Throws with pip's reason when it cannot be had.
 */
export const prepareMlflowVenv = async (version: string, progress: (text: string) => void): Promise<MlflowVenv> => {
  const shared = sharedMlflowVenv(version);
  if ((await installedVersion(join(shared, 'bin/python'))) === version) {
    progress(`reusing the venv at ${shared}`);
    return { mlflow: join(shared, 'bin/mlflow'), reused: true, dispose: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'mrw-peer-venv-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    progress(`creating a venv at ${dir}`);
    const venv = await run(process.env['MRW_PYTHON'] ?? 'python3', ['-m', 'venv', dir]);
    if (venv.code !== 0) throw new Error(`python3 -m venv failed: ${venv.tail}`);
    progress(`pip install mlflow==${version} (a minute or two)`);
    const pip = await run(join(dir, 'bin/pip'), ['install', '--progress-bar', 'off', `mlflow==${version}`], (text) => {
      if (/^(Collecting|Installing|Successfully)/.test(text)) progress(`  ${text.length > 100 ? `${text.slice(0, 97)}...` : text}`);
    });
    if (pip.code !== 0) throw new Error(`pip install mlflow==${version} failed: ${pip.tail}`);
    const installed = await installedVersion(join(dir, 'bin/python'));
    if (installed !== version) throw new Error(`mlflow ${version} does not import from ${dir} (found ${installed ?? 'none'})`);
    return { mlflow: join(dir, 'bin/mlflow'), reused: false, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
};
