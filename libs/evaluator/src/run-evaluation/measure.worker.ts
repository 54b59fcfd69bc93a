import { parentPort } from 'node:worker_threads';
import { measure, type MeasureInput } from './measure';

// One measurement per message; the parent terminates the worker afterwards.
parentPort?.on('message', (input: MeasureInput) => {
  try {
    parentPort?.postMessage({ ok: true, value: measure(input) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
