import { OutboundError, type OutboundHttp } from '@mrw/outbound';
import { signWebhook } from '@mrw/platform';

/** How one attempt went: delivered (2xx), worth another try (and when), or refused for good. */
export interface SendOutcome {
  readonly delivered: boolean;
  readonly status: number | null;
  readonly latencyMs: number;
  /** The start of the receiver's answer, control characters removed. */
  readonly excerpt: string | null;
  readonly error: string | null;
  /** No retry can help: the address is refused by the outbound guard, or the URL is unusable. */
  readonly permanent: boolean;
  /** The receiver's `Retry-After`, in milliseconds, if it sent one. */
  readonly retryAfterMs: number | null;
}

const EXCERPT_CHARS = 500;
const MAX_ANSWER_BYTES = 16 * 1024;
/** Connect within 5 s, answer within 10 s: a slow receiver costs its own subscription time, not the others'. */
const TIMEOUTS = { connectMs: 5_000, responseMs: 10_000 };

const excerptOf = (text: string): string | null => {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, EXCERPT_CHARS);
  return clean === '' ? null : clean;
};

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export const retryAfterMs = (value: string | string[] | undefined, now: number): number | null => {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d{1,9}$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
};

/**
 * Sends one webhook message: a JSON POST signed with Standard Webhooks headers (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature` with one `v1,` signature per live secret, so a
 * receiver verifying with either the new or the previous secret accepts it during a rotation),
 * through the outbound guard, with connect and response timeouts and a cap on the answer read.
 */
export const sendWebhook = async (
  http: OutboundHttp,
  message: { readonly url: string; readonly messageId: string; readonly body: string; readonly secrets: readonly string[]; readonly at: Date },
): Promise<SendOutcome> => {
  const signatures = message.secrets.map((secret) => signWebhook(secret, message.messageId, message.at, message.body));
  const first = signatures[0];
  if (!first) throw new Error('a webhook is signed with at least one secret');
  const headers = {
    'content-type': 'application/json',
    'webhook-id': first['webhook-id'],
    'webhook-timestamp': first['webhook-timestamp'],
    'webhook-signature': signatures.map((s) => s['webhook-signature']).join(' '),
  };
  const started = performance.now();
  try {
    const response = await http.request(message.url, { method: 'POST', headers, body: message.body, maxBytes: MAX_ANSWER_BYTES, timeouts: TIMEOUTS, maxRedirects: 0 });
    const text = await response.text().catch(() => '');
    const latencyMs = performance.now() - started;
    const delivered = response.status >= 200 && response.status < 300;
    return {
      delivered,
      status: response.status,
      latencyMs,
      excerpt: excerptOf(text),
      error: delivered ? null : `the receiver answered ${response.status}`,
      permanent: false,
      retryAfterMs: delivered ? null : retryAfterMs(response.headers['retry-after'], Date.now()),
    };
  } catch (error) {
    const latencyMs = performance.now() - started;
    if (error instanceof OutboundError) {
      const refused = error.code === 'OUTBOUND_ADDRESS_REFUSED' || error.code === 'OUTBOUND_URL_REFUSED';
      return {
        delivered: false,
        status: null,
        latencyMs,
        excerpt: null,
        error: refused ? `${error.code}: ${error.message} (MRW_OUTBOUND_ALLOWED_HOSTS must allow the address)` : `${error.code}: ${error.message}`,
        permanent: refused,
        retryAfterMs: null,
      };
    }
    return { delivered: false, status: null, latencyMs, excerpt: null, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), permanent: false, retryAfterMs: null };
  }
};
