import type { ApprovalNotice, NoticeLinks } from './approval-notice';

/** The kinds of channel a policy's `approval.<Stage>.notify` lists. */
export const CHANNEL_KINDS = ['email', 'slack', 'teams', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * A channel as a policy names it, with its secrets in the clear (after `openChannelSetting`).
 * Email has no settings: the SMTP server is the operator's (`MRW_SMTP_URL`), the addresses are
 * the people directory's.
 */
export type ChannelSetting =
  | { readonly kind: 'email' }
  | { readonly kind: 'slack'; readonly webhookUrl: string }
  | { readonly kind: 'teams'; readonly webhookUrl: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly secret: string };

/** One person a notice is for: the registry identity, and how to reach them. */
export interface NoticeRecipient {
  /** The registry subject (the token's subject) the person decides as. */
  readonly subject: string;
  readonly email?: string;
  /** This person's own approve/reject/view links; they replace the notice's. */
  readonly links?: NoticeLinks;
}

/** A notice that reached a channel's receiver. */
export interface DeliveryResult {
  readonly channel: ChannelKind;
  /** Where it went, safe to show and log: an email address, or a webhook's host (never its URL: that carries a token). */
  readonly target: string;
  /** The receiver's answer: the HTTP status, or the SMTP server's reply. */
  readonly response: string;
  /** The id the receiver can deduplicate by: the `webhook-id`, or the email's Message-ID. */
  readonly messageId?: string;
}

/**
 * One way of telling people about approvals. `send` resolves once the receiver accepted the
 * notice and throws a NotificationDeliveryError otherwise, marked transient (try again later)
 * or permanent (a setting must change), so a caller retries with @mrw/resilience's `retry`.
 */
export interface NotificationChannel {
  readonly kind: ChannelKind;
  /** The receiver, safe to show and log (a host, the SMTP server's host). */
  readonly target: string;
  send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult>;
}

export type DeliveryErrorCode =
  /** The receiver answered 5xx, 408 or 429, or did not answer in time, or the connection failed. */
  | 'DELIVERY_UNAVAILABLE'
  /** The receiver refused the notice (4xx, an SMTP 5xx reply, bad credentials). */
  | 'DELIVERY_REJECTED'
  /** The outbound guard refused the address or URL (MRW_OUTBOUND_ALLOWED_HOSTS). */
  | 'DELIVERY_ADDRESS_REFUSED'
  /** Nothing to send to: no recipient, or no address for them on this channel. */
  | 'DELIVERY_NO_RECIPIENT';

/**
 * Why a notice did not reach its receiver. The message and fields are safe to log and to show
 * (hosts, statuses, the receiver's short answer); never a webhook URL or a password.
 */
export class NotificationDeliveryError extends Error {
  override readonly name = 'NotificationDeliveryError';
  /** @mrw/resilience's markers: exactly one is true. */
  readonly transient: boolean;
  readonly permanent: boolean;
  /** The receiver's HTTP status or SMTP reply code, when it answered. */
  readonly status: number | undefined;
  /** How long the receiver asked to wait (`Retry-After` on a 429 or 503). */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: DeliveryErrorCode,
    readonly channel: ChannelKind,
    readonly target: string,
    message: string,
    options: { readonly transient: boolean; readonly status?: number; readonly retryAfterMs?: number },
  ) {
    super(message);
    this.transient = options.transient;
    this.permanent = !options.transient;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
