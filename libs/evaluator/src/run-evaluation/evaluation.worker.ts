import { parentPort } from 'node:worker_threads';
import { loadEvaluationSet, type EvaluationSetManifest, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { readTable } from '../evaluation-sets/read-table';
import { measure, type MeasureInput } from './measure';

export type WorkerJob =
  | { readonly job: 'load-set'; readonly bytes: Uint8Array; readonly manifest: EvaluationSetManifest }
  | { readonly job: 'measure'; readonly input: MeasureInput };

/** The big arrays of a loaded set go back by transfer, not by copy. */
const transferables = (set: LoadedEvaluationSet): ArrayBuffer[] =>
  [set.features.buffer, set.labels.buffer, ...set.slices.map((s) => s.groups.buffer)] as ArrayBuffer[];

// One job per worker; the parent terminates it afterwards. Errors travel with their name and
// code, so the parent can tell a bad set from a bug.
parentPort?.on('message', async (message: WorkerJob) => {
  try {
    if (message.job === 'load-set') {
      const set = loadEvaluationSet(await readTable(message.bytes), message.manifest);
      parentPort?.postMessage({ ok: true, value: set }, transferables(set));
    } else {
      parentPort?.postMessage({ ok: true, value: measure(message.input) });
    }
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    parentPort?.postMessage({ ok: false, name: e.name ?? 'Error', code: e.code, message: e.message ?? String(error) });
  }
});
