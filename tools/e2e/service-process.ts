import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** A free TCP port on loopback. */
export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });

/** One suite service running as its own process from `dist/`, as in distributed mode. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    /** Names its log file (`<label>.log`): replicas of one service need one each. */
    readonly label: string = name,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (to find the processes it started). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    const main = join(ROOT, 'dist', 'apps', this.name, 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
    const log = createWriteStream(join(this.logDir, `${this.label}.log`), { flags: 'a' });
    this.child = spawn(process.execPath, [main], {
      env: { ...process.env, ...this.env, ...extraEnv, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    const child = this.child;
    this.exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit(signal ?? code)));
  }

  /** Resolves when `/readyz` answers 200; fails early if the process dies. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    void this.exited.then(() => {
      dead = true;
    });
    while (Date.now() < deadline) {
      if (dead) throw new Error(`${this.label} exited before it was ready (see its log in ${this.logDir})`);
      const ok = await fetch(`${this.url}/readyz`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label} not ready after ${timeoutMs} ms (see ${this.logDir}/${this.label}.log)`);
  }

  /** Resolves with the signal or exit code once the process has ended (e.g. killed by its fault hook). */
  waitForExit(): Promise<NodeJS.Signals | number | null> {
    return this.exited;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /**
   * The value of one Prometheus sample, 0 when absent (no labels: a metric that has none). A
   * label wanted empty must be absent, as Prometheus reads an empty label.
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const wanted = Object.entries(labels);
    for (const line of text.split('\n')) {
      const labelled = line.startsWith(`${name}{`);
      if (!labelled && !(wanted.length === 0 && line.startsWith(`${name} `))) continue;
      const has = labelled ? line.slice(name.length + 1, line.indexOf('}')).split(',') : [];
      const matches = wanted.every(([k, v]) => (v === '' ? !has.some((label) => label.startsWith(`${k}=`)) : has.includes(`${k}="${v}"`)));
      if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return 0;
  }
}
