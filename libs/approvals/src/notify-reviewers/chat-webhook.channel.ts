import type { OutboundHttp } from '@mrw/outbound';
import type { ApprovalNotice } from './approval-notice';
import { describeWebhookTarget, postJson } from './http-delivery';
import type { DeliveryResult, NoticeRecipient, NotificationChannel } from './notification-channel';

/**
 * Posts a rendered notice to a chat room's incoming webhook (Slack, Teams). The URL carries the
 * room's token, so only its host is ever shown as the target.
 */
export abstract class ChatWebhookChannel implements NotificationChannel {
  abstract readonly kind: 'slack' | 'teams';
  readonly target: string;

  protected constructor(
    private readonly setting: { readonly webhookUrl: string },
    private readonly http: OutboundHttp,
  ) {
    this.target = describeWebhookTarget(setting.webhookUrl);
  }

  /** The message the chat service expects for this notice. */
  protected abstract render(notice: ApprovalNotice): unknown;

  async send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    const message = this.render(recipient?.links ? { ...notice, links: recipient.links } : notice);
    const { status, answer } = await postJson(this.http, this.kind, this.setting.webhookUrl, JSON.stringify(message));
    return { channel: this.kind, target: this.target, response: `${status}${answer ? ` ${answer}` : ''}` };
  }
}
