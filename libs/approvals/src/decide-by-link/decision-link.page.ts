import type { Response } from 'express';
import type { KnownApproval } from '../follow-approvals/approval-book';

/** Text made safe for HTML element content and quoted attribute values. */
export const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Headers of every link page: nothing loads from elsewhere, no framing (a decision button must
 * not be clickjacked), the form posts only to this origin, the token in the address is never
 * sent on as a Referer, and nothing is cached.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.refused{color:#a00}.ok{color:#060}button{font-size:1.1rem;padding:.5rem 1.5rem}textarea{width:100%}`;

/** Sends an HTML page with the link pages' headers. */
export const sendPage = (response: Response, status: number, title: string, body: string): void => {
  response.status(status);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) response.setHeader(name, value);
  response
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`,
    );
};

const verb = (decision: 'approve' | 'reject'): string => (decision === 'approve' ? 'Approve' : 'Reject');

const target = (approval: KnownApproval): string =>
  approval.purpose === 'rollback' ? 'a rollback to it' : `${approval.targetStage}`;

/** What the approval is about and on which evidence: the same on the confirmation page and after. */
const describeApproval = (approval: KnownApproval): string => {
  const e = approval.evidence;
  const checks = approval.checks.length
    ? `<table><tr><th>check</th><th>rule</th><th>value</th><th>baseline</th><th>needed</th><th>passed</th></tr>${approval.checks
        .map(
          (c) =>
            `<tr><td>${escapeHtml(c.metric)}</td><td>${escapeHtml(c.rule)}</td><td>${escapeHtml(c.value ?? '')}</td><td>${escapeHtml(c.baseline ?? '')}</td>` +
            `<td>${escapeHtml(c.expected ?? '')}</td><td>${c.passed ? 'yes' : 'no'}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>No automated checks apply to this model (it has no evaluation policy).</p>';
  return (
    `<dl><dt>Model</dt><dd>${escapeHtml(approval.model)}</dd><dt>Version</dt><dd>${escapeHtml(approval.version)}</dd>` +
    `<dt>Requested</dt><dd>${escapeHtml(target(approval))} by ${escapeHtml(approval.requestedBy.id)} at ${escapeHtml(approval.requestedAt)}</dd>` +
    (approval.comment ? `<dt>Their comment</dt><dd>${escapeHtml(approval.comment)}</dd>` : '') +
    `<dt>Expires</dt><dd>${escapeHtml(approval.expiresAt)}</dd>` +
    `<dt>Approvals so far</dt><dd>${approval.approvals.length} of ${approval.required}</dd>` +
    `<dt>Evaluation</dt><dd>${escapeHtml(e.evaluationId ?? 'none')}</dd><dt>Evaluation set digest</dt><dd>${escapeHtml(e.datasetDigest ?? 'none')}</dd>` +
    `<dt>Champion version</dt><dd>${escapeHtml(e.championVersion ?? 'none serving')}</dd></dl>` +
    `<h2>Checks</h2>${checks}`
  );
};

/** `GET` on a link: what would be decided, and the one button that decides it. Nothing is decided here. */
export const confirmationPage = (approval: KnownApproval, decision: 'approve' | 'reject', subject: string, token: string): { title: string; body: string } => {
  const title = `${verb(decision)} ${approval.model} version ${approval.version}?`;
  return {
    title,
    body:
      `<h1>${escapeHtml(title)}</h1><p>You are deciding as <strong>${escapeHtml(subject)}</strong>. Nothing is decided until you press the button.</p>` +
      describeApproval(approval) +
      `<form method="post"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
      `<p><label>Comment (optional)<br><textarea name="comment" rows="3" maxlength="5000"></textarea></label></p>` +
      `<p><button type="submit">${verb(decision)}</button></p></form>`,
  };
};

/** After `POST`: what the registry recorded, or that it will. */
export const outcomePage = (
  approval: KnownApproval,
  outcome: { kind: 'recorded'; decision: 'approve' | 'reject'; count?: number; required?: number } | { kind: 'sent'; decision: 'approve' | 'reject' },
): { title: string; body: string } => {
  const what = `${approval.model} version ${approval.version}`;
  if (outcome.kind === 'sent') {
    const title = 'Decision sent';
    return {
      title,
      body: `<h1>${title}</h1><p>Your decision to ${outcome.decision} ${escapeHtml(what)} was sent to the registry and will be recorded shortly. The link is used; the approval's page in the registry shows the outcome.</p>`,
    };
  }
  if (outcome.decision === 'reject') {
    return { title: 'Rejected', body: `<h1 class="ok">Rejected</h1><p>Your rejection of ${escapeHtml(what)} is recorded; the request is closed.</p>${describeApproval(approval)}` };
  }
  const quorum =
    outcome.count !== undefined && outcome.required !== undefined && outcome.count >= outcome.required
      ? `<p>The quorum is reached (${outcome.count} of ${outcome.required}): the version moves on to ${escapeHtml(target(approval))}.</p>`
      : `<p>Approvals: ${outcome.count ?? '?'} of ${outcome.required ?? '?'}; the request waits for more reviewers.</p>`;
  return { title: 'Approved', body: `<h1 class="ok">Approved</h1><p>Your approval of ${escapeHtml(what)} is recorded.</p>${quorum}` };
};

/** A refusal: why nothing was decided. */
export const refusalPage = (status: number, code: string, detail: string): { title: string; body: string } => {
  const title = status === 403 || status === 401 ? 'Not allowed' : status === 404 ? 'Not found' : 'Nothing was decided';
  return {
    title,
    body: `<h1 class="refused">${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p><small>${escapeHtml(code)}</small></p>`,
  };
};
