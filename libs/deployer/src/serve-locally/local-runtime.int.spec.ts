import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sleep } from '@mrw/resilience';
import { LocalRuntime, LocalRuntimeError, type VersionSpec } from './local-runtime';
import { OipServer } from './oip-server';

const FIXTURES = join(__dirname, '../../../evaluator/fixtures');
const artifact = (file: string): string => join(FIXTURES, file);
const digestOf = (file: string): string => `sha256:${createHash('sha256').update(readFileSync(artifact(file))).digest('hex')}`;
const LOGREG: VersionSpec = { model: 'breast-cancer', version: '1', artifactPath: artifact('breast-cancer-logreg.onnx'), digest: digestOf('breast-cancer-logreg.onnx') };
const GBT: VersionSpec = { model: 'breast-cancer', version: '2', artifactPath: artifact('breast-cancer-gbt.onnx'), digest: digestOf('breast-cancer-gbt.onnx') };

/** The first rows of the breast-cancer holdout: 30 features each. */
const rows = (count: number): number[][] =>
  readFileSync(artifact('breast-cancer-holdout.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, count + 1)
    .map((line) => line.split(',').slice(0, 30).map(Number));

const inferBody = (batch: number[][], id?: string) => ({
  ...(id ? { id } : {}),
  inputs: [{ name: 'input', shape: [batch.length, 30], datatype: 'FP32', data: batch.flat() }],
});

/**
 * The reference: onnxruntime-node called directly on the same rows. In a worker thread of this
 * process, since onnxruntime's typed-array checks fail inside jest's sandbox.
 */
const runInProcess = (modelPath: string, batch: number[][]): Promise<{ labels: number[]; probabilities: number[] }> => {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const ort = require(workerData.ort);
    (async () => {
      const session = await ort.InferenceSession.create(workerData.modelPath);
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(workerData.batch.flat()), [workerData.batch.length, 30]) });
      parentPort.postMessage({ labels: Array.from(out.label.data, Number), probabilities: Array.from(out.probabilities.data) });
    })();`;
  const worker = new Worker(source, { eval: true, workerData: { ort: require.resolve('onnxruntime-node'), modelPath, batch } });
  return new Promise<{ labels: number[]; probabilities: number[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => void worker.terminate());
};

interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: Array<{ name: string; shape: number[]; datatype: string; data: number[] }>;
  error?: string;
}

const post = async (url: string, body: unknown): Promise<{ status: number; json: InferResponse }> => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as InferResponse };
};
const get = async (url: string): Promise<{ status: number; json: Record<string, unknown> }> => {
  const response = await fetch(url);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

/** Polls `check` until it holds: for conditions in another process, such as a restart. */
const eventually = async (check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
};

describe('the local runtime: an Open Inference Protocol v2 server per environment', () => {
  const runtime = new LocalRuntime({ restartBackoff: { initialMs: 50, maxMs: 200 } });
  let endpoint = '';
  const model = () => `${endpoint}/v2/models/breast-cancer`;

  beforeAll(async () => {
    ({ endpoint } = await runtime.deploy('production', LOGREG));
  });
  afterAll(async () => {
    await runtime.stopAll();
  });

  it('answers infer requests with the labels and probabilities onnxruntime gives in-process', async () => {
    const batch = rows(12);
    const { status, json } = await post(`${model()}/infer`, inferBody(batch, 'req-1'));
    expect(status).toBe(200);
    const expected = await runInProcess(LOGREG.artifactPath, batch);
    expect(json).toMatchObject({ model_name: 'breast-cancer', model_version: '1', id: 'req-1' });
    expect(json.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [12], data: expected.labels },
      { name: 'probabilities', datatype: 'FP32', shape: [12, 2], data: expected.probabilities },
    ]);
    // Both classes occur, so the comparison is not against a constant.
    expect(new Set(json.outputs[0]?.data).size).toBe(2);
  });

  it('describes the model and its readiness, and refuses versions it does not serve', async () => {
    expect((await get(`${endpoint}/v2/health/live`)).status).toBe(200);
    expect(await get(`${endpoint}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true } });
    expect(await get(model())).toEqual({
      status: 200,
      json: {
        name: 'breast-cancer',
        versions: ['1'],
        platform: 'onnxruntime',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
        outputs: [
          { name: 'label', datatype: 'INT64', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        ],
      },
    });
    expect((await get(`${model()}/ready`)).status).toBe(200);
    expect((await get(`${model()}/versions/1/ready`)).status).toBe(200);
    expect((await get(`${model()}/versions/1`)).json['name']).toBe('breast-cancer');
    const versioned = await post(`${model()}/versions/1/infer`, inferBody(rows(1)));
    expect(versioned.json.model_version).toBe('1');
    expect(await get(`${model()}/versions/7/ready`)).toEqual({ status: 404, json: { error: "model 'breast-cancer' version '7' is not served here" } });
    expect((await post(`${model()}/versions/7/infer`, inferBody(rows(1)))).status).toBe(404);
    expect((await get(`${endpoint}/v2/models/churn`)).status).toBe(404);
  });

  it.each([
    ['a body that is not JSON', '{"inputs": [', /not JSON/],
    ['no inputs', { inputs: [] }, /inputs must be a non-empty list/],
    ['another datatype', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP64', data: rows(1).flat() }] }, /datatype is "FP64", the model expects FP32/],
    ['29 features', { inputs: [{ name: 'input', shape: [1, 29], datatype: 'FP32', data: rows(1)[0]?.slice(1) }] }, /dimension 1 is 29, the model expects 30/],
    ['fewer values than the shape needs', { inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data: rows(1).flat() }] }, /needs 60 values, data has 30/],
    ['a string among the values', { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: [...rows(1).flat().slice(1), 'x'] }] }, /data\[29\] is "x"/],
    ['an unknown input', { inputs: [{ name: 'features', shape: [1, 30], datatype: 'FP32', data: rows(1).flat() }] }, /unexpected input 'features'/],
    ['an unknown output', { ...inferBody(rows(1)), outputs: [{ name: 'scores' }] }, /unknown output 'scores'/],
  ])('answers 400 with a message to %s', async (_case, body, message) => {
    const { status, json } = await post(`${model()}/infer`, body);
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
  });

  it('returns only the outputs asked for, and accepts nested data', async () => {
    const batch = rows(2);
    const { json } = await post(`${model()}/infer`, { inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data: batch }], outputs: [{ name: 'label' }] });
    expect(json.outputs.map((o) => o.name)).toEqual(['label']);
    expect(json.outputs[0]?.shape).toEqual([2]);
  });

  it('switches from logreg to gbt under four steady clients without a failed request', async () => {
    const batch = rows(4);
    let stop = false;
    const failures: string[] = [];
    const seen: string[][] = [[], [], [], []];
    const client = async (index: number): Promise<void> => {
      while (!stop) {
        try {
          const { status, json } = await post(`${model()}/infer`, inferBody(batch));
          if (status !== 200) failures.push(`${status} ${json.error ?? ''}`);
          else (seen[index] as string[]).push(json.model_version);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await eventually(() => seen.every((s) => s.length >= 5));
    const switched = await runtime.deploy('production', GBT);
    expect(switched.endpoint).toBe(endpoint);
    await eventually(() => seen.every((s) => s.filter((v) => v === '2').length >= 5));
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    for (const versions of seen) {
      // Each client saw v1, then v2, and never v1 again once v2 answered it.
      expect(versions[0]).toBe('1');
      expect(versions.at(-1)).toBe('2');
      expect(versions.slice(versions.indexOf('2'))).not.toContain('1');
    }
    expect((await get(`${model()}/versions/1/ready`)).status).toBe(404);
    expect((await get(model())).json['versions']).toEqual(['2']);
    expect(runtime.status('production').serving).toEqual([{ model: 'breast-cancer', version: '2' }]);
  });

  it('lets the requests in flight on the old version finish at every switch, back and forth', async () => {
    let stop = false;
    let answered = 0;
    const failures: string[] = [];
    const client = async (): Promise<void> => {
      while (!stop) {
        const { status, json } = await post(`${model()}/infer`, inferBody(rows(64))).catch((error: unknown) => ({ status: 0, json: { error: String(error) } as InferResponse }));
        if (status === 200) answered += 1;
        else failures.push(`${status} ${json.error ?? ''}`);
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    // The same two models under new version numbers: every deploy is a real load, flip and drain.
    for (let i = 0; i < 8; i += 1) {
      await runtime.deploy('production', i % 2 === 0 ? { ...LOGREG, version: `${10 + i}` } : { ...GBT, version: `${10 + i}` });
    }
    await runtime.deploy('production', GBT);
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(20);
  });

  it('refuses an artifact whose digest differs, and keeps serving what served', async () => {
    const tampered = { ...LOGREG, version: '3', digest: GBT.digest };
    await expect(runtime.deploy('production', tampered)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect((await post(`${model()}/infer`, inferBody(rows(1)))).json.model_version).toBe('2');
    expect((await get(`${model()}/versions/3/ready`)).status).toBe(404);
  });

  it('restarts a crashed process on the same endpoint, serving the same version', async () => {
    const before = runtime.status('production');
    expect(before.state).toBe('running');
    process.kill(before.pid as number, 'SIGKILL');
    await eventually(() => {
      const now = runtime.status('production');
      return now.state === 'running' && now.pid !== before.pid;
    });
    const after = runtime.status('production');
    expect(after).toMatchObject({ endpoint, restarts: before.restarts + 1, serving: [{ model: 'breast-cancer', version: '2' }] });
    const { status, json } = await post(`${model()}/infer`, inferBody(rows(1)));
    expect(status).toBe(200);
    expect(json.model_version).toBe('2');
  });

  it('runs each environment in its own process, and stops one without touching the other', async () => {
    const shadow = await runtime.deploy('shadow', LOGREG);
    expect(shadow.endpoint).not.toBe(endpoint);
    expect(runtime.status('shadow').pid).not.toBe(runtime.status('production').pid);
    expect((await post(shadow.inferUrl, inferBody(rows(1)))).json.model_version).toBe('1');
    await runtime.stop('shadow');
    expect(runtime.status('shadow')).toMatchObject({ state: 'stopped', endpoint: null, pid: null, serving: [] });
    await expect(fetch(shadow.inferUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect((await post(`${model()}/infer`, inferBody(rows(1)))).status).toBe(200);
  });

  it('fails a deployment whose artifact cannot be read, with a code', async () => {
    const error = await runtime.deploy('qa', { ...LOGREG, artifactPath: artifact('missing.onnx') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalRuntimeError);
    expect((error as LocalRuntimeError).code).toBe('ARTIFACT_UNREADABLE');
    await runtime.stop('qa');
  });
});

describe('the OIP server in-process', () => {
  it('answers 413 to a body over the limit without reading it', async () => {
    const server = new OipServer({ bodyLimitBytes: 1024, drainTimeoutMs: 1000, threads: 1 });
    const port = await server.listen(0);
    try {
      await server.load(LOGREG);
      await server.promote(LOGREG.model, LOGREG.version);
      const big = inferBody(rows(20));
      const { status, json } = await post(`http://127.0.0.1:${port}/v2/models/breast-cancer/infer`, big);
      expect(status).toBe(413);
      expect(json.error).toMatch(/larger than 1024 bytes/);
    } finally {
      await server.close();
    }
  });

  it('answers 503 for a model loaded but not yet serving, and for the server until one serves', async () => {
    const server = new OipServer({ bodyLimitBytes: 1 << 20, drainTimeoutMs: 1000, threads: 1 });
    const port = await server.listen(0);
    const base = `http://127.0.0.1:${port}`;
    try {
      expect((await get(`${base}/v2/health/ready`)).status).toBe(503);
      await server.load(LOGREG);
      expect((await get(`${base}/v2/models/breast-cancer/ready`)).status).toBe(503);
      expect((await post(`${base}/v2/models/breast-cancer/infer`, inferBody(rows(1)))).status).toBe(503);
      expect((await post(`${base}/v2/models/breast-cancer/versions/1/infer`, inferBody(rows(1)))).status).toBe(200);
      await server.promote(LOGREG.model, LOGREG.version);
      expect((await get(`${base}/v2/health/ready`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
