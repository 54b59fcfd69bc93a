/**
 * The worker thread that holds one served version's ONNX session. Kept as source text (run
 * with `eval: true`) so the built service and the tests run the same worker without a build
 * step. onnxruntime's `run()` blocks its thread: here it blocks only this worker, and the
 * server's event loop keeps answering health checks and other versions' requests.
 *
 * int64 outputs (class labels) come back as float64 numbers, since JSON carries no 64-bit
 * integers: exact up to 2^53.
 */
export const ONNX_SESSION_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.onnxruntimePath);
let session;
const describe = (m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false });
const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array };
parentPort.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      session = await ort.InferenceSession.create(new Uint8Array(message.model), {
        intraOpNumThreads: message.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      parentPort.postMessage({ type: 'loaded', inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) });
      return;
    }
    if (message.type === 'run') {
      const feeds = {};
      for (const [name, input] of Object.entries(message.feeds)) {
        const Type = ARRAYS[input.type];
        const data = input.type === 'int64' ? BigInt64Array.from(input.data, (v) => BigInt(v)) : new Type(input.data);
        feeds[name] = new ort.Tensor(input.type, data, input.dims);
      }
      const out = await session.run(feeds, message.outputs);
      const result = {};
      const transfer = [];
      for (const name of message.outputs) {
        const tensor = out[name];
        let data = tensor.data;
        const type = tensor.type;
        // Copied: an output may be a view over memory onnxruntime owns, which cannot be transferred.
        if (data instanceof BigInt64Array || data instanceof BigUint64Array) data = Float64Array.from(data, (v) => Number(v));
        else if (ArrayBuffer.isView(data)) data = data.slice();
        else data = Array.from(data);
        result[name] = { type, dims: tensor.dims.map(Number), data };
        if (ArrayBuffer.isView(data)) transfer.push(data.buffer);
      }
      parentPort.postMessage({ type: 'ran', id: message.id, result }, transfer);
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', id: message.id, message: String((error && error.message) || error) });
  }
});
`;
