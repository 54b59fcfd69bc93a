import { ConsoleLogger, Logger, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { configureHttpApp } from './bootstrap';
import { ConfigError, loadConfig, type SuiteConfig } from './config/config';

const LEVELS: Record<SuiteConfig['logLevel'], LogLevel[]> = {
  silent: [],
  error: ['error', 'fatal'],
  info: ['log', 'warn', 'error', 'fatal'],
  debug: ['log', 'warn', 'error', 'fatal', 'debug', 'verbose'],
};

/** Nest's start-up chatter (every module and route) stays out of the info log. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

class ServiceLogger extends ConsoleLogger {
  override log(message: unknown, context?: string): void {
    if (context && QUIET_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}

/** Boots a service process: reads the configuration, builds the root module, listens. */
export const startService = async (
  title: string,
  rootModule: (config: SuiteConfig) => Type<unknown> | import('@nestjs/common').DynamicModule,
): Promise<NestExpressApplication> => {
  let config: SuiteConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await NestFactory.create<NestExpressApplication>(rootModule(config), {
    bodyParser: false,
    logger: new ServiceLogger(title, { logLevels: LEVELS[config.logLevel] }),
  });
  configureHttpApp(app, title);
  await app.listen(config.port, config.host);
  new Logger(title).log(
    `listening on ${config.publicUrl} (store ${config.store} in ${config.dataDir}, bus ${config.bus}); API docs at ${config.publicUrl}/api/docs`,
  );
  return app;
};
