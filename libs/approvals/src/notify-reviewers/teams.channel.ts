import type { OutboundHttp } from '@mrw/outbound';
import type { ApprovalNotice } from './approval-notice';
import { describeWebhookTarget, postJson } from './http-delivery';
import type { DeliveryResult, NoticeRecipient, NotificationChannel } from './notification-channel';
import { renderTeams } from './render-teams';

/** Posts an Adaptive Card to a Teams Workflows webhook ("When a Teams webhook request is received"). */
export class TeamsChannel implements NotificationChannel {
  readonly kind = 'teams' as const;
  readonly target: string;

  constructor(
    private readonly setting: { readonly webhookUrl: string },
    private readonly http: OutboundHttp,
  ) {
    this.target = describeWebhookTarget(setting.webhookUrl);
  }

  async send(notice: ApprovalNotice, recipient?: NoticeRecipient): Promise<DeliveryResult> {
    const card = renderTeams(recipient?.links ? { ...notice, links: recipient.links } : notice);
    const { status, answer } = await postJson(this.http, this.kind, this.setting.webhookUrl, JSON.stringify(card));
    return { channel: this.kind, target: this.target, response: `${status}${answer ? ` ${answer}` : ''}` };
  }
}
