import type { OutboundHttp } from '@mrw/outbound';
import { signWebhook, type Clock } from '@mrw/platform';
import type { ApprovalNotice } from './approval-notice';
import { describeWebhookTarget, postJson } from './http-delivery';
import type { DeliveryResult, NoticeRecipient, NotificationChannel } from './notification-channel';
import { renderWebhook } from './render-webhook';

/**
 * POSTs the notice as JSON to a URL, signed with Standard Webhooks headers: `webhook-id` is the
 * notice's id (the same on every retry, for the receiver to deduplicate), `webhook-timestamp`
 * the time of this attempt.
 */
export class WebhookChannel implements NotificationChannel {
  readonly kind = 'webhook' as const;
  readonly target: string;

  constructor(
    private readonly setting: { readonly url: string; readonly secret: string },
    private readonly http: OutboundHttp,
    private readonly clock: Clock,
  ) {
    this.target = describeWebhookTarget(setting.url);
  }

  async send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    const body = JSON.stringify(renderWebhook(recipient?.links ? { ...notice, links: recipient.links } : notice));
    const headers = signWebhook(this.setting.secret, notice.id, this.clock.now(), body);
    const { status, answer } = await postJson(this.http, this.kind, this.setting.url, body, { ...headers });
    return { channel: this.kind, target: this.target, response: `${status}${answer ? ` ${answer}` : ''}`, messageId: notice.id };
  }
}
