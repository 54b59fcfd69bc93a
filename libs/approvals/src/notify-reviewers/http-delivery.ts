import { OutboundError, OutboundHttp } from '@mrw/outbound';
import { NotificationDeliveryError, type ChannelKind } from './notification-channel';

/**
 * A webhook URL as it may be shown or logged: its host only. Slack's and Teams' webhook URLs
 * are bearer credentials in their path and query, so nothing past the host leaves this file.
 */
export const describeWebhookTarget = (url: string): string => {
  try {
    return new URL(url).host || '(no host)';
  } catch {
    return '(not a URL)';
  }
};

// Receivers answer "ok" or a short error; more than this is not worth reading.
const MAX_ANSWER_BYTES = 64 * 1024;
const ANSWER_SHOWN = 200;

/** HTTP statuses after which the same request may succeed later. */
const isTransientStatus = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

/** `Retry-After` in seconds (the HTTP-date form is ignored: reading it needs a clock for little gain). */
const retryAfterMs = (value: string | string[] | undefined): number | undefined => {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d{1,6}$/.test(text.trim()) ? Number(text.trim()) * 1000 : undefined;
};

// The receiver's answer, shown in delivery status: one short line, no control characters.
const shortAnswer = (text: string): string =>
  text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, ANSWER_SHOWN);

export interface PostedJson {
  readonly status: number;
  /** The receiver's answer, shortened. */
  readonly answer: string;
}

/**
 * POSTs a JSON body through the outbound guard and sorts the outcome: 2xx resolves; 408, 425,
 * 429, 5xx, timeouts and failed connections throw a transient NotificationDeliveryError; other
 * statuses, and addresses the guard refuses, a permanent one. Redirects are not followed.
 */
export const postJson = async (
  http: OutboundHttp,
  channel: ChannelKind,
  url: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<PostedJson> => {
  const target = describeWebhookTarget(url);
  const label = `${channel} webhook at ${target}`;
  let status: number;
  let answer = '';
  let retryAfter: number | undefined;
  try {
    const response = await http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      maxBytes: MAX_ANSWER_BYTES,
      maxRedirects: 0,
    });
    status = response.status;
    retryAfter = retryAfterMs(response.headers['retry-after']);
    // The answer only explains a failure; a receiver that breaks off while sending it has still answered.
    answer = shortAnswer(await response.text().catch(() => ''));
  } catch (error) {
    throw deliveryFailure(channel, target, label, error);
  }
  if (status >= 200 && status < 300) return { status, answer };
  const said = answer ? `: ${answer}` : '';
  throw new NotificationDeliveryError(
    isTransientStatus(status) ? 'DELIVERY_UNAVAILABLE' : 'DELIVERY_REJECTED',
    channel,
    target,
    `${label} answered ${status}${said}`,
    { transient: isTransientStatus(status), status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) },
  );
};

/** An outbound failure in our words, without the URL the OutboundError's message names. */
const deliveryFailure = (channel: ChannelKind, target: string, label: string, error: unknown): NotificationDeliveryError => {
  if (!(error instanceof OutboundError)) {
    // Not expected from OutboundHttp; its message is not shown, for it might hold the URL.
    const name = error instanceof Error ? error.name : typeof error;
    return new NotificationDeliveryError('DELIVERY_UNAVAILABLE', channel, target, `${label} could not be called (${name})`, { transient: true });
  }
  const details = error.details as { address?: string; range?: string; setting?: string; timeoutMs?: number; phase?: string };
  switch (error.code) {
    case 'OUTBOUND_ADDRESS_REFUSED':
      return new NotificationDeliveryError(
        'DELIVERY_ADDRESS_REFUSED',
        channel,
        target,
        `${label}: the address ${details.address ?? ''} (${details.range ?? 'not public'}) is refused; ${details.setting ?? 'MRW_OUTBOUND_ALLOWED_HOSTS'} must allow it`,
        { transient: false },
      );
    case 'OUTBOUND_URL_REFUSED':
      return new NotificationDeliveryError('DELIVERY_ADDRESS_REFUSED', channel, target, `${label}: not an http(s) URL`, { transient: false });
    case 'OUTBOUND_TIMEOUT':
      return new NotificationDeliveryError(
        'DELIVERY_UNAVAILABLE',
        channel,
        target,
        `${label}: no ${details.phase === 'connect' ? 'connection' : 'answer'} within ${details.timeoutMs ?? '?'} ms`,
        { transient: true },
      );
    case 'OUTBOUND_FAILED':
      return new NotificationDeliveryError('DELIVERY_UNAVAILABLE', channel, target, `${label}: the connection failed`, { transient: true });
    case 'OUTBOUND_TOO_LARGE':
    case 'OUTBOUND_TOO_MANY_REDIRECTS':
      return new NotificationDeliveryError('DELIVERY_REJECTED', channel, target, `${label}: ${error.code === 'OUTBOUND_TOO_LARGE' ? 'an oversized answer' : 'redirects'}`, {
        transient: false,
      });
    default: {
      const never: never = error.code;
      return never;
    }
  }
};
