import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ONNX_WORKER_SOURCE } from './onnx-worker.source';

/** Why a model cannot be evaluated on a set: specific, and recorded on the version's stream. */
export class ModelRunError extends Error {
  override readonly name = 'ModelRunError';
  constructor(
    readonly code: 'MODEL_UNREADABLE' | 'ZIPMAP_OUTPUT' | 'INPUT_MISMATCH' | 'OUTPUT_UNSUPPORTED' | 'MODEL_RUN_FAILED' | 'SHADOW_ENDPOINT_REFUSED',
    message: string,
  ) {
    super(message);
  }
}

export interface ValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** What a model produced for every row: class labels and probabilities, or regression values. */
export interface ModelOutputs {
  readonly labels?: Int32Array;
  /** Row-major rows × classes. */
  readonly probabilities?: Float32Array;
  readonly classes?: number;
  readonly values?: Float32Array;
}

export interface RunOptions {
  /** Rows per inference call: bounds the worker's memory and paces progress reports. */
  readonly chunkRows?: number;
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

/**
 * A model's single float input, checked against the set's feature count: one float32 tensor
 * `[rows, features]` (a symbolic width takes any); anything else is INPUT_MISMATCH.
 */
export const inputSpecOf = (inputs: readonly ValueInfo[], features: number): { name: string } => {
  const tensors = inputs.filter((i) => i.isTensor);
  const input = tensors[0];
  if (inputs.length !== 1 || !input) {
    throw new ModelRunError(
      'INPUT_MISMATCH',
      `the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); the evaluator feeds one float tensor [rows, features]`,
    );
  }
  if (input.type !== 'float32') {
    throw new ModelRunError('INPUT_MISMATCH', `the model's input ${input.name} is ${input.type}, not float32: export it with a FloatTensorType input`);
  }
  const width = input.shape?.[1];
  if (typeof width === 'number' && width !== features) {
    throw new ModelRunError('INPUT_MISMATCH', `the model's input ${input.name} takes ${width} features; the evaluation set provides ${features}`);
  }
  return { name: input.name };
};

/** Which outputs carry labels, probabilities or values; refuses ZipMap outputs with the fix. */
export const outputSpecOf = (outputs: readonly ValueInfo[]): { labels?: string; probabilities?: string; values?: string } => {
  const maps = outputs.filter((o) => !o.isTensor);
  if (maps.length > 0) {
    throw new ModelRunError(
      'ZIPMAP_OUTPUT',
      `the model's output ${maps.map((m) => m.name).join(', ')} is a ZipMap (a sequence of maps), which onnxruntime-node cannot return: ` +
        "re-export it with skl2onnx's options={id(model): {'zipmap': False}} so probabilities are a float tensor",
    );
  }
  const tensors = outputs;
  const labels = tensors.find((o) => o.type === 'int64' || o.type === 'int32');
  const floats = tensors.filter((o) => o.type === 'float32' || o.type === 'float64');
  if (labels) {
    const probabilities = floats.find((o) => o.name !== labels.name);
    return { labels: labels.name, ...(probabilities ? { probabilities: probabilities.name } : {}) };
  }
  if (floats.length === 1) return { values: (floats[0] as ValueInfo).name };
  throw new ModelRunError(
    'OUTPUT_UNSUPPORTED',
    `cannot tell labels, probabilities or values apart among the outputs ${tensors.map((o) => `${o.name}:${o.type}`).join(', ')}`,
  );
};

/** The outputs named by `spec`, as the metrics read them, from each named tensor's data and width. */
export const modelOutputsOf = (
  spec: { labels?: string; probabilities?: string; values?: string },
  tensor: (name: string) => { readonly width: number; readonly data: Int32Array | Float32Array },
): ModelOutputs => {
  const probabilities = spec.probabilities ? tensor(spec.probabilities) : undefined;
  return {
    ...(spec.labels ? { labels: tensor(spec.labels).data as Int32Array } : {}),
    ...(probabilities ? { probabilities: probabilities.data as Float32Array, classes: probabilities.width } : {}),
    ...(spec.values ? { values: tensor(spec.values).data as Float32Array } : {}),
  };
};

/**
 * One ONNX model loaded in its own worker thread, with an explicit thread count, so
 * scoring a million rows never blocks the service's event loop.
 */
export class OnnxModelRunner {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: any) => void; reject: (error: Error) => void; progress?: (done: number, total: number) => void }
  >();

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
  ) {
    worker.on('message', (message: { type: string; id?: number; message?: string; done?: number; total?: number }) => {
      if (message.id === undefined) return;
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      if (message.type === 'progress') {
        waiting.progress?.(message.done ?? 0, message.total ?? 0);
        return;
      }
      this.pending.delete(message.id);
      if (message.type === 'error') waiting.reject(new ModelRunError('MODEL_RUN_FAILED', message.message ?? 'unknown error'));
      else waiting.resolve(message);
    });
    worker.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  /** Loads a model from its bytes; threads default to the cores available, at most 4. */
  static async load(model: Uint8Array, threads = Math.max(1, Math.min(4, cpus().length))): Promise<OnnxModelRunner> {
    const worker = new Worker(ONNX_WORKER_SOURCE, {
      eval: true,
      workerData: { onnxruntimePath: require.resolve('onnxruntime-node') },
    });
    const loaded = await new Promise<{ inputs: ValueInfo[]; outputs: ValueInfo[] }>((resolve, reject) => {
      worker.once('message', (message: { type: string; inputs: ValueInfo[]; outputs: ValueInfo[]; message?: string }) => {
        if (message.type === 'loaded') resolve(message);
        else reject(new ModelRunError('MODEL_UNREADABLE', `the model file is not a loadable ONNX model: ${message.message ?? ''}`.trim()));
      });
      worker.once('error', (error) => reject(new ModelRunError('MODEL_UNREADABLE', error.message)));
      const copy = model.slice();
      worker.postMessage({ type: 'load', model: copy.buffer, threads }, [copy.buffer]);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new OnnxModelRunner(worker, loaded.inputs, loaded.outputs);
  }

  /**
   * Scores `rows` rows of `features` float features (row-major) in chunks inside the worker,
   * reporting progress. The matrix is transferred to the worker and back, not copied: use the
   * returned `features`, as `data` is detached meanwhile.
   */
  async run(
    data: Float32Array,
    rows: number,
    features: number,
    options: RunOptions = {},
  ): Promise<{ readonly outputs: ModelOutputs; readonly features: Float32Array }> {
    const input = inputSpecOf(this.inputs, features);
    const outputs = outputSpecOf(this.outputs);
    const names = [outputs.labels, outputs.probabilities, outputs.values].filter((n): n is string => n !== undefined);
    // A view into a larger buffer is copied once, so that only this matrix is transferred.
    const matrix = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const reply = (await this.call(
      {
        type: 'run',
        input: input.name,
        outputs: names,
        data: matrix.buffer,
        rows,
        cols: features,
        chunkRows: Math.max(1, options.chunkRows ?? 65_536),
      },
      [matrix.buffer as ArrayBuffer],
      options.onProgress,
    )) as { result: Record<string, { width: number; data: Int32Array | Float32Array }>; features: ArrayBuffer };
    const output = (name: string) => {
      const tensor = reply.result[name];
      if (!tensor) throw new ModelRunError('MODEL_RUN_FAILED', `the model returned no ${name}`);
      return tensor;
    };
    return { features: new Float32Array(reply.features), outputs: modelOutputsOf(outputs, output) };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private call(
    message: Record<string, unknown>,
    transfer: ArrayBuffer[],
    progress?: (done: number, total: number) => void,
  ): Promise<unknown> {
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(progress ? { progress } : {}) });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}
