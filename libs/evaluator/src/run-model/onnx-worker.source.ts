/**
 * The worker thread that runs an ONNX model. Kept as source text (run with `eval: true`) so
 * the same worker serves the built suite and the tests without a separate build step.
 * onnxruntime's `run()` blocks its thread: here it blocks only this worker.
 */
export const ONNX_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.onnxruntimePath);
let session;
const describe = (m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false });
parentPort.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      session = await ort.InferenceSession.create(new Uint8Array(message.model), {
        intraOpNumThreads: message.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      parentPort.postMessage({
        type: 'loaded',
        inputs: session.inputMetadata.map(describe),
        outputs: session.outputMetadata.map(describe),
      });
      return;
    }
    if (message.type === 'run') {
      const input = new ort.Tensor('float32', new Float32Array(message.data), [message.rows, message.cols]);
      const out = await session.run({ [message.input]: input }, message.outputs);
      const result = {};
      const transfer = [];
      for (const name of message.outputs) {
        const tensor = out[name];
        let data = tensor.data;
        // int64 labels arrive as BigInt64Array: class indices fit in int32.
        if (data instanceof BigInt64Array) data = Int32Array.from(data, (v) => Number(v));
        else data = data.slice();
        result[name] = { type: tensor.type, dims: tensor.dims, data };
        transfer.push(data.buffer);
      }
      parentPort.postMessage({ type: 'ran', id: message.id, result }, transfer);
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', id: message.id, message: String((error && error.message) || error) });
  }
});
`;
