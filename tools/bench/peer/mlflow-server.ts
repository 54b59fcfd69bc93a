import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KeepAliveClient } from '../http-client';

/** A port nothing listens on now (the OS picks it). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const exited = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });

/**
 * `mlflow server` on loopback with a SQLite backend store under `dir`, in a process group of its
 * own (the CLI, uvicorn's supervisor and its workers), so that stopping it leaves nothing behind.
 */
export class MlflowServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly log: string,
  ) {}

  /** The CLI's process id: uvicorn's supervisor and its workers run below it. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the server with `workers` uvicorn workers and waits until `/health` answers. */
  static async start(mlflow: string, dir: string, workers: number): Promise<MlflowServer> {
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    const log = join(dir, 'server.log');
    const out = createWriteStream(log);
    await new Promise((resolve) => out.once('open', resolve));
    const child = spawn(
      mlflow,
      [
        'server',
        ...['--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`],
        ...['--default-artifact-root', join(dir, 'artifacts')],
        ...['--host', '127.0.0.1', '--port', String(port), '--workers', String(workers)],
        // Our suite logs errors only; uvicorn's per-request access log would cost MLflow a write per request.
        ...['--uvicorn-opts', '--no-access-log'],
      ],
      {
        env: {
          ...process.env,
          // Nothing phones home, and no background job runner competes for the two cores.
          MLFLOW_DISABLE_TELEMETRY: 'true',
          DO_NOT_TRACK: 'true',
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
          PYTHONDONTWRITEBYTECODE: '1',
        },
        detached: true,
        stdio: ['ignore', out, out],
      },
    );
    const server = new MlflowServer(port, child, log);
    const probe = new KeepAliveClient(port, 1);
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mlflow server exited with ${child.exitCode ?? child.signalCode}:\n${await server.logTail()}`);
        if (await probe.call('GET', '/health').then((r) => r.status === 200, () => false)) return server;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`mlflow server did not answer /health in 120 s:\n${await server.logTail()}`);
    } catch (error) {
      await server.stop();
      throw error;
    } finally {
      await probe.close();
      out.close();
    }
  }

  /** The last lines the server wrote. */
  async logTail(lines = 20): Promise<string> {
    const text = await readFile(this.log, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM (the CLI hands it to uvicorn, which drains its workers); the whole group is killed if it lingers. */
  async stop(): Promise<void> {
    const group = this.child.pid;
    if (group === undefined) return;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-group, name);
      } catch {
        // The group is gone already.
      }
    };
    signal('SIGTERM');
    if (await exited(this.child, 20_000)) return;
    // Still up after 20 s: the CLI, uvicorn's supervisor and any worker all belong to the group.
    signal('SIGKILL');
    await exited(this.child, 5_000);
  }
}
