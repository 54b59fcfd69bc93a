import { stdSerializers } from 'pino';

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Field names whose values never reach a log line, at any depth and in any letter case:
 * credentials in headers, token secrets and their verifiers, deployment-target settings.
 */
export const SECRET_FIELDS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'token',
  'accessToken',
  'refreshToken',
  'apiToken',
  'apiKey',
  'secret',
  'clientSecret',
  'secretHash',
  'verifier',
  'password',
  'privateKey',
  'serviceToken',
  'adminToken',
];

const SECRET_KEYS = new Set(SECRET_FIELDS.map((name) => name.toLowerCase()));

// `Bearer <token>` / `Basic <credentials>` inside a message, and `user:password@` in a URL.
const CREDENTIAL_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** A text with bearer/basic credentials and URL userinfo replaced by `[REDACTED]`. */
export const scrubText = (text: string): string =>
  text.replace(CREDENTIAL_SCHEME, `$1 ${REDACTED}`).replace(URL_USERINFO, `$1${REDACTED}@`);

const MAX_DEPTH = 32;

const redactValue = (value: unknown, seen: WeakSet<object>, depth: number): unknown => {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Nested too deep]';
  seen.add(value);
  // An error's message and stack are not enumerable: serialise it first, then redact that.
  const source: object = value instanceof Error ? stdSerializers.err(value) : value;
  if (Array.isArray(source)) return source.map((item) => redactValue(item, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactValue(item, seen, depth + 1);
  }
  return out;
};

/** A copy of a log record's fields with every secret field (see SECRET_FIELDS) and credential text redacted. */
export const redactSecrets = (fields: Record<string, unknown>): Record<string, unknown> =>
  redactValue(fields, new WeakSet(), 0) as Record<string, unknown>;
