import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, also MLflow 3.3's scheme):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. Every webhook the
 * suite sends (approval notices, lifecycle webhooks, deployment triggers) is signed here, so a
 * receiver verifies them all the same way, with this helper or a Standard Webhooks library.
 */

/** The three headers a signed webhook carries (a type, not an interface, so it passes as any header record). */
export type StandardWebhookHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** How far a signature's timestamp may be from the verifier's clock, either way (5 minutes, as the spec suggests). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of a secret: a `whsec_<base64>` secret (the spec's format) is its decoded bytes;
 * any other string is its UTF-8 bytes (the reference libraries' `format: "raw"`).
 */
export const webhookKey = (secret: string): Buffer =>
  secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');

const signature = (key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer =>
  createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();

/**
 * The headers that sign `body`; `id` is the message's idempotency key (the same on every retry,
 * so the receiver can deduplicate), `at` the time of this attempt.
 */
export const signWebhook = (secret: string, id: string, at: Date, body: string | Uint8Array): StandardWebhookHeaders => {
  // It travels in a header: no whitespace (and so no line break) in it.
  if (id === '' || /\s/.test(id)) throw new Error(`a webhook id must be a non-empty token without whitespace: ${JSON.stringify(id)}`);
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature(webhookKey(secret), id, timestamp, body).toString('base64')}`,
  };
};

export type WebhookVerification =
  | { readonly ok: true; readonly id: string; readonly timestamp: Date }
  | { readonly ok: false; readonly reason: 'MISSING_HEADERS' | 'BAD_TIMESTAMP' | 'TIMESTAMP_OUT_OF_RANGE' | 'BAD_SIGNATURE' };

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

const header = (headers: HeaderBag, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
};

/**
 * Verifies a received webhook against the raw body exactly as it arrived: the timestamp within
 * `toleranceSeconds` of `now`, and any one of the space-separated `v1,` signatures matching.
 */
export const verifyWebhook = (
  secret: string,
  headers: HeaderBag,
  body: string | Uint8Array,
  now: Date,
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): WebhookVerification => {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'MISSING_HEADERS' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'BAD_TIMESTAMP' };
  const seconds = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) return { ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' };
  const expected = signature(webhookKey(secret), id, timestamp, body);
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, id, timestamp: new Date(seconds * 1000) } : { ok: false, reason: 'BAD_SIGNATURE' };
};
