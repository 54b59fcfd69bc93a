import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Logger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configureLogging } from '@mrw/logging';
import { configureHttpApp } from './bootstrap';
import { LeanExpressAdapter } from './express-adapter';
import { connectBusTransport } from './messaging/bus-transport';
import { ConfigError, loadConfig, type SuiteConfig } from './config/config';
import { NestPinoLogger } from './logging/nest-pino.logger';
import { requestLogging } from './logging/request-logging.middleware';
import { Metrics } from './observability/metrics';
import { Readiness } from './observability/readiness';
import { BeforeShutdown } from './serving/before-shutdown';
import { ConnectionDealer, ServedHere } from './serving/connection-dealer';
import { forwardToLeader } from './serving/forward-to-leader';
import { DEALT_CONNECTION, isMetricsMessage, LEADER_SOCKET_ENV, METRICS_ANSWERED, METRICS_ASKED, READER_NAME_ENV, READER_READY, ReaderProcesses, type MetricsMessage } from './serving/reader-processes';

/** A configuration error ends the process with exit code 2 and what to change, not a stack trace. */
const exitOnConfigError = (error: unknown): never => {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
};

const orExit = <T>(work: () => T): T => {
  try {
    return work();
  } catch (error) {
    return exitOnConfigError(error);
  }
};

const orExitAsync = <T>(work: () => Promise<T>): Promise<T> => work().catch(exitOnConfigError);

/**
 * A service's HTTP application, as every process and test harness builds it: the Express adapter
 * that keeps prototypes stable, pino for Nest's own lines, an access line per request (first, so
 * that even a request the body parser refuses gets its correlation id), then the guards, limits,
 * validation and OpenAPI document of `configureHttpApp`.
 */
export const createHttpApp = async (root: Type<unknown> | DynamicModule, title: string): Promise<NestExpressApplication> => {
  const app = await NestFactory.create<NestExpressApplication>(root, new LeanExpressAdapter(), {
    bodyParser: false,
    logger: new NestPinoLogger(),
  });
  app.use(requestLogging());
  configureHttpApp(app, title);
  return app;
};

/**
 * Boots a service process: reads the configuration, builds the root module, listens. With
 * `readerScript` and MRW_SERVING_PROCESSES above 1, the port is served by this process and by
 * reader processes it starts (see `serveWithReaders`).
 */
export const startService = async (
  title: string,
  rootModule: (config: SuiteConfig) => Type<unknown> | DynamicModule,
  options: { readonly service?: string; readonly readerScript?: string } = {},
): Promise<NestExpressApplication> => {
  const config = orExit(() => loadConfig());
  configureLogging({ service: options.service ?? title, level: config.logLevel, format: config.logFormat });
  // Some settings are only checked as the modules start (the server secret file, seed tokens).
  const app = await orExitAsync(() => createHttpApp(rootModule(config), title));
  const readers = options.readerScript !== undefined && config.servingProcesses > 1 ? options.readerScript : undefined;
  await orExitAsync(async () => void (await (readers ? serveWithReaders(app, config, readers) : app.listen(config.port, config.host))));
  await connectBusTransport(app);
  new Logger(title).log(
    `listening on ${config.publicUrl} (store ${config.store} in ${config.dataDir}, bus ${config.bus}` +
      `${readers ? `, ${config.servingProcesses} serving processes` : ''}); API docs at ${config.publicUrl}/api/docs`,
  );
  return app;
};

/**
 * The port served by several processes: this one, which does everything, and readers, which
 * answer the registry's catalog reads from the same files and pass every other request on to
 * this one's private socket. Connections are dealt in turn; readers start once this process is
 * ready (they read its read model), and stop before it does.
 */
const serveWithReaders = async (app: NestExpressApplication, config: SuiteConfig, readerScript: string): Promise<void> => {
  const log = new Logger('serving');
  const socketDir = privateSocketDir();
  const leaderSocket = join(socketDir, 'suite.sock');
  await app.listen(leaderSocket);
  const readers = new ReaderProcesses({ script: readerScript, count: config.servingProcesses - 1, leaderSocket, log });
  const here = new ServedHere(app.getHttpServer() as Server);
  const dealer = new ConnectionDealer(() => [here, ...readers.takers()]);
  // /metrics reports the readers' series too, each labelled with its reader.
  app.get(Metrics).gatherFrom(() => readers.metrics());
  await dealer.listen(config.port, config.host);
  let stopped = false;
  // Stop dealing, let the readers finish (what they pass on is still answered here), then finish
  // this process's own connections, before the modules close what requests use.
  app.get(BeforeShutdown).add(async () => {
    stopped = true;
    dealer.close();
    await readers.stop();
    await here.drain();
    rmSync(socketDir, { recursive: true, force: true });
  });
  // Readers read this process's read model, so they start once everything else here is ready;
  // and the suite is ready once they serve (clients keep the connections they are dealt first).
  const readiness = app.get(Readiness);
  let readersServe = false;
  let readersStarted = false;
  readiness.register({
    name: SERVING_CHECK,
    check: async () => ({
      ready: readersServe,
      detail: !readersServe
        ? 'reader processes starting'
        : readersStarted
          ? `${config.servingProcesses} processes serve`
          : 'reader processes did not all start within a minute; this process serves their share',
    }),
  });
  const restReady = async () => (await readiness.report()).checks.every((check) => check.ready || check.name === SERVING_CHECK);
  void (async () => {
    while (!stopped && !(await restReady())) await new Promise((resolve) => setTimeout(resolve, 100));
    if (stopped) return;
    readers.start();
    readersStarted = await readers.allReady();
    if (!readersStarted && !stopped) log.warn('not every reader process became ready within a minute; this process serves their share meanwhile');
    readersServe = true;
  })();
};

/**
 * A directory only this user can enter (mode 0700), for a socket only this suite's processes
 * use, removed as the process stops (and at exit, should it end another way). The suite's socket takes any request from whoever can
 * connect to it, as its port does; nobody else on the machine can.
 */
const privateSocketDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'mrw-serving-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The readiness check of a suite served by several processes: its readers serve (a later restart of one does not count). */
const SERVING_CHECK = 'serving-processes';

/**
 * Boots a reader process (started by a suite with MRW_SERVING_PROCESSES above 1): the same
 * configuration, the modules `rootModule` names, and no port of its own. Connections arrive
 * from the suite; a request `servesHere` does not take is passed on to the suite. When the
 * suite goes away, the reader stops.
 */
export const startReader = async (
  title: string,
  rootModule: (config: SuiteConfig) => Type<unknown> | DynamicModule,
  servesHere: (method: string, url: string) => boolean,
): Promise<void> => {
  const leaderSocket = process.env[LEADER_SOCKET_ENV];
  if (leaderSocket === undefined || process.send === undefined) {
    process.stderr.write('a reader process is started by the suite itself: set MRW_SERVING_PROCESSES and start the suite\n');
    process.exit(2);
  }
  const config = orExit(() => loadConfig());
  configureLogging({ service: `${title}-reader`, level: config.logLevel, format: config.logFormat });
  const app = await orExitAsync(() => createHttpApp(rootModule(config), title));
  // A socket of its own, which nothing connects to: a listening server is one that keeps its
  // connections' timeouts (slow requests) and closes idle ones when it stops, dealt ones included.
  const socketDir = privateSocketDir();
  await app.listen(join(socketDir, 'reader.sock'));
  const server = app.getHttpServer() as Server;
  const here = new ServedHere(server);
  app.get(BeforeShutdown).add(async () => {
    await here.drain();
    rmSync(socketDir, { recursive: true, force: true });
  });
  // Requests are sorted before Express sees them: what this process serves goes to the app, the
  // rest to the suite as it came (the suite logs and counts it).
  const [serve] = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  const forward = forwardToLeader(leaderSocket);
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) =>
    servesHere(request.method ?? '', request.url ?? '') && serve ? serve(request, response) : forward(request, response),
  );
  const metrics = app.get(Metrics);
  metrics.nameProcess(process.env[READER_NAME_ENV] ?? `reader-${process.pid}`);
  process.on('message', (message: unknown, socket?: Socket) => {
    if (message === DEALT_CONNECTION && socket !== undefined) here.take(socket);
    else if (isMetricsMessage(message) && message.type === METRICS_ASKED) {
      // A collector failing, or the suite gone before the answer leaves: the scrape goes without this reader.
      void metrics.registry
        .getMetricsAsJSON()
        .catch(() => [])
        .then((json) => process.send?.({ type: METRICS_ANSWERED, id: message.id, metrics: json } satisfies MetricsMessage, undefined, {}, () => undefined));
    }
  });
  // The suite gone (stopped, or killed): nothing is left to pass requests on to.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.send(READER_READY);
};
