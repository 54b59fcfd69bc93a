import { isDecidable, type ApprovalNotice } from './approval-notice';
import { championLabel, checkLine, checksToShow, clip, formatCi, formatNumber, formatSigned, formatTime, headFacts, headline, noticeFacts, openLinks, safeLinks, summary } from './notice-text';

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const MAX_COMMENT = 4_000;

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

// A header must stay one line whatever a name holds.
const oneLine = (text: string): string => text.replace(/[\r\n\t]+/g, ' ').trim();

/** An email for one reader of a notice: subject, plain text and HTML, with every user-given text escaped. */
export const renderEmail = (notice: ApprovalNotice): RenderedEmail => {
  const subject = oneLine(clip(`[model registry] ${headline(notice)}`, 200));
  const links = safeLinks(notice.links);
  const decidable = isDecidable(notice);
  const comment = clip(notice.comment, MAX_COMMENT);
  const checks = checksToShow(notice);

  const text: string[] = [headline(notice), '', summary(notice), ''];
  text.push(...headFacts(notice).map(([label, value]) => `${label}: ${value}`));
  if (comment) text.push(`Comment: ${comment}`);
  text.push(...noticeFacts(notice).map(([label, value]) => `${label}: ${value}`));
  if (notice.evidence.evaluationId) text.push(`Evaluation: ${notice.evidence.evaluationId}`);
  if (notice.keyMetrics.length > 0) {
    text.push('', 'Key metrics (candidate vs champion, same rows):');
    for (const m of notice.keyMetrics) {
      const versus =
        m.champion === undefined
          ? ''
          : ` vs ${formatNumber(m.champion)}, difference ${formatSigned(m.difference ?? m.candidate - m.champion)}${m.ci ? `, ${formatCi(m.ci)}` : ''}`;
      text.push(`  ${m.metric}: ${formatNumber(m.candidate)}${versus}`);
    }
  }
  if (checks.length > 0) {
    text.push('', notice.kind === 'gate-refused' ? 'Failing checks:' : 'Automated checks:');
    for (const check of checks) text.push(`  ${checkLine(check)}`);
  }
  if (links) {
    text.push('');
    if (decidable) text.push(`Approve: ${links.approve}`, `Reject: ${links.reject}`);
    text.push(...openLinks(notice, links).map((link) => `${link.label}: ${link.url}`));
    if (decidable) text.push('', 'A link opens a page that shows what will be decided; nothing is decided until you press its button.');
  }

  const e = escapeHtml;
  const rows = (pairs: readonly (readonly [string, string])[]): string =>
    pairs.map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${e(k)}</th><td>${e(v)}</td></tr>`).join('');
  const html: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px;color:#1f2328">',
    `<h2 style="margin:0 0 8px">${e(headline(notice))}</h2>`,
    `<p>${e(summary(notice))}</p>`,
    '<table style="border-collapse:collapse">',
    rows([
      ...headFacts(notice),
      ...noticeFacts(notice),
      ...(notice.evidence.evaluationId ? [['Evaluation', notice.evidence.evaluationId] as const] : []),
      ...('expiresAt' in notice ? [['Expires', formatTime(notice.expiresAt)] as const] : []),
    ]),
    '</table>',
  ];
  if (comment) html.push(`<p><b>Comment</b></p><blockquote style="white-space:pre-wrap;margin:0 0 0 8px;padding-left:8px;border-left:3px solid #d0d7de">${e(comment)}</blockquote>`);
  if (notice.keyMetrics.length > 0) {
    const cell = (v: string): string => `<td style="padding:2px 10px;border-bottom:1px solid #d0d7de">${e(v)}</td>`;
    html.push(
      `<h3>Key metrics</h3><table style="border-collapse:collapse"><tr>${['Metric', 'Candidate', `Champion ${championLabel(notice)}`, 'Difference', '95% CI']
        .map((h) => `<th align="left" style="padding:2px 10px">${e(h)}</th>`)
        .join('')}</tr>`,
      ...notice.keyMetrics.map(
        (m) =>
          `<tr>${cell(m.metric)}${cell(formatNumber(m.candidate))}${cell(m.champion === undefined ? '—' : formatNumber(m.champion))}${cell(
            m.champion === undefined ? '—' : formatSigned(m.difference ?? m.candidate - m.champion),
          )}${cell(m.ci ? formatCi(m.ci) : '—')}</tr>`,
      ),
      '</table>',
    );
  }
  if (checks.length > 0) {
    html.push(`<h3>${notice.kind === 'gate-refused' ? 'Failing checks' : 'Automated checks'}</h3><ul>`);
    for (const check of checks) {
      html.push(`<li><b style="color:${check.passed ? '#1a7f37' : '#cf222e'}">${check.passed ? 'PASS' : 'FAIL'}</b> ${e(`${check.metric} ${check.rule}: ${check.detail}`)}</li>`);
    }
    html.push('</ul>');
  }
  if (links) {
    const button = (label: string, href: string, colour: string): string =>
      `<a href="${e(href)}" style="display:inline-block;padding:8px 16px;margin-right:8px;border-radius:6px;background:${colour};color:#ffffff;text-decoration:none">${e(label)}</a>`;
    html.push('<p>');
    if (decidable) html.push(button('Approve', links.approve, '#1a7f37'), button('Reject', links.reject, '#cf222e'));
    html.push(...openLinks(notice, links).map((link) => button(link.label, link.url, '#57606a')), '</p>');
    if (decidable) html.push('<p style="color:#57606a;font-size:12px">A link opens a page that shows what will be decided; nothing is decided until you press its button.</p>');
  }
  html.push('</body></html>');
  return { subject, text: text.join('\n'), html: html.join('\n') };
};
