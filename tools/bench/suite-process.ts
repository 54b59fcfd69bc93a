import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { KeepAliveClient, type Response } from './http-client';

export type { Response } from './http-client';

/** The built suite (embedded mode) in its own process, and a keep-alive HTTP client for it. */
export class SuiteProcess {
  private readonly http: KeepAliveClient;

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly adminToken: string,
  ) {
    this.http = new KeepAliveClient(port, 64);
  }

  /** The process id, to measure what the suite itself costs (see processTreeCpuMs). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts `dist/apps/<app>/main.js` (the whole suite, or one service of distributed mode) on a
   * random port with its data under `dir`, and waits for `/readyz`.
   */
  static async start(dir: string, adminToken: string, env: Record<string, string> = {}, app = 'suite'): Promise<SuiteProcess> {
    const port = 18_000 + Math.floor(Math.random() * 1000);
    // `MRW_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles the suite under the
    // benchmark's load (Node refuses --cpu-prof in NODE_OPTIONS).
    const nodeArgs = (process.env['MRW_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, resolve(__dirname, `../../apps/${app}/main.js`)], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MRW_DATA_DIR: join(dir, app), MRW_ADMIN_TOKEN: adminToken, MRW_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const suite = new SuiteProcess(port, child, adminToken);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode}`);
      if (await suite.call('GET', '/readyz').then((r) => r.status === 200, () => false)) return suite;
      await new Promise((r) => setTimeout(r, 200));
    }
    await suite.stop();
    throw new Error(`${app} did not become ready in 60 s`);
  }

  /** One request; JSON body in, text body out; the admin token unless another is given. */
  call(method: string, path: string, body?: unknown, token = this.adminToken, raw?: { contentType: string; bytes: Buffer }): Promise<Response> {
    return this.http.call(method, path, raw ?? (body === undefined ? undefined : { json: body }), { authorization: `Bearer ${token}` });
  }

  /** Uploads `bytes` as an artifact (as a training job does before registering); its `artifacts://` URI. */
  async upload(filename: string, bytes: Buffer): Promise<string> {
    const boundary = '----mrw-bench';
    const uploaded = await this.call('POST', '/api/v1/artifacts', undefined, this.adminToken, {
      contentType: `multipart/form-data; boundary=${boundary}`,
      bytes: Buffer.concat([
        Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`),
        bytes,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    if (uploaded.status !== 201) throw new Error(`upload of ${filename}: expected 201, got ${uploaded.status}: ${uploaded.body}`);
    return (JSON.parse(uploaded.body) as { uri: string }).uri;
  }

  /** `call`, expecting `status`; the parsed JSON answer. */
  async json<T = any>(method: string, path: string, status: number, body?: unknown, token?: string): Promise<T> {
    const response = await this.call(method, path, body, token);
    if (response.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${response.status}: ${response.body}`);
    return JSON.parse(response.body) as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await new Promise((r) => this.child.once('exit', r));
    }
    await this.http.close();
  }
}

/**
 * What every process of one distributed-mode deployment shares: the Kafka bus under a namespace
 * of its own, the server secret, the artifacts folder (a volume in production) under `dir`.
 */
export const distributedEnv = (brokers: string, dir: string): Record<string, string> => ({
  MRW_BUS: 'kafka',
  KAFKA_BROKERS: brokers,
  KAFKA_NAMESPACE: `bench${randomUUID().slice(0, 8)}.`,
  MRW_SECRET_KEY: randomUUID() + randomUUID(),
  MRW_ARTIFACTS_DIR: join(dir, 'artifacts'),
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
});
