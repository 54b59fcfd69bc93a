import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Measured, MeasureInput } from './measure';

/**
 * Runs `measure` in a worker thread: a paired bootstrap of 1,000 resamples is seconds of
 * CPU, and the service's event loop (HTTP, Kafka heartbeats) must stay free meanwhile.
 * Under the test runner the worker is TypeScript, loaded through @swc-node/register.
 */
export const measureInWorker = (input: MeasureInput): Promise<Measured> => {
  const typescript = extname(__filename) === '.ts';
  const worker = new Worker(join(__dirname, `measure.worker${extname(__filename)}`), {
    ...(typescript ? { execArgv: ['-r', '@swc-node/register'] } : {}),
  });
  return new Promise<Measured>((resolve, reject) => {
    worker.once('message', (reply: { ok: true; value: Measured } | { ok: false; message: string }) => {
      if (reply.ok) resolve(reply.value);
      else reject(new Error(`measuring failed: ${reply.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the measuring worker exited with code ${code}`)));
    // The features stay here: measuring needs labels and predictions, and cloning 1M × 30
    // floats into the worker would block this thread for longer than scoring them.
    const { features: _features, ...set } = input.set;
    worker.postMessage({ ...input, set: { ...set, features: new Float32Array(0) } });
  }).finally(() => void worker.terminate());
};
