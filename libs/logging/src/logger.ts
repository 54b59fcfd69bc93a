import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { currentLogContext } from './log-context';
import { redactSecrets, scrubText } from './redaction';

export type LogLevel = 'silent' | 'error' | 'info' | 'debug';
export type LogFormat = 'json' | 'pretty';

export interface LoggingOptions {
  /** The `service` field of every line: the service this process runs, or `suite`. */
  readonly service: string;
  readonly level: LogLevel;
  /** `json`: one JSON object per line, for collectors; `pretty`: coloured text for a terminal. */
  readonly format: LogFormat;
  /** Where lines go (default: stdout, written synchronously so a crash loses none). Tests capture here. */
  readonly destination?: DestinationStream;
}

/** The process's pino logger: context fields from AsyncLocalStorage, secrets redacted, ISO time. */
export const createLogger = (options: LoggingOptions): Logger => {
  const stdout = options.destination ?? pino.destination({ dest: 1, sync: true });
  const pretty = options.format === 'pretty';
  const prettify = pretty
    ? prettyFactory({
        colorize: process.stdout.isTTY === true && options.destination === undefined,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
      })
    : undefined;
  // Pretty printing happens in this thread, line by line, so it is as synchronous as JSON.
  const destination: DestinationStream = prettify ? { write: (line: string) => void stdout.write(prettify(line)) } : stdout;
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: {
        // Level names, not numbers, in JSON; pino-pretty wants the numbers.
        ...(pretty ? {} : { level: (label: string) => ({ level: label }) }),
        log: redactSecrets,
      },
      // Errors are serialised (and redacted) by `redactSecrets` above, wherever they are.
      serializers: { err: (value: unknown) => value },
      mixin: () => ({ ...currentLogContext() }),
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? scrubText(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
};

let root: Logger = createLogger({ service: 'mrw', level: 'error', format: 'json' });
const components = new Map<string, Logger>();

/** Makes this the process's logger: Nest's logger and every `loggerFor` write to it from now on. */
export const configureLogging = (options: LoggingOptions): Logger => {
  root = createLogger(options);
  components.clear();
  return root;
};

/** The process's logger (until `configureLogging`: errors only, as JSON on stdout). */
export const rootLogger = (): Logger => root;

/** Fields and a message, or just a message. */
type LogCall = (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void;

export interface ComponentLogger {
  readonly error: LogCall;
  readonly warn: LogCall;
  readonly info: LogCall;
  readonly debug: LogCall;
  /** Whether a line at this level would be written (so that a caller can skip composing it). */
  readonly enabled: (level: 'error' | 'warn' | 'info' | 'debug') => boolean;
}

/**
 * A component's logger (`context` field) for code outside Nest, such as the message buses.
 * It follows a later `configureLogging`, so it may be created at import time.
 */
export const loggerFor = (component: string): ComponentLogger => {
  const current = (): Logger => {
    let logger = components.get(component);
    if (!logger) {
      logger = root.child({ context: component });
      components.set(component, logger);
    }
    return logger;
  };
  const call =
    (level: 'error' | 'warn' | 'info' | 'debug'): LogCall =>
    (fieldsOrMessage, message) => {
      if (typeof fieldsOrMessage === 'string') current()[level](fieldsOrMessage);
      else current()[level](fieldsOrMessage, message);
    };
  return {
    error: call('error'),
    warn: call('warn'),
    info: call('info'),
    debug: call('debug'),
    enabled: (level) => current().isLevelEnabled(level),
  };
};
