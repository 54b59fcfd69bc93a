import { cpus } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { AllowListError, parseAllowedHosts, type AllowList } from '@mrw/outbound';
import { parseDuration } from '@mrw/contracts';

/** Process configuration, from environment variables only (DESIGN section 6). */
export interface SuiteConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly adminToken: string | undefined;
  /**
   * The server secret (`MRW_SECRET_KEY`, 32+ characters) that token verifiers and, later,
   * encrypted settings and signed links derive their keys from. Unset in embedded mode: one
   * is generated under the data directory on first start. Every process of a distributed
   * suite needs the same value.
   */
  readonly secretKey: string | undefined;
  readonly bus: 'embedded' | 'kafka';
  readonly store: 'sqlite' | 'eventstoredb' | 'postgres';
  readonly kafkaBrokers: readonly string[];
  readonly eventStoreDbUrl: string | undefined;
  /** The PostgreSQL event store's server (`MRW_POSTGRES_URL`, `postgres://user:password@host:5432/db`); it may hold a password: never log it. */
  readonly postgresUrl: string | undefined;
  /**
   * The PostgreSQL schema holding the event store's tables (`MRW_POSTGRES_SCHEMA`, default `mrw`),
   * created and migrated at start: several suites (or test runs) can share one database.
   */
  readonly postgresSchema: string;
  /** Whether a version's source may be a `file://` path on this machine. */
  readonly allowFileSources: boolean;
  /** The only directories `file://` sources may be under (`MRW_FILE_SOURCE_ROOTS`); never /proc, /sys, /dev. */
  readonly fileSourceRoots: readonly string[];
  /** What outbound calls may reach besides public addresses (`MRW_OUTBOUND_ALLOWED_HOSTS`). */
  readonly outboundAllowedHosts: AllowList;
  /** The largest model artifact fetched or accepted (`MRW_MAX_ARTIFACT_BYTES`, default 4 GiB). */
  readonly maxArtifactBytes: number;
  /** A JSON file of tokens to seed: `[{subject, roles, models?, token}]`. */
  readonly seedTokensFile: string | undefined;
  /** Where the built console is (`MRW_CONSOLE_DIR`); unset: `dist/console` of the installation. */
  readonly consoleDir: string | undefined;
  /** The base URL people reach this suite on, for links in notifications and responses. */
  readonly publicUrl: string;
  /** SQLite durability: FULL survives power loss, NORMAL only process crashes. */
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
  readonly logLevel: 'silent' | 'error' | 'info' | 'debug';
  /** `json` (one object per line, for log collectors) or `pretty` (for a terminal): `MRW_LOG_FORMAT`. */
  readonly logFormat: 'json' | 'pretty';
  /** The SQLite event store's file; processes of one machine may share it. */
  readonly sqliteFile: string;
  /** This service's own bearer token, sent with its commands to the registry over Kafka. */
  readonly serviceToken: string | undefined;
  /**
   * Test-only fault injection for crash tests: `forwarder:before-publish:<EventType>` or
   * `forwarder:after-publish:<EventType>` makes the log forwarder SIGKILL its own process
   * there, the first time it forwards an event of that type.
   */
  readonly crashAt: string | undefined;
  /** onnxruntime threads for one evaluation (`MRW_EVALUATOR_THREADS`, default: the cores). */
  readonly evaluatorThreads: number;
  /** Where uploaded model artifacts live (`MRW_ARTIFACTS_DIR`): shared by registry and evaluator. */
  readonly artifactsDir: string;
  /** Prefix of every Kafka topic and consumer group (`KAFKA_NAMESPACE`). */
  readonly kafkaNamespace: string;
  /**
   * Where approval emails are sent (`MRW_SMTP_URL`, `smtp://user:pass@host:587` or `smtps://…`);
   * unset: no email channel. It holds a password: never log it (`describeSmtpUrl` shows host:port).
   */
  readonly smtpUrl: string | undefined;
  /** The From of notification emails (`MRW_MAIL_FROM`). */
  readonly mailFrom: string;
  /**
   * The Slack app's signing secret (`MRW_SLACK_SIGNING_SECRET`), which verifies the `v0`
   * signature of interactivity requests (approve/reject buttons); unset: Slack clicks are refused.
   */
  readonly slackSigningSecret: string | undefined;
  /**
   * How long a webhook delivery is retried before it is dead-lettered and its subscription
   * flagged FAILING (`MRW_WEBHOOK_MAX_AGE`, ISO 8601, default `PT24H`), in milliseconds.
   */
  readonly webhookMaxAgeMs: number;
  /** How long a subscription may stay FAILING before it is disabled (`MRW_WEBHOOK_DISABLE_AFTER`, default `P3D`), in milliseconds. */
  readonly webhookDisableAfterMs: number;
  /**
   * How often an open live event stream (`GET /api/v1/events/stream`) sends a heartbeat comment, so
   * proxies keep it open and clients notice a dead one (`MRW_EVENT_STREAM_HEARTBEAT`, default `PT15S`), in milliseconds.
   */
  readonly eventStreamHeartbeatMs: number;
  /** How many live event streams one process serves at once (`MRW_EVENT_STREAMS_MAX`, default 100); more are answered 429. */
  readonly maxEventStreams: number;
  /**
   * How many processes serve the suite's port (`MRW_SERVING_PROCESSES`, default 1): the suite
   * itself and readers it starts, which answer the registry's catalog reads from the same files
   * and pass every other request on to the suite. Embedded mode (SQLite, embedded bus) only.
   */
  readonly servingProcesses: number;
}

/** The most serving processes one suite starts (`MRW_SERVING_PROCESSES`). */
export const MAX_SERVING_PROCESSES = 16;

/** The least length of a configured secret (admin token, seeded tokens, server secret). */
export const MIN_SECRET_LENGTH = 32;

/** A positive ISO 8601 duration setting, in milliseconds; a malformed or zero one stops the start. */
const positiveDuration = (name: string, value: string | undefined, fallback: string): number => {
  const ms = parseDuration(value || fallback);
  if (ms === undefined || ms <= 0) throw new ConfigError(`${name} must be a positive ISO 8601 duration such as PT30M, PT24H or P3D (got ${JSON.stringify(value)})`);
  return ms;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T => {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name}=${value} is not one of ${allowed.join(', ')}`);
};

const DEFAULT_MAX_ARTIFACT_BYTES = 4 * 1024 ** 3;

const positiveInteger = (name: string, value: string | undefined, fallback: number, unit = 'bytes'): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new ConfigError(`${name}=${value} is not a positive whole number of ${unit}`);
  return parsed;
};

const absoluteDirectories = (name: string, value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((dir) => dir.trim())
    .filter((dir) => dir !== '')
    .map((dir) => {
      if (!isAbsolute(dir)) throw new ConfigError(`${name}: "${dir}" is not an absolute directory (e.g. /srv/models)`);
      return resolve(dir);
    });

const allowList = (name: string, value: string | undefined): AllowList => {
  try {
    return parseAllowedHosts(value, name);
  } catch (error) {
    if (error instanceof AllowListError) throw new ConfigError(error.message);
    throw error;
  }
};

/** What the PostgreSQL event store accepts as a schema name (unquoted-identifier style; its notification channel is derived from it). */
const POSTGRES_SCHEMA = /^[a-z_][a-z0-9_]{0,47}$/;

const DEFAULT_MAIL_FROM = 'Model registry <model-registry@localhost>';

// The value is never echoed: it carries the SMTP password.
const smtpUrl = (value: string | undefined): string | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError('MRW_SMTP_URL is not a URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new ConfigError(`MRW_SMTP_URL must be smtp://user:pass@host:587 or smtps://user:pass@host:465, not a ${url.protocol} URL`);
  }
  return value.trim();
};

/** An SMTP URL as it may appear in logs and messages: scheme, host and port, never the credentials. */
export const describeSmtpUrl = (value: string): string => {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(unreadable SMTP URL)';
  }
};

/** Reads and checks the configuration; throws ConfigError with what to fix. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): SuiteConfig => {
  const port = Number(env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT=${env['PORT']} is not a port number`);
  const dataDir = env['MRW_DATA_DIR'] ?? './data';
  const store = oneOf('MRW_STORE', env['MRW_STORE'], ['sqlite', 'eventstoredb', 'postgres'] as const, 'sqlite');
  const bus = oneOf('MRW_BUS', env['MRW_BUS'], ['embedded', 'kafka'] as const, 'embedded');
  if (store === 'eventstoredb' && !env['EVENTSTOREDB_URL']) {
    throw new ConfigError('MRW_STORE=eventstoredb needs EVENTSTOREDB_URL (e.g. esdb://localhost:2113?tls=false)');
  }
  if (store === 'postgres' && !env['MRW_POSTGRES_URL']?.trim()) {
    throw new ConfigError('MRW_STORE=postgres needs MRW_POSTGRES_URL (e.g. postgres://mrw:password@localhost:5432/mrw)');
  }
  const postgresSchema = env['MRW_POSTGRES_SCHEMA']?.trim() || 'mrw';
  if (!POSTGRES_SCHEMA.test(postgresSchema)) {
    throw new ConfigError(
      `MRW_POSTGRES_SCHEMA=${postgresSchema} is not a usable schema name: lower-case letters, digits and _, starting with a letter or _, at most 48 characters`,
    );
  }
  const host = env['HOST'] ?? '0.0.0.0';
  const adminToken = env['MRW_ADMIN_TOKEN'] || undefined;
  if (adminToken !== undefined && adminToken.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `MRW_ADMIN_TOKEN is ${adminToken.length} characters; it must be at least ${MIN_SECRET_LENGTH} ` +
        '(e.g. `openssl rand -base64 32`), or unset it and one is generated on first start',
    );
  }
  const secretKey = env['MRW_SECRET_KEY'] || undefined;
  if (secretKey !== undefined && secretKey.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`MRW_SECRET_KEY is ${secretKey.length} characters; it must be at least ${MIN_SECRET_LENGTH} (e.g. \`openssl rand -base64 32\`)`);
  }
  if (secretKey === undefined && bus === 'kafka') {
    throw new ConfigError(
      'MRW_BUS=kafka needs MRW_SECRET_KEY: every service of a distributed suite verifies tokens with it, so give them all the same value (32+ characters, e.g. `openssl rand -base64 32`)',
    );
  }
  const servingProcesses = positiveInteger('MRW_SERVING_PROCESSES', env['MRW_SERVING_PROCESSES'], 1, 'processes');
  if (servingProcesses > MAX_SERVING_PROCESSES) {
    throw new ConfigError(`MRW_SERVING_PROCESSES=${servingProcesses}: at most ${MAX_SERVING_PROCESSES} (one per core is the most that helps)`);
  }
  if (servingProcesses > 1 && (store !== 'sqlite' || bus !== 'embedded')) {
    throw new ConfigError(
      'MRW_SERVING_PROCESSES applies to the embedded suite (MRW_STORE=sqlite, MRW_BUS=embedded); ' +
        'with PostgreSQL, run several registry replicas behind a load balancer instead (deploy/k8s-postgres)',
    );
  }
  const resolvedDataDir = isAbsolute(dataDir) ? dataDir : resolve(process.cwd(), dataDir);
  return {
    port,
    host,
    dataDir: resolvedDataDir,
    adminToken,
    secretKey,
    bus,
    store,
    kafkaBrokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
    eventStoreDbUrl: env['EVENTSTOREDB_URL'] || undefined,
    postgresUrl: env['MRW_POSTGRES_URL']?.trim() || undefined,
    postgresSchema,
    allowFileSources: env['MRW_ALLOW_FILE_SOURCES'] === 'true',
    fileSourceRoots: absoluteDirectories('MRW_FILE_SOURCE_ROOTS', env['MRW_FILE_SOURCE_ROOTS']),
    outboundAllowedHosts: allowList('MRW_OUTBOUND_ALLOWED_HOSTS', env['MRW_OUTBOUND_ALLOWED_HOSTS']),
    maxArtifactBytes: positiveInteger('MRW_MAX_ARTIFACT_BYTES', env['MRW_MAX_ARTIFACT_BYTES'], DEFAULT_MAX_ARTIFACT_BYTES),
    seedTokensFile: env['MRW_SEED_TOKENS_FILE'] || undefined,
    consoleDir: env['MRW_CONSOLE_DIR'] ? resolve(env['MRW_CONSOLE_DIR']) : undefined,
    publicUrl: (env['MRW_PUBLIC_URL'] ?? `http://localhost:${port}`).replace(/\/$/, ''),
    sqliteSynchronous: oneOf('MRW_SQLITE_SYNCHRONOUS', env['MRW_SQLITE_SYNCHRONOUS'], ['FULL', 'NORMAL'] as const, 'FULL'),
    logLevel: oneOf('MRW_LOG_LEVEL', env['MRW_LOG_LEVEL'], ['silent', 'error', 'info', 'debug'] as const, 'info'),
    logFormat: oneOf('MRW_LOG_FORMAT', env['MRW_LOG_FORMAT'], ['json', 'pretty'] as const, 'json'),
    sqliteFile: env['MRW_SQLITE_FILE'] ? resolve(process.cwd(), env['MRW_SQLITE_FILE']) : join(resolvedDataDir, 'events.sqlite'),
    serviceToken: env['MRW_SERVICE_TOKEN'] || undefined,
    crashAt: env['MRW_CRASH_AT'] || undefined,
    kafkaNamespace: env['KAFKA_NAMESPACE'] ?? '',
    smtpUrl: smtpUrl(env['MRW_SMTP_URL']),
    mailFrom: env['MRW_MAIL_FROM'] || DEFAULT_MAIL_FROM,
    slackSigningSecret: env['MRW_SLACK_SIGNING_SECRET']?.trim() || undefined,
    webhookMaxAgeMs: positiveDuration('MRW_WEBHOOK_MAX_AGE', env['MRW_WEBHOOK_MAX_AGE'], 'PT24H'),
    webhookDisableAfterMs: positiveDuration('MRW_WEBHOOK_DISABLE_AFTER', env['MRW_WEBHOOK_DISABLE_AFTER'], 'P3D'),
    eventStreamHeartbeatMs: positiveDuration('MRW_EVENT_STREAM_HEARTBEAT', env['MRW_EVENT_STREAM_HEARTBEAT'], 'PT15S'),
    maxEventStreams: positiveInteger('MRW_EVENT_STREAMS_MAX', env['MRW_EVENT_STREAMS_MAX'], 100, 'streams'),
    evaluatorThreads: Math.max(1, Number(env['MRW_EVALUATOR_THREADS'] ?? cpus().length) || 1),
    artifactsDir: env['MRW_ARTIFACTS_DIR'] ? resolve(process.cwd(), env['MRW_ARTIFACTS_DIR']) : join(resolvedDataDir, 'artifacts'),
    servingProcesses,
  };
};

export const SUITE_CONFIG = Symbol('SUITE_CONFIG');
