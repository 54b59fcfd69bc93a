import type { LoggerService } from '@nestjs/common';
import { rootLogger } from '@mrw/logging';

/** Nest's start-up chatter (every module and route) stays out of the info log: it goes to debug. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

const STACK = /\n\s+at /;

/**
 * Nest's `Logger` calls as the process's pino lines: `new Logger('evaluator').log(...)`
 * anywhere in the suite becomes a JSON line with `context: evaluator` and the fields of the
 * request or message being handled.
 */
export class NestPinoLogger implements LoggerService {
  log(message: unknown, ...params: unknown[]): void {
    const { context } = this.split(params, false);
    this.write(context && QUIET_CONTEXTS.has(context) ? 'debug' : 'info', message, params, false);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params, false);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params, false);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params, false);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params, true);
  }

  /** Nest passes `(message, context)`, and for errors `(message, stack, context)`. */
  private split(params: unknown[], mayHaveStack: boolean): { context?: string; stack?: string } {
    const strings = params.filter((p): p is string => typeof p === 'string');
    if (strings.length === 0) return {};
    if (mayHaveStack && strings.length >= 2) return { stack: strings[0] as string, context: strings[strings.length - 1] as string };
    const last = strings[strings.length - 1] as string;
    if (mayHaveStack && STACK.test(last)) return { stack: last };
    return { context: last };
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug', message: unknown, params: unknown[], mayHaveStack: boolean): void {
    const logger = rootLogger();
    if (!logger.isLevelEnabled(level)) return;
    const { context, stack } = this.split(params, mayHaveStack);
    const fields: Record<string, unknown> = {};
    if (context) fields['context'] = context;
    if (stack) fields['stack'] = stack;
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      logger[level](fields, String(message));
    }
  }
}
