import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EvaluationSetError, type EvaluationSetErrorCode, type EvaluationSetManifest, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { TableFormatError } from '../evaluation-sets/read-table';
import type { WorkerJob } from './evaluation.worker';
import type { Measured, MeasureInput } from './measure';

type Reply = { ok: true; value: unknown } | { ok: false; name: string; code?: string; message: string };

/**
 * Runs one CPU-heavy step of an evaluation in a worker thread, so the service's event loop
 * (HTTP, Kafka heartbeats) stays free: parsing a set of a million rows, or a paired bootstrap
 * of 1,000 resamples, takes seconds. Under the test runner the worker is TypeScript, loaded
 * through @swc-node/register.
 */
const inWorker = <T>(job: WorkerJob, transfer: ArrayBuffer[] = []): Promise<T> => {
  const extension = extname(__filename);
  const worker = new Worker(join(__dirname, `evaluation.worker${extension}`), {
    ...(extension === '.ts' ? { execArgv: ['-r', '@swc-node/register'] } : {}),
  });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (reply: Reply) => {
      if (reply.ok) return resolve(reply.value as T);
      if (reply.name === 'EvaluationSetError') return reject(new EvaluationSetError(reply.code as EvaluationSetErrorCode, reply.message));
      if (reply.name === 'TableFormatError') return reject(new TableFormatError(reply.message));
      return reject(new Error(`${job.job} failed in its worker: ${reply.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ${job.job} worker exited with code ${code}`)));
    worker.postMessage(job, transfer);
  }).finally(() => void worker.terminate());
};

/** Parses and checks a set off the main thread; its arrays come back transferred. */
export const loadSetInWorker = (bytes: Uint8Array, manifest: EvaluationSetManifest): Promise<LoadedEvaluationSet> =>
  inWorker({ job: 'load-set', bytes, manifest }, [bytes.buffer as ArrayBuffer]);

/** Every metric and the paired comparison, off the main thread. */
export const measureInWorker = (input: MeasureInput): Promise<Measured> => {
  // The features stay here: measuring needs labels and predictions only.
  const { features: _features, ...set } = input.set;
  return inWorker({ job: 'measure', input: { ...input, set: { ...set, features: new Float32Array(0) } } });
};
