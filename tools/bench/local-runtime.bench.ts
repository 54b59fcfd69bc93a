import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LocalRuntime, type VersionSpec } from '@mrw/deployer';
import { line, ms, percentile, section } from './report';

// From dist/tools/bench when built, from tools/bench when run as TypeScript.
const FIXTURES = join(__dirname, extname(__filename) === '.ts' ? '../..' : '../../..', 'libs/evaluator/fixtures');
const MODELS = ['breast-cancer-logreg', 'breast-cancer-gbt'];
const SECONDS = 1.5;

const spec = (file: string, version: string): VersionSpec => {
  const path = join(FIXTURES, `${file}.onnx`);
  return { model: 'bench', version, artifactPath: path, digest: `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}` };
};

/** `rows` rows of the breast-cancer holdout, repeated as needed: 30 features each. */
const batchOf = (rows: number): number[] => {
  const lines = readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'), 'utf8').trim().split('\n').slice(1);
  return Array.from({ length: rows }, (_, r) => (lines[r % lines.length] as string).split(',').slice(0, 30).map(Number)).flat();
};

const summary = (latencies: number[], elapsedMs: number): string => {
  const sorted = latencies.sort((a, b) => a - b);
  return `${Math.round((sorted.length / elapsedMs) * 1000).toLocaleString('en-US').padStart(7)} req/s  p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}`;
};

/** Calls `once` back to back from `concurrency` callers for SECONDS; the latency of each call. */
const load = async (concurrency: number, once: () => Promise<void>): Promise<string> => {
  const latencies: number[] = [];
  const start = performance.now();
  const until = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await once();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return summary(latencies, performance.now() - start);
};

/**
 * The local runtime's OIP inference against a bare onnxruntime-node loop on the same model and
 * batch: the difference is the cost of HTTP, JSON and the worker hop. Also the time to start an
 * environment and to switch versions.
 */
export const benchLocalRuntime = async (): Promise<void> => {
  section('Local runtime (OIP v2 REST, one process per environment) vs bare onnxruntime-node');
  const runtime = new LocalRuntime();
  try {
    let t = performance.now();
    const { inferUrl } = await runtime.deploy('bench', spec(MODELS[0] as string, '0'));
    line('start an environment and serve a first version', ms(performance.now() - t));
    t = performance.now();
    await runtime.deploy('bench', spec(MODELS[1] as string, 'switch'));
    line('switch versions (load, health check, flip, drain)', ms(performance.now() - t));

    for (const [index, file] of MODELS.entries()) {
      await runtime.deploy('bench', spec(file, String(index + 1)));
      const session = await ort.InferenceSession.create(join(FIXTURES, `${file}.onnx`), { intraOpNumThreads: 1, interOpNumThreads: 1 });
      for (const rows of [1, 64]) {
        const data = batchOf(rows);
        const feeds = { input: new ort.Tensor('float32', Float32Array.from(data), [rows, 30]) };
        line(`${file}, batch ${rows}: bare onnxruntime-node loop`, await load(1, async () => void (await session.run(feeds))));
        const body = JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 30], datatype: 'FP32', data }] });
        const infer = async (): Promise<void> => {
          const response = await fetch(inferUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (response.status !== 200) throw new Error(`infer answered ${response.status}: ${await response.text()}`);
          await response.arrayBuffer();
        };
        // Warm-up (JIT, connections), not measured.
        for (let i = 0; i < 200; i += 1) await infer();
        line(`${file}, batch ${rows}: OIP server, 1 client`, await load(1, infer));
        line(`${file}, batch ${rows}: OIP server, 4 clients`, await load(4, infer));
      }
      await session.release();
    }
  } finally {
    await runtime.stopAll();
  }
};
