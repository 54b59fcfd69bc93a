import type { WebhookDisabled } from '@mrw/contracts';
import { renderWebhookDisabledEmail, webhookDisabledNotice } from './webhook-disabled-notice';

const WEBHOOK = '5b0c8a52-6f0e-4d52-9a57-0f7d2c1e9b10';
const REASON = 'delivery 1f2e (MODEL_VERSION_TAG_SET) was dead-lettered: still failing after 3 attempts (the receiver answered 500)';

const disabled = (overrides: Partial<WebhookDisabled['data']> = {}): WebhookDisabled['data'] => ({
  webhookId: WEBHOOK,
  owner: { kind: 'user', id: 'carol' },
  model: 'churn',
  urlOrigin: 'https://ci.example.com',
  reason: REASON,
  failingSince: '2026-03-01T10:00:00.000Z',
  events: ['MODEL_VERSION_CREATED', 'MODEL_VERSION_TAG_SET'],
  ...overrides,
});

const noticeOf = (data: WebhookDisabled['data']) =>
  webhookDisabledNotice({ id: 'notice-1', occurredAt: '2026-03-04T10:05:00.000Z', data, publicUrl: 'https://mrw.example.com' });

describe('the email to the owner of a disabled webhook', () => {
  it('names the webhook, its receiver, scope and events, since when and why it failed, and that it is DISABLED', () => {
    const email = renderWebhookDisabledEmail(noticeOf(disabled()));
    expect(email.subject).toBe('[model registry] Webhook disabled: https://ci.example.com (churn)');
    const lines = email.text.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `Webhook: ${WEBHOOK}`,
        'Receiver: https://ci.example.com (origin; the full URL is not shown)',
        'Scope: model churn',
        'Events: MODEL_VERSION_CREATED, MODEL_VERSION_TAG_SET',
        'Failing since: 2026-03-01 10:00 UTC',
        `Last failure: ${REASON}`,
        'Status: DISABLED',
      ]),
    );
    expect(email.text).toContain('kept failing since 2026-03-01 10:00 UTC');
    expect(email.text).toContain('disabled 2026-03-04 10:05 UTC');
  });

  it('says what to do: fix the receiver, look at the dead deliveries, turn it on again, replay since it started failing', () => {
    const text = renderWebhookDisabledEmail(noticeOf(disabled())).text;
    const steps = text.slice(text.indexOf('What to do:')).split('\n');
    const base = `https://mrw.example.com/api/v1/webhooks/${WEBHOOK}`;
    expect(steps[1]).toBe('1. Fix the receiver at https://ci.example.com.');
    expect(steps[2]).toBe(`2. See the deliveries that were given up: GET ${base}/deliveries?status=dead`);
    expect(steps[3]).toContain(`3. Turn it on again: PATCH ${base} {"status":"ACTIVE"}`);
    expect(steps[4]).toContain(`4. If the receiver needs what it missed, send again the events since it started failing: POST ${base}/replay {"since":"2026-03-01T10:00:00.000Z"}`);
  });

  it('calls a registry-wide subscription so', () => {
    const email = renderWebhookDisabledEmail(noticeOf(disabled({ model: null })));
    expect(email.subject).toBe('[model registry] Webhook disabled: https://ci.example.com (registry-wide)');
    expect(email.text).toContain('Scope: every model (registry-wide)');
  });

  it('escapes what the receiver said in the HTML, keeps the subject one line and clips a long reason', () => {
    const email = renderWebhookDisabledEmail(noticeOf(disabled({ reason: `<script>alert(1)</script>\n${'x'.repeat(5_000)}`, urlOrigin: 'https://a.example.com\r\nBcc: x@y' })));
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.html).not.toContain('<script>');
    expect(email.subject).not.toMatch(/[\r\n]/);
    const reasonLine = email.text.split('\n').find((line) => line.startsWith('Last failure: ')) as string;
    expect(reasonLine.length).toBeLessThanOrEqual('Last failure: '.length + 1_000);
  });
});
