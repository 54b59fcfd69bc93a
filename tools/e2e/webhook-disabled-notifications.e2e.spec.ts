import { APPROVAL_TIMERS, ApprovalsBusController, ApprovalsModule } from '@mrw/approvals';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type ReceivedMail, type SmtpReceiver } from '@mrw/approvals/testing';
import { webhookNoticeStream } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { WebhookDeliveries, WebhooksModule } from '@mrw/webhooks';

const PUBLIC_URL = 'https://mrw.example.com';
const DISABLED = 'Webhook disabled';

/**
 * The last step of a failing webhook, end to end with real receivers: a receiver answering 500
 * gets its deliveries dead-lettered (the subscription FAILING); once it has failed longer than
 * MRW_WEBHOOK_DISABLE_AFTER, the next dead letter disables it, and the approvals service emails
 * its owner (at a real SMTP server, the people directory's address) once: which webhook, since
 * when and why it failed, and how to mend it. A redelivered event sends nothing more.
 */
describe('a webhook disabled for failing, told to its owner', () => {
  let smtp: SmtpReceiver;
  let receiver: HttpReceiver;
  let suite: RegistryHarness | undefined;
  const clock = new SkippingClock();

  beforeAll(async () => {
    smtp = await startSmtpReceiver({ user: 'mrw', password: 'relay-pass' });
    receiver = await startHttpReceiver((_request, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'));
    suite = await startRegistry({
      modules: [ApprovalsModule, WebhooksModule],
      clock,
      env: {
        MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        MRW_WEBHOOK_MAX_AGE: 'PT1S',
        MRW_WEBHOOK_DISABLE_AFTER: 'PT2S',
        MRW_SMTP_URL: `smtp://mrw:relay-pass@127.0.0.1:${smtp.port}`,
        MRW_MAIL_FROM: 'registry@example.com',
        MRW_PUBLIC_URL: PUBLIC_URL,
      },
    });
  });

  afterAll(async () => {
    await suite?.close();
    await smtp?.close();
    await receiver?.close();
  });

  const mailsTo = (address: string): ReceivedMail[] => smtp.received.filter((m) => m.envelope.to.includes(address) && (m.mail.subject ?? '').includes(DISABLED));
  const timersOf = (harness: RegistryHarness): DurableTimers => harness.app.get<DurableTimers>(APPROVAL_TIMERS, { strict: false });

  it('disables it after MRW_WEBHOOK_DISABLE_AFTER of failing and emails its owner once, with what to do', async () => {
    const harness = suite as RegistryHarness;
    const caughtUp = () => harness.app.get(WebhookDeliveries).caughtUp();
    expect((await harness.http('POST', '/api/v1/models', { body: { name: 'churn' } })).status).toBe(201);
    const carol = await harness.token('carol', ['contributor'], ['churn']);
    expect((await harness.http('PUT', '/api/v1/people/carol', { body: { email: 'carol@example.com' } })).status).toBeLessThan(300);
    const created = await harness.http('POST', '/api/v1/webhooks', {
      token: carol,
      body: { url: `${receiver.base}/hooks/ci?token=s3cret-in-the-url`, events: ['MODEL_VERSION_CREATED', 'MODEL_VERSION_TAG_SET'], model: 'churn' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // The first delivery dies (500 until the maximum age): FAILING, still active, nobody emailed.
    const registered = await harness.http('POST', '/api/v1/models/churn/versions', { token: carol, body: { source: 'https://models.example.com/churn.onnx' } });
    expect(registered.status).toBe(201);
    await caughtUp();
    const failing = (await harness.http('GET', `/api/v1/webhooks/${id}`, { token: carol })).body;
    expect(failing).toMatchObject({ status: 'ACTIVE', health: 'FAILING', failingSince: expect.any(String) });
    expect((await harness.http('GET', `/api/v1/webhooks/${id}/deliveries?status=dead`, { token: carol })).body.total).toBe(1);
    expect(mailsTo('carol@example.com')).toEqual([]);

    // Past the disable-after, the next dead letter disables it.
    clock.skip(3_000);
    const tagged = await harness.http('PUT', `/api/v1/models/churn/versions/${registered.body.version as number}/tags/team`, { token: carol, body: { value: 'growth' } });
    expect(tagged.status).toBeLessThan(300);
    const disabled = await eventually(
      async () => {
        const shown = (await harness.http('GET', `/api/v1/webhooks/${id}`, { token: carol })).body;
        return shown.status === 'DISABLED' ? shown : undefined;
      },
      { what: 'the webhook disabled' },
    );
    expect(disabled.failingSince).toBe(failing.failingSince);
    expect((await harness.http('GET', `/api/v1/webhooks/${id}/deliveries?status=dead`, { token: carol })).body.total).toBe(2);

    const [mail] = await eventually(async () => (mailsTo('carol@example.com').length > 0 ? mailsTo('carol@example.com') : undefined), { what: "the owner's email" });
    expect(mail!.mail.subject).toBe(`[model registry] ${DISABLED}: ${receiver.base} (churn)`);
    const text = mail!.mail.text ?? '';
    const base = `${PUBLIC_URL}/api/v1/webhooks/${id}`;
    for (const line of [
      `Webhook: ${id}`,
      `Receiver: ${receiver.base} (origin; the full URL is not shown)`,
      'Scope: model churn',
      'Events: MODEL_VERSION_CREATED, MODEL_VERSION_TAG_SET',
      'Status: DISABLED',
      `2. See the deliveries that were given up: GET ${base}/deliveries?status=dead`,
      `3. Turn it on again: PATCH ${base} {"status":"ACTIVE"}`,
      `POST ${base}/replay {"since":"${failing.failingSince as string}"}`,
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/Last failure: delivery \S+ \(MODEL_VERSION_TAG_SET\) was dead-lettered: .*500/);
    expect(`${mail!.raw}`).not.toContain('s3cret-in-the-url');
    expect(text).not.toContain('/hooks/ci');

    // The notice is published for the approvals service, not an audit fact.
    const audit = await harness.http('GET', '/api/v1/audit?type=WebhookDisabled');
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([]);
    expect((await harness.http('GET', '/api/v1/audit?model=churn')).body.items.map((e: { type: string }) => e.type)).toContain('ModelVersionTagSet');

    // The bus delivers the same WebhookDisabled again: nothing is sent again.
    const store = harness.app.get<EventStore>(EVENT_STORE, { strict: false });
    const notices = await store.readStream(webhookNoticeStream(id));
    expect(notices.map((e) => e.type)).toEqual(['WebhookDisabled']);
    await harness.app.get(ApprovalsBusController).webhookDisabled(notices[0] as RecordedEvent);
    await timersOf(harness).wake();
    const deliveries = timersOf(harness)
      .list()
      .filter((t) => t.kind === 'webhook-notice');
    expect(deliveries.map((t) => t.status)).toEqual(['fired']);
    expect(mailsTo('carol@example.com')).toHaveLength(1);
  });
});
