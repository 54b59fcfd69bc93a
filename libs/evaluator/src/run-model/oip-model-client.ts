import { TransientError } from '@mrw/resilience';
import { inputSpecOf, ModelRunError, modelOutputsOf, outputSpecOf, type ModelOutputs, type RunOptions, type ValueInfo } from './onnx-model-runner';

/** onnxruntime element types by Open Inference Protocol datatype, so one output rule reads both. */
const ORT_TYPE: Readonly<Record<string, string>> = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
};

interface OipTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data?: unknown;
}

const DEFAULT_BATCH_ROWS = 1024;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * One model version scored through an Open Inference Protocol v2 endpoint (the shadow
 * environment of the deployer's local runtime), with the same input and output rules as
 * in-process scoring: the float32 features travel as JSON numbers (exact: every float32 is a
 * double that prints and parses back to itself), the outputs come back the same way, so the
 * metrics equal in-process ones on the same set. Requests address the version explicitly
 * (`/v2/models/{m}/versions/{v}`), so a newer candidate switched in meanwhile is never scored
 * in its place.
 */
export class OipModelClient {
  private constructor(
    private readonly base: string,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Reads the version's metadata from the endpoint: its input and outputs. */
  static async connect(endpoint: string, model: string, version: number, signal?: AbortSignal): Promise<OipModelClient> {
    const base = `${endpoint.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(model)}/versions/${version}`;
    const metadata = (await call(base, 'GET', undefined, signal)) as { inputs?: OipTensor[]; outputs?: OipTensor[] };
    const describe = (tensor: OipTensor): ValueInfo => ({
      name: tensor.name,
      isTensor: tensor.datatype !== 'BYTES',
      type: ORT_TYPE[tensor.datatype] ?? tensor.datatype.toLowerCase(),
      shape: tensor.shape.map((d) => (d < 0 ? 'batch' : d)),
    });
    return new OipModelClient(base, (metadata.inputs ?? []).map(describe), (metadata.outputs ?? []).map(describe), signal);
  }

  /** Scores `rows` rows of `features` float features (row-major) in batches of infer requests. */
  async run(
    data: Float32Array,
    rows: number,
    features: number,
    options: RunOptions = {},
  ): Promise<{ readonly outputs: ModelOutputs; readonly features: Float32Array }> {
    const input = inputSpecOf(this.inputs, features);
    const spec = outputSpecOf(this.outputs);
    const names = [spec.labels, spec.probabilities, spec.values].filter((n): n is string => n !== undefined);
    const batch = Math.max(1, options.chunkRows ?? DEFAULT_BATCH_ROWS);
    const collected = new Map<string, { width: number; data: Int32Array | Float32Array }>();
    for (let start = 0; start < rows; start += batch) {
      const count = Math.min(batch, rows - start);
      const answer = (await call(
        `${this.base}/infer`,
        'POST',
        {
          id: `rows-${start}`,
          inputs: [{ name: input.name, datatype: 'FP32', shape: [count, features], data: Array.from(data.subarray(start * features, (start + count) * features)) }],
          outputs: names.map((name) => ({ name })),
        },
        this.signal,
      )) as { outputs?: OipTensor[] };
      for (const name of names) {
        const tensor = answer.outputs?.find((o) => o.name === name);
        if (!tensor || !Array.isArray(tensor.data)) throw new ModelRunError('MODEL_RUN_FAILED', `the endpoint returned no ${name}`);
        const width = tensor.shape.length > 1 ? Number(tensor.shape[1]) : 1;
        if (tensor.data.length !== count * width) {
          throw new ModelRunError('MODEL_RUN_FAILED', `the endpoint returned ${tensor.data.length} values of ${name} for ${count} rows`);
        }
        let target = collected.get(name);
        if (!target) {
          const integer = tensor.datatype === 'INT64' || tensor.datatype === 'INT32';
          target = { width, data: integer ? new Int32Array(rows * width) : new Float32Array(rows * width) };
          collected.set(name, target);
        }
        target.data.set(tensor.data as number[], start * width);
      }
      options.onProgress?.(start + count, rows);
    }
    const output = (name: string) => collected.get(name) ?? { width: 1, data: new Float32Array(0) };
    return { features: data, outputs: modelOutputsOf(spec, output) };
  }

  async close(): Promise<void> {
    // Nothing held: each request is its own connection from the pool.
  }
}

/**
 * One request to the endpoint. An endpoint that does not answer, or answers 5xx/429, may answer
 * later (transient: the evaluation is retried); a 4xx is recorded as the evaluation's failure.
 */
const call = async (url: string, method: 'GET' | 'POST', body: unknown, signal: AbortSignal | undefined): Promise<unknown> => {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new TransientError(`the shadow endpoint ${url} did not answer: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  if (response.status >= 500 || response.status === 429) throw new TransientError(`the shadow endpoint answered ${response.status} for ${url}: ${text.slice(0, 300)}`);
  if (!response.ok) throw new ModelRunError('SHADOW_ENDPOINT_REFUSED', `the shadow endpoint answered ${response.status} for ${method} ${url}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ModelRunError('SHADOW_ENDPOINT_REFUSED', `the shadow endpoint's answer to ${method} ${url} is not JSON`);
  }
};
