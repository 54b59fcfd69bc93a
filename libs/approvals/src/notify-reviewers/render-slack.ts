import { approvalIdOf, isDecidable, type ApprovalNotice } from './approval-notice';
import { championLabel, checkLine, checksToShow, clip, formatTime, headFacts, headline, metricSummary, noticeFacts, openLinks, safeLinks, summary } from './notice-text';

/** The `action_id`s of the decision buttons; the interactivity handler maps them to a decision. */
export const SLACK_ACTIONS = { approve: 'approve', reject: 'reject' } as const;

type Text = { readonly type: 'mrkdwn' | 'plain_text'; readonly text: string; readonly emoji?: boolean };
type Block = Readonly<Record<string, unknown>>;

/** An incoming-webhook message: `text` is the notification's fallback, `blocks` what Slack shows. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

// Slack's limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
const HEADER_MAX = 150;
const SECTION_MAX = 3_000;
const FIELD_MAX = 2_000;

/**
 * Escapes text for Slack mrkdwn: `&`, `<` and `>` are control characters there (`<!channel>`,
 * `<url|label>`), so a comment can neither ping a channel nor plant a link.
 */
export const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const mrkdwn = (text: string): Text => ({ type: 'mrkdwn', text });
const plain = (text: string): Text => ({ type: 'plain_text', text, emoji: true });
const field = (label: string, value: string): Text => mrkdwn(clip(`*${label}*\n${escapeSlack(value)}`, FIELD_MAX));
const quote = (text: string): string =>
  escapeSlack(text)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');

// Inside `<url|label>` a `|` or `>` would end the URL early.
const slackUrl = (url: string): string => new URL(url).href.replace(/\|/g, '%7C').replace(/>/g, '%3E');

/**
 * A Block Kit message for a notice: header, summary, the request's facts as section fields,
 * the key metrics next to the champion's, the checks, and (while the approval is open) an
 * actions block whose buttons carry `action_id` `approve`/`reject` and the approval id as `value`.
 */
export const renderSlack = (notice: ApprovalNotice): SlackMessage => {
  const blocks: Block[] = [
    { type: 'header', text: plain(clip(headline(notice), HEADER_MAX)) },
    { type: 'section', text: mrkdwn(clip(escapeSlack(summary(notice)), SECTION_MAX)) },
    {
      type: 'section',
      fields: [
        ...[...headFacts(notice), ...noticeFacts(notice)].map(([label, value]) => field(label, value)),
        ...('expiresAt' in notice ? [field('Expires', formatTime(notice.expiresAt))] : []),
      ],
    },
  ];
  if (notice.comment) blocks.push({ type: 'section', text: mrkdwn(clip(`*Comment*\n${quote(clip(notice.comment, 2_000))}`, SECTION_MAX)) });
  if (notice.keyMetrics.length > 0) {
    const lines = notice.keyMetrics.map((m) => `• \`${escapeSlack(m.metric)}\` ${escapeSlack(metricSummary(m))}`);
    blocks.push({ type: 'section', text: mrkdwn(clip(`*Key metrics* (candidate vs champion ${escapeSlack(championLabel(notice))}, same rows)\n${lines.join('\n')}`, SECTION_MAX)) });
  }
  const checks = checksToShow(notice);
  if (checks.length > 0) {
    const title = notice.kind === 'gate-refused' ? '*Failing checks*' : '*Automated checks*';
    blocks.push({
      type: 'section',
      text: mrkdwn(clip(`${title}\n${checks.map((c) => `${c.passed ? ':white_check_mark:' : ':x:'} ${escapeSlack(checkLine(c))}`).join('\n')}`, SECTION_MAX)),
    });
  }
  const links = safeLinks(notice.links);
  if (links) blocks.push({ type: 'context', elements: openLinks(notice, links).map((link) => mrkdwn(`<${slackUrl(link.url)}|${link.title}>`)) });
  const approvalId = approvalIdOf(notice);
  if (approvalId !== undefined && isDecidable(notice)) {
    blocks.push({
      type: 'actions',
      block_id: `approval:${approvalId}`,
      elements: [
        { type: 'button', action_id: SLACK_ACTIONS.approve, text: plain('Approve'), style: 'primary', value: approvalId },
        {
          type: 'button',
          action_id: SLACK_ACTIONS.reject,
          text: plain('Reject'),
          style: 'danger',
          value: approvalId,
          confirm: {
            title: plain('Reject this request?'),
            text: plain('Any rejection closes the request.'),
            confirm: plain('Reject'),
            deny: plain('Cancel'),
          },
        },
      ],
    });
  }
  return { text: clip(escapeSlack(headline(notice)), SECTION_MAX), blocks };
};
