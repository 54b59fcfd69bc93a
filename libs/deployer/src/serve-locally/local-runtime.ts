import { fork, type ChildProcess } from 'node:child_process';
import { extname, join } from 'node:path';
import { Logger } from '@nestjs/common';
import { backoffDelay, sleep, type BackoffOptions } from '@mrw/resilience';
import type { ControlReply, ControlRequest, ProcessOptions } from './control-messages';
import type { VersionSpec } from './served-version';

export type { VersionSpec } from './served-version';

export interface LocalRuntimeOptions {
  /** Loopback address the serving processes listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Largest infer request body (default 16 MiB); larger ones are answered 413. */
  readonly bodyLimitBytes?: number;
  /** How long a deployment waits for the new version to answer ready (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** How long a switch waits for the old version's requests in flight (default 30 s). */
  readonly drainTimeoutMs?: number;
  /** onnxruntime intra-op threads per served version (default 1). */
  readonly threads?: number;
  /** Waits between restarts of a process that keeps crashing (default 100 ms doubling to 10 s). */
  readonly restartBackoff?: BackoffOptions;
}

/** Where a deployed version answers: the environment's OIP base URL, and the model's infer URL. */
export interface LocalEndpoint {
  readonly endpoint: string;
  readonly inferUrl: string;
}

export interface LocalEnvironmentStatus {
  readonly environment: string;
  readonly state: 'stopped' | 'starting' | 'running' | 'restarting';
  readonly endpoint: string | null;
  readonly pid: number | null;
  /** Times the process was started again after it died. */
  readonly restarts: number;
  readonly serving: ReadonlyArray<{ readonly model: string; readonly version: string }>;
}

/** Why a local deployment failed: `code` is what the deployment record gives as its reason. */
export class LocalRuntimeError extends Error {
  override readonly name = 'LocalRuntimeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Distributes Omit over the request union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** One environment's serving process and what it must serve (replayed after a crash). */
class Environment {
  child: ChildProcess | undefined;
  port = 0;
  state: LocalEnvironmentStatus['state'] = 'stopped';
  restarts = 0;
  crashesInARow = 0;
  startedAt = 0;
  stopping = false;
  restartTimer: NodeJS.Timeout | undefined;
  /** What serves, by model: the desired state a restart brings back. */
  readonly serving = new Map<string, VersionSpec>();
  /** Deployments and restarts of one environment run one after another. */
  queue: Promise<unknown> = Promise.resolve();
  nextId = 0;
  readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(readonly name: string) {}

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

const ENTRY = join(__dirname, `oip-server.process${extname(__filename)}`);

/**
 * The `local` deployment target's serving runtime: one Open Inference Protocol server process
 * per environment (`production`, `shadow`, …), started on a free loopback port, restarted
 * with backoff when it dies, switched between versions without a failed request.
 */
export class LocalRuntime {
  private readonly logger = new Logger('local-runtime');
  private readonly environments = new Map<string, Environment>();
  private readonly host: string;
  private readonly readyTimeoutMs: number;
  private readonly processOptions: Omit<ProcessOptions, 'port'>;
  private readonly restartBackoff: BackoffOptions;

  constructor(options: LocalRuntimeOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.restartBackoff = { initialMs: 100, maxMs: 10_000, ...options.restartBackoff };
    this.processOptions = {
      host: this.host,
      bodyLimitBytes: options.bodyLimitBytes ?? 16 * 1024 * 1024,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      threads: options.threads ?? 1,
    };
  }

  /**
   * Serves `spec` in `environment`: starts the environment's process if needed, loads the
   * version beside the serving one, waits until it answers ready, then switches to it and
   * unloads the old one once its requests are done. Deploying what already serves is a no-op.
   */
  deploy(environment: string, spec: VersionSpec): Promise<LocalEndpoint> {
    const env = this.environment(environment);
    return env.exclusive(async () => {
      await this.ensureRunning(env);
      const current = env.serving.get(spec.model);
      if (current?.version === spec.version && current.digest === spec.digest) return this.endpointOf(env, spec.model);
      await this.control(env, { type: 'load', spec });
      try {
        await this.waitReady(env, `/v2/models/${encodeURIComponent(spec.model)}/versions/${encodeURIComponent(spec.version)}/ready`);
      } catch (error) {
        await this.control(env, { type: 'unload', model: spec.model, version: spec.version }).catch(() => undefined);
        throw error;
      }
      await this.control(env, { type: 'promote', model: spec.model, version: spec.version });
      env.serving.set(spec.model, spec);
      this.logger.log(`${environment}: ${spec.model} version ${spec.version} serves at ${this.baseUrl(env)}`);
      return this.endpointOf(env, spec.model);
    });
  }

  /** The environment's process and what it serves. */
  status(environment: string): LocalEnvironmentStatus {
    const env = this.environments.get(environment);
    return {
      environment,
      state: env?.state ?? 'stopped',
      endpoint: env && env.port !== 0 && env.state !== 'stopped' ? this.baseUrl(env) : null,
      pid: env?.child?.pid ?? null,
      restarts: env?.restarts ?? 0,
      serving: env ? [...env.serving.values()].map(({ model, version }) => ({ model, version })) : [],
    };
  }

  /** Stops the environment's process (requests in flight finish) and forgets what it served. */
  async stop(environment: string): Promise<void> {
    const env = this.environments.get(environment);
    if (!env) return;
    this.environments.delete(environment);
    env.stopping = true;
    clearTimeout(env.restartTimer);
    const child = env.child;
    env.state = 'stopped';
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ id: -1, type: 'shutdown' } satisfies ControlRequest);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every environment: for the service's shutdown. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.environments.keys()].map((name) => this.stop(name)));
  }

  private environment(name: string): Environment {
    let env = this.environments.get(name);
    if (!env) {
      env = new Environment(name);
      this.environments.set(name, env);
    }
    return env;
  }

  private baseUrl(env: Environment): string {
    return `http://${this.host}:${env.port}`;
  }

  private endpointOf(env: Environment, model: string): LocalEndpoint {
    const endpoint = this.baseUrl(env);
    return { endpoint, inferUrl: `${endpoint}/v2/models/${encodeURIComponent(model)}/infer` };
  }

  /** Starts the process if it is not running, and brings back what it served before it died. */
  private async ensureRunning(env: Environment): Promise<void> {
    if (env.child && env.state === 'running') return;
    if (env.stopping) throw new LocalRuntimeError('ENVIRONMENT_STOPPED', `the ${env.name} environment was stopped`);
    env.state = env.restarts > 0 || env.serving.size > 0 ? 'restarting' : 'starting';
    await this.spawn(env);
    for (const spec of env.serving.values()) {
      await this.control(env, { type: 'load', spec });
      await this.control(env, { type: 'promote', model: spec.model, version: spec.version });
    }
    env.state = 'running';
  }

  private spawn(env: Environment): Promise<void> {
    const options: ProcessOptions = { ...this.processOptions, port: env.port };
    const child = fork(ENTRY, [], {
      // Under the test runner this file is TypeScript, and so is the entry.
      execArgv: extname(__filename) === '.ts' ? ['-r', '@swc-node/register'] : [],
      env: { ...process.env, MRW_OIP_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    env.child = child;
    // A failed send or kill is reported here; the exit handler below does the recovery.
    child.on('error', (error) => this.logger.warn(`${env.name}: ${error.message}`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new LocalRuntimeError('PROCESS_START_TIMEOUT', `the ${env.name} serving process did not listen within ${this.readyTimeoutMs} ms`));
      }, this.readyTimeoutMs);
      child.on('message', (message: ControlReply) => {
        if ('type' in message) {
          clearTimeout(timer);
          env.port = message.port;
          env.startedAt = Date.now();
          resolve();
          return;
        }
        const waiting = env.pending.get(message.id);
        if (!waiting) return;
        env.pending.delete(message.id);
        if (message.ok) waiting.resolve(message.value);
        else waiting.reject(new LocalRuntimeError(message.code, message.message));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const listened = env.startedAt !== 0 && env.child === child;
        // A port taken meanwhile must not keep the environment down: the next start takes any.
        if (!listened) env.port = 0;
        reject(new LocalRuntimeError('PROCESS_EXITED', `the ${env.name} serving process exited (${signal ?? code}) before listening`));
        this.exited(env, child, signal ?? String(code));
      });
    });
  }

  /** A process ended: fail what waited on it and, unless stopped, start it again after a backoff. */
  private exited(env: Environment, child: ChildProcess, reason: string): void {
    if (env.child !== child) return;
    env.child = undefined;
    const ranFor = env.startedAt === 0 ? 0 : Date.now() - env.startedAt;
    env.startedAt = 0;
    for (const waiting of env.pending.values()) {
      waiting.reject(new LocalRuntimeError('PROCESS_EXITED', `the ${env.name} serving process exited (${reason})`));
    }
    env.pending.clear();
    if (env.stopping) return;
    env.state = 'restarting';
    // A process that served a while before dying starts its backoff afresh.
    env.crashesInARow = ranFor > 10_000 ? 1 : env.crashesInARow + 1;
    const delay = backoffDelay(env.crashesInARow, this.restartBackoff);
    this.logger.warn(`${env.name}: the serving process exited (${reason}); restarting in ${delay} ms`);
    env.restartTimer = setTimeout(() => {
      env
        .exclusive(async () => {
          if (env.stopping || (env.child && env.state === 'running')) return;
          env.restarts += 1;
          await this.ensureRunning(env);
        })
        .catch((error: unknown) => {
          this.logger.error(`${env.name}: restart failed: ${error instanceof Error ? error.message : String(error)}`);
          // The failed start's exit handler has already scheduled the next attempt; kill a half-started one.
          if (env.child && env.state !== 'running') env.child.kill('SIGKILL');
        });
    }, delay);
  }

  private control(env: Environment, request: WithoutId<ControlRequest>): Promise<unknown> {
    const child = env.child;
    if (!child?.connected) return Promise.reject(new LocalRuntimeError('PROCESS_EXITED', `the ${env.name} serving process is not running`));
    const id = (env.nextId += 1);
    return new Promise((resolve, reject) => {
      env.pending.set(id, { resolve, reject });
      child.send({ ...request, id } as ControlRequest, (error) => {
        if (!error) return;
        env.pending.delete(id);
        reject(new LocalRuntimeError('PROCESS_EXITED', `the ${env.name} serving process is not reachable: ${error.message}`));
      });
    });
  }

  /** Health-checks through HTTP, as a client would see it, until 200 or the timeout. */
  private async waitReady(env: Environment, path: string): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${this.baseUrl(env)}${path}`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await sleep(50);
    }
    throw new LocalRuntimeError('NOT_READY', `${path} did not answer ready within ${this.readyTimeoutMs} ms: ${last}`);
  }
}
