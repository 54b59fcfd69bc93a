import { Logger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configureLogging } from '@mrw/logging';
import { configureHttpApp } from './bootstrap';
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

/** Boots a service process: reads the configuration, builds the root module, listens. */
export const startService = async (
  title: string,
  rootModule: (config: SuiteConfig) => Type<unknown> | DynamicModule,
  options: { readonly service?: string } = {},
): Promise<NestExpressApplication> => {
  const config = orExit(() => loadConfig());
  configureLogging({ service: options.service ?? title, level: config.logLevel, format: config.logFormat });
  // Some settings are only checked as the modules start (the server secret file, seed tokens).
  const app = await orExitAsync(() => NestFactory.create<NestExpressApplication>(rootModule(config), { bodyParser: false, logger: new NestPinoLogger() }));
  // First, so that even a request refused by the body parser gets its correlation id and access line.
  app.use(requestLogging());
  configureHttpApp(app, title);
  await orExitAsync(() => app.listen(config.port, config.host));
  await connectBusTransport(app);
  new Logger(title).log(
    `listening on ${config.publicUrl} (store ${config.store} in ${config.dataDir}, bus ${config.bus}); API docs at ${config.publicUrl}/api/docs`,
  );
  return app;
};
