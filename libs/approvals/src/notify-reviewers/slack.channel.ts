import type { OutboundHttp } from '@mrw/outbound';
import type { ApprovalNotice } from './approval-notice';
import { ChatWebhookChannel } from './chat-webhook.channel';
import { renderSlack } from './render-slack';

/**
 * Posts a Block Kit message to a Slack incoming webhook. The message goes to a channel, not a
 * person: its buttons carry the approval id, and Slack's interactivity request says who clicked.
 */
export class SlackChannel extends ChatWebhookChannel {
  readonly kind = 'slack' as const;

  constructor(setting: { readonly webhookUrl: string }, http: OutboundHttp) {
    super(setting, http);
  }

  protected render(notice: ApprovalNotice): unknown {
    return renderSlack(notice);
  }
}
