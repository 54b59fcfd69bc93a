import { line, ms, percentile, section } from './report';
import { SuiteProcess, type Response } from './suite-process';

const TOKEN = 'bench-admin-token-0123456789abcdef';

/** `clients` loops issuing requests for `seconds`; returns throughput and latency percentiles. */
const load = async (
  clients: number,
  seconds: number,
  next: (client: number, i: number) => Promise<Response>,
  expected: number,
): Promise<{ count: number; perSecond: number; p50: number; p99: number }> => {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i += 1) {
        const t = performance.now();
        const response = await next(client, i);
        if (response.status !== expected) throw new Error(`unexpected ${response.status}: ${response.body}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, perSecond: (latencies.length / elapsed) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
};

const report = (label: string, r: { count: number; perSecond: number; p50: number; p99: number }): void => {
  line(label, `${Math.round(r.perSecond).toLocaleString('en-US')} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  (${r.count.toLocaleString('en-US')} requests)`);
};

/** Registry HTTP throughput under 32 concurrent keep-alive clients, against the built suite in its own process. */
export const benchRegistryHttp = async (dir: string, seconds = 5): Promise<void> => {
  section('Registry HTTP API (suite in its own process, 32 concurrent keep-alive clients)');
  const suite = await SuiteProcess.start(dir, TOKEN);
  const call = (method: string, path: string, body?: unknown) => suite.call(method, path, body);
  try {
    const models = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
    for (const name of models) await call('POST', '/api/v1/models', { name });
    // An uploaded artifact, as a training job registers one: an http(s) source would time the resolver (checked at registration), not the registry.
    const boundary = '----mrw-bench';
    const uploaded = await suite.call('POST', '/api/v1/artifacts', undefined, TOKEN, {
      contentType: `multipart/form-data; boundary=${boundary}`,
      bytes: Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="m.onnx"\r\n\r\nnot a real model\r\n--${boundary}--\r\n`),
    });
    const { uri } = JSON.parse(uploaded.body) as { uri: string };
    const body = (client: number, i: number) => ({ source: uri, metrics: { auc: 0.9 }, tags: { client: String(client), run: String(i) } });
    report(
      'POST register-version, all clients on one model',
      await load(32, seconds, (c, i) => call('POST', '/api/v1/models/bench-0/versions', body(c, i)), 201),
    );
    const registered = new Array<number>(32).fill(0);
    report(
      'POST register-version, one model per client',
      await load(
        32,
        seconds,
        async (c, i) => {
          const response = await call('POST', `/api/v1/models/${models[c]}/versions`, body(c, i));
          registered[c] = i + 1;
          return response;
        },
        201,
      ),
    );
    report(
      'GET version (folded from its stream)',
      await load(32, seconds, (c, i) => call('GET', `/api/v1/models/${models[c]}/versions/${(i % (registered[c] ?? 1)) + 1}`), 200),
    );
  } finally {
    await suite.stop();
  }
};
