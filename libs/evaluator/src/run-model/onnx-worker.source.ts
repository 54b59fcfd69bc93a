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
      // The whole matrix arrives once, by transfer; chunks are views into it, not copies.
      const all = new Float32Array(message.data);
      const outputs = {};
      for (let start = 0; start < message.rows; start += message.chunkRows) {
        const count = Math.min(message.chunkRows, message.rows - start);
        const input = new ort.Tensor('float32', all.subarray(start * message.cols, (start + count) * message.cols), [count, message.cols]);
        const out = await session.run({ [message.input]: input }, message.outputs);
        for (const name of message.outputs) {
          const tensor = out[name];
          const width = tensor.dims.length > 1 ? Number(tensor.dims[1]) : 1;
          if (!outputs[name]) {
            const Type = tensor.type === 'int64' || tensor.type === 'int32' ? Int32Array : Float32Array;
            outputs[name] = { type: tensor.type, width, data: new Type(message.rows * width) };
          }
          const data = tensor.data;
          // int64 labels arrive as BigInt64Array: class indices fit in int32.
          if (data instanceof BigInt64Array) {
            const target = outputs[name].data;
            for (let i = 0; i < data.length; i += 1) target[start * width + i] = Number(data[i]);
          } else outputs[name].data.set(data, start * width);
        }
        parentPort.postMessage({ type: 'progress', id: message.id, done: start + count, total: message.rows });
      }
      const transfer = [all.buffer, ...Object.values(outputs).map((o) => o.data.buffer)];
      parentPort.postMessage({ type: 'ran', id: message.id, result: outputs, features: all.buffer }, transfer);
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', id: message.id, message: String((error && error.message) || error) });
  }
});
`;
