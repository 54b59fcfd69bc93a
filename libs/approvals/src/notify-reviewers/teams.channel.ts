import type { OutboundHttp } from '@mrw/outbound';
import type { ApprovalNotice } from './approval-notice';
import { ChatWebhookChannel } from './chat-webhook.channel';
import { renderTeams } from './render-teams';

/** Posts an Adaptive Card to a Teams Workflows webhook ("When a Teams webhook request is received"). */
export class TeamsChannel extends ChatWebhookChannel {
  readonly kind = 'teams' as const;

  constructor(setting: { readonly webhookUrl: string }, http: OutboundHttp) {
    super(setting, http);
  }

  protected render(notice: ApprovalNotice): unknown {
    return renderTeams(notice);
  }
}
