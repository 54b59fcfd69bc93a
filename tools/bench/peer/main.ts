import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MLFLOW_VERSION } from '../../mlflow/pinned';
import { KeepAliveClient, type Response } from '../http-client';
import { costed, cpuTime, describeErrors, load, reportLoad, type CostedLoad, type LoadResult } from '../load';
import { line, machine, ms, section } from '../report';
import { SuiteProcess } from '../suite-process';
import { MlflowServer } from './mlflow-server';
import { prepareMlflowVenv } from './mlflow-venv';

const MLFLOW = MLFLOW_VERSION;
const WORKERS = [2, 4] as const;
const TOKEN = 'bench-admin-token-0123456789abcdef';

const setting = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, got ${raw}`);
  return value;
};

const SECONDS = setting('MRW_PEER_SECONDS', 15);
const CLIENTS = Math.max(1, Math.round(setting('MRW_PEER_CLIENTS', 32)));
const WARMUP = setting('MRW_PEER_WARMUP_SECONDS', 1);
// How many registered models the clients share: 1 (default) puts every registration on one model, as a busy model sees.
const MODELS = Math.min(CLIENTS, Math.max(1, Math.round(setting('MRW_PEER_MODELS', 1))));
// Our suite is measured as one process (the default), then with MRW_SERVING_PROCESSES at one per
// core, at most two (MLflow's workers use every core): readers answer the catalog reads and pass
// the rest on. MRW_PEER_SERVING_PROCESSES=1 measures the one process only.
const SERVING = Math.max(1, Math.round(setting('MRW_PEER_SERVING_PROCESSES', Math.min(2, cpus().length))));
const SERVING_RUNS = [...new Set([1, SERVING])];
const processes = (n: number): string => (n === 1 ? 'one process' : `${n} serving processes`);

/** One server's model-registry API, as the same closed-loop client drives it. */
interface RegistryApi {
  readonly port: number;
  /** The server's process: its CPU (and its workers') is measured around each run. */
  readonly pid: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  createModel(http: KeepAliveClient, name: string): Promise<Response>;
  createVersion(http: KeepAliveClient, name: string, client: number, i: number): Promise<Response>;
  getVersion(http: KeepAliveClient, name: string, version: number): Promise<Response>;
  readonly status: { readonly model: number; readonly version: number };
}

type Run = CostedLoad;

interface Measured {
  create: Run;
  get: Run;
}

const MLFLOW_API = '/api/2.0/mlflow';

/** MLflow's REST calls (the same requests to MLflow and to our MLflow-compatible API); only `source` differs. */
const mlflowApi = (port: number, pid: number | undefined, source: string, headers: Readonly<Record<string, string>> = {}): RegistryApi => ({
  port,
  pid,
  headers,
  createModel: (http, name) => http.call('POST', `${MLFLOW_API}/registered-models/create`, { json: { name } }),
  createVersion: (http, name, client, i) =>
    http.call('POST', `${MLFLOW_API}/model-versions/create`, {
      json: { name, source, tags: [{ key: 'client', value: String(client) }, { key: 'run', value: String(i) }] },
    }),
  getVersion: (http, name, version) => http.call('GET', `${MLFLOW_API}/model-versions/get?name=${encodeURIComponent(name)}&version=${version}`),
  status: { model: 200, version: 200 },
});

/** Our own API, carrying the same information: the source and two tags. */
const ourApi = (port: number, pid: number | undefined, source: string, headers: Readonly<Record<string, string>>): RegistryApi => ({
  port,
  pid,
  headers,
  createModel: (http, name) => http.call('POST', '/api/v1/models', { json: { name } }),
  createVersion: (http, name, client, i) =>
    http.call('POST', `/api/v1/models/${encodeURIComponent(name)}/versions`, { json: { source, tags: { client: String(client), run: String(i) } } }),
  getVersion: (http, name, version) => http.call('GET', `/api/v1/models/${encodeURIComponent(name)}/versions/${version}`),
  status: { model: 201, version: 201 },
});

/**
 * Creates the models, then runs create-version and get-version for SECONDS each (after a warm-up), printing
 * each. One keep-alive client throughout: the phases follow each other at once, well inside any server's idle timeout.
 */
const measure = async (label: string, api: RegistryApi, prefix: string): Promise<Measured> => {
  const http = new KeepAliveClient(api.port, CLIENTS, api.headers);
  try {
    const models = Array.from({ length: MODELS }, (_, m) => `${prefix}-${m}`);
    for (const name of models) {
      const created = await api.createModel(http, name);
      if (created.status !== api.status.model) throw new Error(`creating model ${name}: expected ${api.status.model}, got ${created.status}: ${created.body}`);
    }
    const versions = new Array<number>(MODELS).fill(0);
    const modelOf = (client: number) => client % MODELS;
    const create = (seconds: number) =>
      load(
        CLIENTS,
        seconds,
        async (c, i) => {
          const response = await api.createVersion(http, models[modelOf(c)] as string, c, i);
          if (response.status === api.status.version) versions[modelOf(c)] = (versions[modelOf(c)] ?? 0) + 1;
          return response;
        },
        api.status.version,
      );
    // Reads spread over every version registered so far, each client starting elsewhere.
    const get = (seconds: number) =>
      load(CLIENTS, seconds, (c, i) => api.getVersion(http, models[modelOf(c)] as string, ((c * 7919 + i) % (versions[modelOf(c)] || 1)) + 1), 200);
    if (WARMUP > 0) await create(WARMUP);
    // The server's CPU over a run, per answered request: what it costs apart from the load generator on the same cores.
    const created = await costed(api.pid, () => create(SECONDS));
    reportLoad(`${label}: create model version`, created);
    if (WARMUP > 0) await get(WARMUP);
    const got = await costed(api.pid, () => get(SECONDS));
    reportLoad(`${label}: get model version`, got);
    return { create: created, get: got };
  } finally {
    await http.close();
  }
};

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const latency = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : ms(value));

/** `57 req/s, p50 450 ms, p99 3.4 s` (and the errors when there were any); why not, when there is no figure. */
const cell = (r: Run | string): string =>
  typeof r === 'string'
    ? r
    : `${Math.round(r.perSecond).toLocaleString('en-US')} req/s, p50 ${latency(r.p50)}, p99 ${latency(r.p99)}` +
      (r.cpuPerRequestMs === undefined ? '' : `, CPU ${cpuTime(r.cpuPerRequestMs)}/req`) +
      (r.errors === 0 ? '' : `, ${r.errors.toLocaleString('en-US')} errors`);

const times = (x: number): string => `${x < 10 ? x.toFixed(1) : Math.round(x).toString()}×`;

/** Our throughput over the best MLflow throughput. */
const ratio = (ours: Run, peers: ReadonlyArray<Run | string>): string => {
  const best = Math.max(0, ...peers.map((p) => (typeof p === 'string' ? 0 : p.perSecond)));
  return best === 0 ? 'n/a' : times(ours.perSecond / best);
};

/** The least CPU per request of MLflow's runs over ours: how much less each request costs us. */
const cpuRatio = (ours: Run, peers: ReadonlyArray<Run | string>): string => {
  const costs = peers.flatMap((p) => (typeof p === 'string' || p.cpuPerRequestMs === undefined ? [] : [p.cpuPerRequestMs]));
  return costs.length === 0 || ours.cpuPerRequestMs === undefined || ours.cpuPerRequestMs <= 0 ? 'n/a' : times(Math.min(...costs) / ours.cpuPerRequestMs);
};

/** The issue's table, in Markdown so it pastes into the README, then any errors the figures leave out. */
interface OursMeasured {
  readonly serving: number;
  readonly native: Measured;
  readonly compat: Measured;
}

const printTable = (mlflow: ReadonlyMap<number, Measured | string>, oursRuns: readonly OursMeasured[]): void => {
  const peer = (workers: number, op: keyof Measured): Run | string => {
    const measured = mlflow.get(workers) ?? 'not run';
    return typeof measured === 'string' ? measured : measured[op];
  };
  const rows: string[][] = [];
  const errors: string[] = [];
  for (const op of ['create', 'get'] as const) {
    const peers = WORKERS.map((w) => peer(w, op));
    for (const ours of oursRuns) {
      for (const [flavour, measured] of [['/api/v1', ours.native], ['MLflow API', ours.compat]] as const) {
        const who = `ours, ${processes(ours.serving)}: ${flavour}`;
        rows.push([`${op} model version (${who})`, ...peers.map(cell), cell(measured[op]), ratio(measured[op], peers), cpuRatio(measured[op], peers)]);
        if (measured[op].errors > 0) errors.push(`${who}, ${op}: ${describeErrors(measured[op]).slice(2)}`);
      }
    }
    WORKERS.forEach((w, k) => {
      const p = peers[k];
      if (p !== undefined && typeof p !== 'string' && p.errors > 0) errors.push(`MLflow ${w} workers, ${op}: ${describeErrors(p).slice(2)}`);
    });
  }
  const header = [
    'operation',
    ...WORKERS.map((w) => `MLflow ${MLFLOW} (${w} workers)`),
    'ours',
    'ratio (ours / best MLflow)',
    'CPU per request (least MLflow / ours)',
  ];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const row = (cells: readonly string[]) => `| ${cells.map((c, k) => c.padEnd(widths[k] ?? 0)).join(' | ')} |\n`;
  section('Side by side');
  process.stdout.write(row(header) + row(widths.map((w) => '-'.repeat(w))) + rows.map(row).join(''));
  if (errors.length > 0) process.stdout.write(`\nErrors (answers with another status, not counted above):\n${errors.map((e) => `  ${e}\n`).join('')}`);
};

/**
 * `npm run bench:peer`: MLflow's tracking server (SQLite backend, 2 then 4 uvicorn workers) and the
 * built suite (embedded, SQLite with synchronous=FULL) on loopback, driven by the same closed-loop
 * client; prints the issue's side-by-side table, with each server's CPU time per request (its
 * process and every process below it, from /proc) beside its throughput. Not a test: nothing here asserts.
 */
const main = async (): Promise<void> => {
  const started = performance.now();
  process.stdout.write(
    `MLflow ${MLFLOW} and model-registry-workflows side by side\n${machine()}\n` +
      `${CLIENTS} closed-loop keep-alive clients, ${SECONDS} s per operation after a ${WARMUP} s warm-up, ` +
      `${MODELS === 1 ? 'all registering on one model' : `spread over ${MODELS} models`}\n`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'mrw-peer-'));
  const running = new Set<{ stop(): Promise<void> }>();
  // MLflow runs in a process group of its own, which a Ctrl-C in the terminal does not reach.
  const interrupted = () => {
    void Promise.allSettled([...running].map((server) => server.stop()))
      .then(() => rm(dir, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const mlflow = new Map<number, Measured | string>();
    section(`MLflow ${MLFLOW} (tracking server, SQLite backend store)`);
    const venv = await prepareMlflowVenv(MLFLOW, (text) => process.stdout.write(`  ${text}\n`)).catch(reason);
    if (typeof venv === 'string') {
      process.stdout.write(`  MLflow ${MLFLOW} cannot be installed, so only our side runs: ${venv}\n`);
      for (const workers of WORKERS) mlflow.set(workers, 'not installed');
    } else {
      try {
        for (const workers of WORKERS) {
          const t = performance.now();
          const server = await MlflowServer.start(venv.mlflow, join(dir, `mlflow-${workers}-workers`), workers).catch(reason);
          if (typeof server === 'string') {
            process.stdout.write(`  MLflow with ${workers} workers did not start: ${server}\n`);
            mlflow.set(workers, 'did not start');
            continue;
          }
          running.add(server);
          line(`${workers} workers`, `ready on port ${server.port} after ${((performance.now() - t) / 1000).toFixed(1)} s`);
          try {
            mlflow.set(workers, await measure(`${workers} workers`, mlflowApi(server.port, server.pid, 's3://bucket/run/model'), 'peer'));
          } catch (error) {
            process.stdout.write(`  MLflow with ${workers} workers failed: ${reason(error)}\n`);
            mlflow.set(workers, 'failed');
          } finally {
            await server.stop();
            running.delete(server);
          }
        }
      } finally {
        await venv.dispose();
      }
    }

    const ours: OursMeasured[] = [];
    for (const serving of SERVING_RUNS) {
      section(`ours (${processes(serving)}): built suite, embedded, SQLite synchronous=FULL`);
      const suite = await SuiteProcess.start(dir, TOKEN, { MRW_SERVING_PROCESSES: String(serving), MRW_DATA_DIR: join(dir, `suite-${serving}`) });
      running.add(suite);
      try {
        // An uploaded artifact (`artifacts://`): we refuse s3 sources, and an http(s) one would time the resolver, not the registry.
        const source = await suite.upload('m.onnx', Buffer.from('not a real model'));
        const headers = { authorization: `Bearer ${TOKEN}` };
        const native = await measure('/api/v1', ourApi(suite.port, suite.pid, source, headers), 'peer-v1');
        const compat = await measure('MLflow API', mlflowApi(suite.port, suite.pid, source, headers), 'peer-mlflow');
        ours.push({ serving, native, compat });
      } finally {
        await suite.stop();
        running.delete(suite);
      }
    }
    printTable(mlflow, ours);
    process.stdout.write(`\n(${Math.round((performance.now() - started) / 1000)} s in all)\n`);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await rm(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
