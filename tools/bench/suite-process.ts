import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';

export interface Response {
  status: number;
  body: string;
}

/** The built suite (embedded mode) in its own process, and a keep-alive HTTP client for it. */
export class SuiteProcess {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly adminToken: string,
  ) {}

  /** Starts `dist/apps/suite/main.js` on a random port with its data under `dir`, and waits for `/readyz`. */
  static async start(dir: string, adminToken: string, env: Record<string, string> = {}): Promise<SuiteProcess> {
    const port = 18_000 + Math.floor(Math.random() * 1000);
    const child = spawn(process.execPath, [resolve(__dirname, '../../apps/suite/main.js')], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MRW_DATA_DIR: join(dir, 'suite'), MRW_ADMIN_TOKEN: adminToken, MRW_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const suite = new SuiteProcess(port, child, adminToken);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the suite exited with ${child.exitCode}`);
      if (await suite.call('GET', '/readyz').then((r) => r.status === 200, () => false)) return suite;
      await new Promise((r) => setTimeout(r, 200));
    }
    await suite.stop();
    throw new Error('the suite did not become ready in 60 s');
  }

  /** One request; JSON body in, text body out; the admin token unless another is given. */
  call(method: string, path: string, body?: unknown, token = this.adminToken, raw?: { contentType: string; bytes: Buffer }): Promise<Response> {
    return new Promise((resolvePromise, reject) => {
      const payload = raw ? raw.bytes : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload ? { 'content-type': raw?.contentType ?? 'application/json', 'content-length': payload.length } : {}),
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
    this.agent.destroy();
  }
}
