/**
 * The KServe Open Inference Protocol v2 (REST) as pure functions: tensor metadata, and the
 * checks an infer request must pass before it reaches a model. No I/O here, so every refusal
 * is specified by a unit test.
 */

/** A model input or output as onnxruntime describes it. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** OIP `$metadata_tensor`: a symbolic dimension (batch) is -1. */
export interface OipTensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

/** One input tensor, checked and flattened, ready for onnxruntime. */
export interface InferFeed {
  readonly type: 'float32' | 'float64' | 'int32' | 'int64';
  readonly dims: number[];
  readonly data: Float32Array | Float64Array | Int32Array;
}

export interface InferRequest {
  readonly id?: string;
  readonly feeds: Record<string, InferFeed>;
  readonly outputs: string[];
}

/** onnxruntime's element types, by OIP datatype name. */
const ORT_BY_DATATYPE: Record<string, string> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const DATATYPE_BY_ORT: Record<string, string> = Object.fromEntries(Object.entries(ORT_BY_DATATYPE).map(([d, o]) => [o, d]));

/** The datatypes an infer request may carry (the element types a JSON number maps onto). */
const ACCEPTED = new Set(['float32', 'float64', 'int32', 'int64']);

/** The OIP datatype of an onnxruntime element type. */
export const oipDatatype = (ortType: string | undefined): string => DATATYPE_BY_ORT[ortType ?? ''] ?? 'BYTES';

/** A tensor's OIP metadata; non-tensor values (ZipMap outputs) are described as BYTES of unknown shape. */
export const tensorMetadata = (info: OnnxValueInfo): OipTensorMetadata => ({
  name: info.name,
  datatype: info.isTensor ? oipDatatype(info.type) : 'BYTES',
  shape: info.isTensor ? (info.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [-1],
});

/** A refusal of an infer request: answered 400 with the message. */
export class InferRequestError extends Error {
  override readonly name = 'InferRequestError';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Nested or flat `data` as one row-major list; OIP allows both. */
const flatten = (data: unknown, into: unknown[] = []): unknown[] => {
  if (Array.isArray(data)) for (const item of data) flatten(item, into);
  else into.push(data);
  return into;
};

const feedOf = (input: Record<string, unknown>, index: number, model: OnnxValueInfo | undefined): [string, InferFeed] => {
  const name = input['name'];
  if (typeof name !== 'string' || name === '') throw new InferRequestError(`inputs[${index}].name must be a non-empty string`);
  if (!model) throw new InferRequestError(`unexpected input '${name}'`);
  const shape = input['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new InferRequestError(`input '${name}': shape must be a list of non-negative integers`);
  }
  const dims = shape as number[];
  const datatype = input['datatype'];
  const expected = oipDatatype(model.type);
  if (datatype !== expected) {
    throw new InferRequestError(`input '${name}': datatype is ${JSON.stringify(datatype)}, the model expects ${expected}`);
  }
  const ortType = ORT_BY_DATATYPE[expected] as string;
  if (!ACCEPTED.has(ortType)) throw new InferRequestError(`input '${name}': datatype ${expected} is not supported by this server`);
  const modelShape = model.shape ?? [];
  if (modelShape.length > 0) {
    if (dims.length !== modelShape.length) {
      throw new InferRequestError(`input '${name}': shape [${dims.join(',')}] has ${dims.length} dimensions, the model expects ${modelShape.length}`);
    }
    modelShape.forEach((d, i) => {
      if (typeof d === 'number' && d >= 0 && dims[i] !== d) {
        throw new InferRequestError(`input '${name}': dimension ${i} is ${dims[i]}, the model expects ${d}`);
      }
    });
  }
  const values = flatten(input['data']);
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new InferRequestError(`input '${name}': shape [${dims.join(',')}] needs ${size} values, data has ${values.length}`);
  }
  const integer = ortType === 'int32' || ortType === 'int64';
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new InferRequestError(`input '${name}': data[${i}] is ${JSON.stringify(v)}, not ${integer ? 'an integer' : 'a finite number'}`);
    }
  });
  const numbers = values as number[];
  const data = ortType === 'float32' ? Float32Array.from(numbers) : ortType === 'int32' ? Int32Array.from(numbers) : Float64Array.from(numbers);
  return [name, { type: ortType as InferFeed['type'], dims, data }];
};

/**
 * Checks an OIP `$inference_request` against the model's inputs and outputs: every input given
 * once, with the model's datatype, a shape that fits and as many values as the shape needs.
 */
export const parseInferRequest = (body: unknown, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[]): InferRequest => {
  if (!isRecord(body)) throw new InferRequestError('the request body must be a JSON object');
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw new InferRequestError('id must be a string');
  const given = body['inputs'];
  if (!Array.isArray(given) || given.length === 0) throw new InferRequestError('inputs must be a non-empty list');
  const feeds: Record<string, InferFeed> = {};
  given.forEach((input, index) => {
    if (!isRecord(input)) throw new InferRequestError(`inputs[${index}] must be an object`);
    const [name, feed] = feedOf(input, index, inputs.find((i) => i.name === input['name']));
    if (feeds[name]) throw new InferRequestError(`input '${name}' is given twice`);
    feeds[name] = feed;
  });
  const missing = inputs.filter((i) => !feeds[i.name]).map((i) => i.name);
  if (missing.length > 0) throw new InferRequestError(`missing input ${missing.map((m) => `'${m}'`).join(', ')}`);

  const tensors = outputs.filter((o) => o.isTensor).map((o) => o.name);
  let wanted = tensors;
  const requested = body['outputs'];
  if (requested !== undefined) {
    if (!Array.isArray(requested) || !requested.every((o) => isRecord(o) && typeof o['name'] === 'string')) {
      throw new InferRequestError('outputs must be a list of {name}');
    }
    wanted = requested.map((o) => (o as { name: string }).name);
    const unknown = wanted.filter((n) => !tensors.includes(n));
    if (unknown.length > 0) throw new InferRequestError(`unknown output ${unknown.map((u) => `'${u}'`).join(', ')}`);
  }
  return { ...(id !== undefined ? { id } : {}), feeds, outputs: wanted };
};
