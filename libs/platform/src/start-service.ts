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

/** Boots a service process: reads the configuration, builds the root module, listens. */
export const startService = async (
  title: string,
  rootModule: (config: SuiteConfig) => Type<unknown> | DynamicModule,
  options: { readonly service?: string } = {},
): Promise<NestExpressApplication> => {
  const config = orExit(() => loadConfig());
  configureLogging({ service: options.service ?? title, level: config.logLevel, format: config.logFormat });
  // Some settings are only checked as the modules start (the server secret file, seed tokens).
  const app = await orExitAsync(() => createHttpApp(rootModule(config), title));
  await orExitAsync(() => app.listen(config.port, config.host));
  await connectBusTransport(app);
  new Logger(title).log(
    `listening on ${config.publicUrl} (store ${config.store} in ${config.dataDir}, bus ${config.bus}); API docs at ${config.publicUrl}/api/docs`,
  );
  return app;
};
