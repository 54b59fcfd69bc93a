import { isDecidable, type ApprovalNotice } from './approval-notice';
import { championLabel, checkLine, checksToShow, clip, formatTime, headFacts, headline, metricSummary, noticeFacts, openLinks, safeLinks, summary } from './notice-text';

type Element = Readonly<Record<string, unknown>>;

/** The body a Teams Workflows ("When a Teams webhook request is received") webhook takes: one Adaptive Card. */
export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: readonly [
    {
      readonly contentType: 'application/vnd.microsoft.card.adaptive';
      readonly contentUrl: null;
      readonly content: {
        readonly $schema: string;
        readonly type: 'AdaptiveCard';
        readonly version: '1.4';
        readonly body: readonly Element[];
        readonly actions: readonly Element[];
        readonly msteams: { readonly width: 'Full' };
      };
    },
  ];
}

/**
 * Escapes text for an Adaptive Card TextBlock or fact, which Teams renders as Markdown: a comment
 * cannot plant a link (`[..](..)`) or turn into emphasis, a heading or a list.
 */
export const escapeCardMarkdown = (text: string): string =>
  text
    .replace(/[\\`*_[\]()~#>|]/g, '\\$&')
    .replace(/^(\s*)([-+])(\s)/gm, '$1\\$2$3')
    .replace(/^(\s*\d+)\.(\s)/gm, '$1\\.$2')
    .replace(/\r?\n/g, '\n\n');

const textBlock = (text: string, style: Record<string, unknown> = {}): Element => ({ type: 'TextBlock', text, wrap: true, ...style });
const fact = (title: string, value: string): Element => ({ title: escapeCardMarkdown(title), value: escapeCardMarkdown(value) });

/**
 * An Adaptive Card 1.4 for a notice: headline, summary, the request's facts, key metrics next to
 * the champion's, the checks, and `Action.OpenUrl` buttons to the approve, reject and view links
 * (a Workflows webhook card cannot call back, so deciding happens on the link's page).
 */
export const renderTeams = (notice: ApprovalNotice): TeamsMessage => {
  const body: Element[] = [
    textBlock(escapeCardMarkdown(headline(notice)), { size: 'Medium', weight: 'Bolder' }),
    textBlock(escapeCardMarkdown(summary(notice)), { spacing: 'Small' }),
    {
      type: 'FactSet',
      facts: [
        ...[...headFacts(notice), ...noticeFacts(notice)].map(([title, value]) => fact(title, value)),
        ...('expiresAt' in notice ? [fact('Expires', formatTime(notice.expiresAt))] : []),
      ],
    },
  ];
  if (notice.comment) {
    body.push(textBlock('Comment', { weight: 'Bolder', spacing: 'Medium' }), textBlock(escapeCardMarkdown(clip(notice.comment, 2_000)), { isSubtle: true }));
  }
  if (notice.keyMetrics.length > 0) {
    body.push(
      textBlock(escapeCardMarkdown(`Key metrics (candidate vs champion ${championLabel(notice)}, same rows)`), { weight: 'Bolder', spacing: 'Medium' }),
      { type: 'FactSet', facts: notice.keyMetrics.map((m) => fact(m.metric, metricSummary(m))) },
    );
  }
  const checks = checksToShow(notice);
  if (checks.length > 0) {
    body.push(
      textBlock(notice.kind === 'gate-refused' ? 'Failing checks' : 'Automated checks', { weight: 'Bolder', spacing: 'Medium' }),
      ...checks.map((c) => textBlock(escapeCardMarkdown(checkLine(c)), { color: c.passed ? 'Good' : 'Attention', spacing: 'None' })),
    );
  }
  const links = safeLinks(notice.links);
  const actions: Element[] = [];
  if (links) {
    if (isDecidable(notice)) {
      actions.push({ type: 'Action.OpenUrl', title: 'Approve', url: links.approve, style: 'positive' });
      actions.push({ type: 'Action.OpenUrl', title: 'Reject', url: links.reject, style: 'destructive' });
    }
    for (const link of openLinks(notice, links)) actions.push({ type: 'Action.OpenUrl', title: link.label, url: link.url });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions,
          msteams: { width: 'Full' },
        },
      },
    ],
  };
};
