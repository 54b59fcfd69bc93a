import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { line, ms, percentile, section } from './report';

const TOKEN = 'bench-admin-token-0123456789abcdef';

interface Response {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const call = (port: number, method: string, path: string, body?: unknown): Promise<Response> =>
  new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });

const waitReady = async (port: number, child: ChildProcess): Promise<void> => {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the suite exited with ${child.exitCode}`);
    const ok = await call(port, 'GET', '/readyz').then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the suite did not become ready in 60 s');
};

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
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [resolve(__dirname, '../../apps/suite/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MRW_DATA_DIR: join(dir, 'suite'), MRW_ADMIN_TOKEN: TOKEN, MRW_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(port, child);
    const models = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
    for (const name of models) await call(port, 'POST', '/api/v1/models', { name });
    const body = (client: number, i: number) => ({ source: `https://models.example.com/${client}/${i}.onnx`, metrics: { auc: 0.9 } });
    report(
      'POST register-version, all clients on one model',
      await load(32, seconds, (c, i) => call(port, 'POST', '/api/v1/models/bench-0/versions', body(c, i)), 201),
    );
    const registered = new Array<number>(32).fill(0);
    report(
      'POST register-version, one model per client',
      await load(
        32,
        seconds,
        async (c, i) => {
          const response = await call(port, 'POST', `/api/v1/models/${models[c]}/versions`, body(c, i));
          registered[c] = i + 1;
          return response;
        },
        201,
      ),
    );
    report(
      'GET version (folded from its stream)',
      await load(32, seconds, (c, i) => call(port, 'GET', `/api/v1/models/${models[c]}/versions/${(i % (registered[c] ?? 1)) + 1}`), 200),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    agent.destroy();
  }
};
