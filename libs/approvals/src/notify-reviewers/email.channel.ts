import { describeSmtpUrl } from '@mrw/platform';
import { createTransport, type Transporter } from 'nodemailer';
import type { ApprovalNotice } from './approval-notice';
import { NotificationDeliveryError, type DeliveryResult, type NoticeRecipient, type NotificationChannel } from './notification-channel';
import { renderEmail, type RenderedEmail } from './render-email';

export interface EmailChannelOptions {
  /** `MRW_SMTP_URL`: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465`. */
  readonly smtpUrl: string;
  /** `MRW_MAIL_FROM`. */
  readonly from: string;
  /** Connecting, the greeting, and silence on the socket (default 10 s, 10 s, 30 s). */
  readonly timeouts?: { readonly connectMs?: number; readonly greetingMs?: number; readonly socketMs?: number };
}

// With an SMTP reply: RFC 5321 makes 5yz permanent and 4yz transient; 503 (bad sequence) passes on a new connection.
const isPermanentReply = (code: number): boolean => code >= 500 && code < 600 && code !== 503;
// Without one: what only a changed setting or address mends. Connections, DNS and timeouts pass.
const PERMANENT_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'ETLS', 'EREQUIRETLS', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS']);

/**
 * Sends a notice as an email to one person, over the operator's SMTP server. One message per
 * recipient, since each carries that reviewer's own signed links. The SMTP URL holds a password:
 * only its scheme, host and port appear in `target`, messages and errors.
 */
export class EmailChannel implements NotificationChannel {
  readonly kind = 'email' as const;
  readonly target: string;
  private readonly transport: Transporter;
  private readonly secrets: readonly string[];

  constructor(private readonly options: EmailChannelOptions) {
    this.target = describeSmtpUrl(options.smtpUrl);
    const url = new URL(options.smtpUrl);
    this.secrets = [url.password, decodeURIComponent(url.password)].filter((s) => s.length >= 4);
    this.transport = createTransport({
      url: options.smtpUrl,
      connectionTimeout: options.timeouts?.connectMs ?? 10_000,
      greetingTimeout: options.timeouts?.greetingMs ?? 10_000,
      socketTimeout: options.timeouts?.socketMs ?? 30_000,
      // A message is composed from our text only; nodemailer is never to read a file or URL for it.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    return this.sendEmail(notice.id, renderEmail(recipient?.links ? { ...notice, links: recipient.links } : notice), recipient);
  }

  /** Sends an email already composed, for a notice about no approval (a webhook disabled), to one person. */
  async sendEmail(noticeId: string, email: RenderedEmail, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    const address = recipient?.email?.trim();
    if (!recipient || !address) {
      throw new NotificationDeliveryError('DELIVERY_NO_RECIPIENT', this.kind, this.target, `no email address for ${recipient?.subject ?? 'an unnamed recipient'}`, {
        transient: false,
      });
    }
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        // An address object, not a string: a directory entry with commas cannot become a list.
        to: { name: '', address },
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { 'X-MRW-Notice-Id': noticeId, 'Auto-Submitted': 'auto-generated' },
      });
      return { channel: this.kind, target: address, response: String(info.response ?? ''), messageId: String(info.messageId ?? '') };
    } catch (error) {
      throw this.failure(address, error);
    }
  }

  /** Closes idle SMTP connections (at shutdown). */
  close(): void {
    this.transport.close();
  }

  private failure(address: string, error: unknown): NotificationDeliveryError {
    const e = (error ?? {}) as { code?: unknown; originalCode?: unknown; responseCode?: unknown; response?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'EUNKNOWN';
    const cause = typeof e.originalCode === 'string' ? ` (${e.originalCode})` : '';
    const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
    const transient = reply !== undefined ? !isPermanentReply(reply) : !PERMANENT_CODES.has(code);
    // The server's reply line says what went wrong; nodemailer's own message may quote a command.
    const said = typeof e.response === 'string' && e.response ? e.response : `${code}${cause}`;
    let message = `email to ${address} via ${this.target} failed: ${said}`;
    for (const secret of this.secrets) message = message.split(secret).join('[REDACTED]');
    return new NotificationDeliveryError(transient ? 'DELIVERY_UNAVAILABLE' : 'DELIVERY_REJECTED', this.kind, address, message, {
      transient,
      ...(reply !== undefined ? { status: reply } : {}),
    });
  }
}
