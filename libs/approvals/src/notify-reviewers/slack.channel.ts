import type { OutboundHttp } from '@mrw/outbound';
import type { ApprovalNotice } from './approval-notice';
import { describeWebhookTarget, postJson } from './http-delivery';
import type { DeliveryResult, NoticeRecipient, NotificationChannel } from './notification-channel';
import { renderSlack } from './render-slack';

/**
 * Posts a Block Kit message to a Slack incoming webhook. The message goes to a channel, not a
 * person: its buttons carry the approval id, and Slack's interactivity request says who clicked.
 */
export class SlackChannel implements NotificationChannel {
  readonly kind = 'slack' as const;
  readonly target: string;

  constructor(
    private readonly setting: { readonly webhookUrl: string },
    private readonly http: OutboundHttp,
  ) {
    this.target = describeWebhookTarget(setting.webhookUrl);
  }

  async send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    const message = renderSlack(recipient?.links ? { ...notice, links: recipient.links } : notice);
    const { status, answer } = await postJson(this.http, this.kind, this.setting.webhookUrl, JSON.stringify(message));
    return { channel: this.kind, target: this.target, response: `${status}${answer ? ` ${answer}` : ''}` };
  }
}
