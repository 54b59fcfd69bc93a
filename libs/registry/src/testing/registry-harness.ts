import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configureLogging } from '@mrw/logging';
import {
  connectBusTransport,
  createHttpApp,
  loadConfig,
  PlatformModule,
  RegistryCommands,
  type Clock,
  type SuiteConfig,
} from '@mrw/platform';
import type { EventStore } from '@mrw/event-store';
import { RegistryModule } from '../registry.module';
import { RegistryProjector } from '../projections/registry-projector';

export interface HttpResult<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface RegistryHarness {
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly app: NestExpressApplication;
  /** A JSON request; `token` defaults to the admin token, `null` sends none. */
  http<T = any>(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<HttpResult<T>>;
  /** Issues a token with these roles and returns its secret. */
  token(subject: string, roles: string[], models?: string[]): Promise<string>;
  /** Reports the version's last deployment as the deployer would: started, then succeeded. */
  deployed(model: string, version: number): Promise<void>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface HarnessOptions {
  readonly dataDir?: string;
  readonly clock?: Clock;
  readonly env?: Record<string, string>;
  readonly eventStore?: EventStore;
  /** More service modules to boot beside the registry (embedded mode, as the suite does). */
  readonly modules?: ReadonlyArray<Type<unknown>>;
  /** Where the process's log lines go (default stdout), e.g. to assert on them; set MRW_LOG_LEVEL in `env`. */
  readonly logDestination?: { write(line: string): void };
}

/** Boots the registry over real HTTP on a free port, with its own data directory. */
export const startRegistry = async (options: HarnessOptions = {}): Promise<RegistryHarness> => {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'mrw-registry-')));
  const adminToken = 'test-admin-token-0123456789abcdefghij';
  const config: SuiteConfig = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MRW_DATA_DIR: dataDir,
    MRW_ADMIN_TOKEN: adminToken,
    MRW_LOG_LEVEL: 'error',
    ...options.env,
  });

  @Module({})
  class TestSuiteModule {}
  const root: DynamicModule = {
    module: TestSuiteModule,
    imports: [
      PlatformModule.forRoot(config, {
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.eventStore ? { eventStore: options.eventStore } : {}),
      }),
      RegistryModule,
      ...(options.modules ?? []),
    ],
  };
  // The same logging as a service process (start-service.ts), written where the test wants it.
  configureLogging({
    service: 'registry',
    level: config.logLevel,
    format: config.logFormat,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const app = await createHttpApp(root, 'registry (test)');
  await app.listen(0, '127.0.0.1');
  await connectBusTransport(app);
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;

  const http: RegistryHarness['http'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as any };
  };

  return {
    baseUrl,
    adminToken,
    dataDir,
    app,
    http,
    token: async (subject, roles, models) => {
      const result = await http('POST', '/api/v1/tokens', { body: { subject, roles, ...(models ? { models } : {}) } });
      if (result.status !== 201) throw new Error(`token for ${subject}: ${result.status} ${JSON.stringify(result.body)}`);
      return result.body.token as string;
    },
    deployed: async (model, version) => {
      const state = await http('GET', `/api/v1/models/${model}/versions/${version}`);
      const deploymentId = (state.body.deployments.at(-1) as { id: string }).id;
      const send = (type: string, data: Record<string, unknown>) =>
        app.get(RegistryCommands).send('deployer', {
          commandId: randomUUID(),
          type,
          model,
          version,
          data: { deploymentId, ...data },
          correlationId: randomUUID(),
          causationId: null,
        });
      await send('RecordDeploymentStarted', { environment: 'production', target: 'local' });
      await send('RecordDeploymentSucceeded', { endpoint: null });
    },
    close: async ({ keepData = false } = {}) => {
      await app.close();
      if (!keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
};

/** Waits until the registry's read model has caught up with the log. */
export const projectionsCaughtUp = async (harness: RegistryHarness): Promise<void> => {
  await harness.app.get(RegistryProjector).caughtUp();
};

/** The system clock plus whatever time a test has skipped: expiries and timers without waiting. */
export class SkippingClock implements Clock {
  private skipped = 0;
  now(): Date {
    return new Date(Date.now() + this.skipped);
  }
  skip(ms: number): void {
    this.skipped += ms;
  }
}
