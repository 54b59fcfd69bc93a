import type { Actor, WebhookDisabled } from '@mrw/contracts';
import { clip, formatTime } from './notice-text';
import { escapeHtml, type RenderedEmail } from './render-email';

/**
 * To a webhook subscription's owner: it kept failing past `MRW_WEBHOOK_DISABLE_AFTER` and the
 * registry disabled it. About no approval or version, so it is its own notice, email only.
 */
export interface WebhookDisabledNotice {
  readonly kind: 'webhook-disabled';
  /** Derived from the `WebhookDisabled` event and the owner: the email's `X-MRW-Notice-Id`. */
  readonly id: string;
  /** When it was disabled (the event's `occurredAt`). */
  readonly occurredAt: string;
  readonly webhookId: string;
  readonly owner: Actor;
  /** The model it is scoped to; null for a registry-wide subscription. */
  readonly model: string | null;
  /** The receiver's origin: its URL may carry a token and is never shown. */
  readonly urlOrigin: string;
  readonly events: readonly string[];
  /** Why its last delivery was dead-lettered. */
  readonly reason: string;
  readonly failingSince: string;
  /** The API calls that mend it, under `MRW_PUBLIC_URL`. */
  readonly links: { readonly webhook: string; readonly deadDeliveries: string; readonly replay: string };
}

const MAX_REASON = 1_000;

// A header must stay one line whatever a name holds.
const oneLine = (text: string): string => text.replace(/[\r\n\t]+/g, ' ').trim();

/** The notice of a disabled webhook, from the registry's `WebhookDisabled` and `MRW_PUBLIC_URL`. */
export const webhookDisabledNotice = (input: {
  readonly id: string;
  readonly occurredAt: string;
  readonly data: WebhookDisabled['data'];
  readonly publicUrl: string;
}): WebhookDisabledNotice => {
  const { data } = input;
  const webhook = `${input.publicUrl}/api/v1/webhooks/${encodeURIComponent(data.webhookId)}`;
  return {
    kind: 'webhook-disabled',
    id: input.id,
    occurredAt: input.occurredAt,
    webhookId: data.webhookId,
    owner: data.owner,
    model: data.model,
    urlOrigin: data.urlOrigin,
    events: data.events,
    reason: data.reason,
    failingSince: data.failingSince,
    links: { webhook, deadDeliveries: `${webhook}/deliveries?status=dead`, replay: `${webhook}/replay` },
  };
};

const scopeOf = (notice: WebhookDisabledNotice): string => (notice.model === null ? 'every model (registry-wide)' : `model ${notice.model}`);

/** The facts, label and value, in the order both renderings show them. */
const factsOf = (notice: WebhookDisabledNotice): ReadonlyArray<readonly [string, string]> => [
  ['Webhook', notice.webhookId],
  ['Receiver', `${notice.urlOrigin} (origin; the full URL is not shown)`],
  ['Scope', scopeOf(notice)],
  ['Events', notice.events.length > 0 ? notice.events.join(', ') : '(none)'],
  ['Failing since', formatTime(notice.failingSince)],
  // One line: the receiver's words come into it, and a line of their own would read as a fact of ours.
  ['Last failure', clip(oneLine(notice.reason.replace(/\s+/g, ' ')), MAX_REASON)],
  ['Status', 'DISABLED'],
];

/** What the owner does next, as API calls: fix, look at what died, turn it on, and replay what it missed. */
const stepsOf = (notice: WebhookDisabledNotice): readonly string[] => [
  `Fix the receiver at ${notice.urlOrigin}.`,
  `See the deliveries that were given up: GET ${notice.links.deadDeliveries}`,
  `Turn it on again: PATCH ${notice.links.webhook} {"status":"ACTIVE"} — it then starts with new events.`,
  `If the receiver needs what it missed, send again the events since it started failing: POST ${notice.links.replay} {"since":"${notice.failingSince}"}` +
    ' (a dead delivery of an earlier event: POST …/deliveries/{delivery}/redeliver).',
];

/** An email to the owner of a disabled webhook: subject, plain text and HTML, every value escaped. */
export const renderWebhookDisabledEmail = (notice: WebhookDisabledNotice): RenderedEmail => {
  const headline = `Webhook disabled: ${notice.urlOrigin} (${notice.model ?? 'registry-wide'})`;
  const subject = oneLine(clip(`[model registry] ${headline}`, 200));
  const summary =
    `Your webhook ${notice.webhookId} kept failing since ${formatTime(notice.failingSince)}, longer than the registry allows, ` +
    `so it was disabled ${formatTime(notice.occurredAt)}: it receives nothing until it is turned on again.`;
  const facts = factsOf(notice);
  const steps = stepsOf(notice);

  const text = [headline, '', summary, '', ...facts.map(([label, value]) => `${label}: ${value}`), '', 'What to do:', ...steps.map((step, i) => `${i + 1}. ${step}`)];

  const e = escapeHtml;
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px;color:#1f2328">',
    `<h2 style="margin:0 0 8px">${e(headline)}</h2>`,
    `<p>${e(summary)}</p>`,
    '<table style="border-collapse:collapse">',
    facts.map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${e(k)}</th><td>${e(v)}</td></tr>`).join(''),
    '</table>',
    '<h3>What to do</h3><ol>',
    ...steps.map((step) => `<li>${e(step)}</li>`),
    '</ol>',
    '</body></html>',
  ];
  return { subject, text: text.join('\n'), html: html.join('\n') };
};
