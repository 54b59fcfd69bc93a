import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old (or how far ahead) a Slack request's timestamp may be: 5 minutes, as Slack recommends against replays. */
export const SLACK_TOLERANCE_SECONDS = 300;

export type SlackVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'MISSING_HEADERS' | 'BAD_TIMESTAMP' | 'TIMESTAMP_OUT_OF_RANGE' | 'BAD_SIGNATURE' };

/** Slack's `X-Slack-Signature` of a request: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the signing secret. */
export const slackSignature = (signingSecret: string, timestamp: string, rawBody: string | Uint8Array): string =>
  `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`, 'utf8').update(rawBody).digest('hex')}`;

/**
 * Verifies a request from Slack on its raw body, exactly as it arrived: a timestamp within
 * `toleranceSeconds` of `now` (so a captured request cannot be replayed later) and the `v0`
 * signature compared in constant time.
 */
export const verifySlackRequest = (
  signingSecret: string,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  rawBody: string | Uint8Array,
  now: Date,
  toleranceSeconds: number = SLACK_TOLERANCE_SECONDS,
): SlackVerification => {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: 'MISSING_HEADERS' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'BAD_TIMESTAMP' };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return { ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' };
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'BAD_SIGNATURE' };
  return { ok: true };
};
