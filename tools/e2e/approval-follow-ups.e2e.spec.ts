import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPROVAL_TIMERS, approvalTimerIds, ApprovalsModule, EXPIRY_GRACE_MS } from '@mrw/approvals';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '@mrw/approvals/testing';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';


const HOUR = 3_600_000;

/**
 * What follows a request, by email at a real SMTP server with a controlled clock: reminders
 * every `remindEvery` to the reviewers still to decide, the escalation contact half-way to
 * expiry, the requester when it expires, and the requester (not the reviewers) when the
 * automated gates refuse a request.
 */
describe('reminders, escalation, expiry and gate refusals by email', () => {
  let dataDir: string;
  let clock: SkippingClock;
  let smtp: SmtpReceiver;
  let suite: RegistryHarness;
  let carol: string;
  let rita: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-approval-follow-ups-'));
    clock = new SkippingClock();
    smtp = await startSmtpReceiver({ user: 'mrw', password: 'relay-pass' });
    suite = await startRegistry({
      dataDir,
      clock,
      modules: [ApprovalsModule],
      env: {
        MRW_SMTP_URL: `smtp://mrw:relay-pass@127.0.0.1:${smtp.port}`,
        MRW_MAIL_FROM: 'registry@example.com',
        MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        MRW_PUBLIC_URL: 'https://mrw.example.com',
      },
    });
    carol = await suite.token('carol', ['contributor']);
    rita = await suite.token('rita', ['reviewer']);
    await suite.token('ray', ['reviewer']);
    for (const [subject, email] of [
      ['carol', 'carol@example.com'],
      ['rita', 'rita@example.com'],
      ['ray', 'ray@example.com'],
      ['erin', 'erin@example.com'],
    ] as const) {
      expect((await suite.http('PUT', `/api/v1/people/${subject}`, { body: { email } })).status).toBeLessThan(300);
    }
  });

  afterAll(async () => {
    await suite?.close();
    await smtp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const timers = (): DurableTimers => suite.app.get<DurableTimers>(APPROVAL_TIMERS, { strict: false });
  const mailsTo = (address: string): ReceivedMail[] => smtp.received.filter((m) => m.envelope.to.includes(address));
  const subjects = (address: string): string[] => mailsTo(address).map((m) => m.mail.subject ?? '');
  /** Skips time, then fires what fell due (and the deliveries those schedule) before returning. */
  const advance = async (ms: number): Promise<void> => {
    clock.skip(ms);
    await timers().wake();
  };

  it('reminds the reviewer who has not decided, escalates half-way, tells the requester of the expiry', async () => {
    await suite.http('POST', '/api/v1/models', { token: carol, body: { name: 'slow' } });
    const policy = await suite.http('PUT', '/api/v1/models/slow/policy', {
      body: {
        approval: {
          Production: {
            required: 2,
            reviewers: ['role:reviewer'],
            expiresIn: 'P1D',
            remindEvery: 'PT6H',
            escalateTo: 'user:erin',
            notify: [{ kind: 'email' }],
          },
        },
      },
    });
    expect(policy.status).toBe(200);
    await suite.http('POST', '/api/v1/models/slow/versions', { token: carol, body: { source: 'https://models.example.com/slow.onnx' } });
    await suite.http('POST', '/api/v1/models/slow/versions/1/transitions', { token: carol, body: { toStage: 'Staging' } });
    const requested = await suite.http('POST', '/api/v1/models/slow/versions/1/transitions', { token: carol, body: { toStage: 'Production', comment: 'please look' } });
    expect(requested.body.request.status).toBe('awaiting-approval');
    const approvalId = requested.body.request.approvalId as string;
    const ids = approvalTimerIds(approvalId);

    // Both reviewers are asked; the follow-ups are set from the request's time.
    await smtp.waitFor(2);
    expect([...subjects('rita@example.com'), ...subjects('ray@example.com')].every((s) => s.includes('Approval needed'))).toBe(true);
    const requestedAt = Date.parse(requested.body.request.requestedAt ?? new Date(clock.now().getTime()).toISOString());
    await eventually(async () => timers().get(ids.escalation)?.status === 'pending', { what: 'the escalation timer' });
    const reminderDue = Date.parse(timers().get(ids.reminder)?.dueAt ?? '');
    const escalationDue = Date.parse(timers().get(ids.escalation)?.dueAt ?? '');
    const expiryDue = Date.parse(timers().get(ids.expiry)?.dueAt ?? '');
    expect(Math.abs(reminderDue - (requestedAt + 6 * HOUR))).toBeLessThan(60_000);
    expect(escalationDue).toBe(reminderDue + 6 * HOUR); // half of P1D = the second multiple of PT6H

    // rita approves (1 of 2); ray has not decided.
    const approved = await suite.http('POST', `/api/v1/approvals/${approvalId}/approve`, { token: rita, body: { comment: 'fine by me' } });
    expect(approved.status).toBe(200);

    // Not yet due: nothing.
    await advance(reminderDue - clock.now().getTime() - 60_000);
    expect(smtp.received).toHaveLength(2);

    // The first reminder: to ray only, and the timer moved to the next multiple.
    await advance(60_000);
    await smtp.waitFor(3);
    expect(subjects('ray@example.com')).toEqual([expect.stringContaining('Approval needed'), expect.stringContaining('Reminder')]);
    expect(subjects('rita@example.com')).toEqual([expect.stringContaining('Approval needed')]);
    expect(mailsTo('ray@example.com')[1]!.mail.text).toContain('1 of 2 approvals so far');
    expect(timers().get(ids.reminder)).toMatchObject({ status: 'pending', dueAt: new Date(reminderDue + 6 * HOUR).toISOString() });

    // Half-way: the second reminder to ray, and the escalation to erin (by email; she is no reviewer).
    await advance(6 * HOUR);
    await smtp.waitFor(5);
    expect(subjects('ray@example.com').filter((s) => s.includes('Reminder'))).toHaveLength(2);
    expect(subjects('erin@example.com')).toEqual([expect.stringContaining('Escalation')]);
    expect(mailsTo('erin@example.com')[0]!.mail.text).toContain('please look');
    expect(timers().get(ids.escalation)?.status).toBe('fired');

    // Past the expiry: the 18 h reminder falls in the same pass but the request is over, so
    // no reminder; the approval expires and its requester is told.
    await advance(expiryDue - clock.now().getTime() + EXPIRY_GRACE_MS);
    const expired = await eventually(async () => mailsTo('carol@example.com').find((m) => m.mail.subject?.includes('Expired')), {
      what: "the requester's expiry email",
    });
    expect(expired.mail.text).toContain('no longer blocked');
    expect(subjects('ray@example.com').filter((s) => s.includes('Reminder'))).toHaveLength(2);
    expect(subjects('rita@example.com')).toHaveLength(1);
    expect(timers().get(ids.reminder)?.status).not.toBe('pending');
  });

  it('tells the requester of a request the automated gates refused, with the failing checks, and no reviewer', async () => {
    await suite.http('POST', '/api/v1/models', { token: carol, body: { name: 'gated' } });
    const policy = await suite.http('PUT', '/api/v1/models/gated/policy', {
      body: {
        evaluation: { set: 'never-uploaded', thresholds: { accuracy: { threshold: 0.9 } } },
        approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D', notify: [{ kind: 'email' }] } },
      },
    });
    expect(policy.status).toBe(200);
    await suite.http('POST', '/api/v1/models/gated/versions', { token: carol, body: { source: 'https://models.example.com/gated.onnx' } });
    await suite.http('POST', '/api/v1/models/gated/versions/1/transitions', { token: carol, body: { toStage: 'Staging' } });
    const before = smtp.received.length;
    const refused = await suite.http('POST', '/api/v1/models/gated/versions/1/transitions', { token: carol, body: { toStage: 'Production', comment: 'ship it' } });
    expect(refused.body.request?.approvalId ?? null).toBeNull();

    const mail = await eventually(async () => mailsTo('carol@example.com').find((m) => m.mail.subject?.includes('Refused by the automated gates')), {
      what: "the requester's gate-refused email",
    });
    expect(mail.mail.subject).toContain('gated v1');
    expect(mail.mail.text).toContain('No reviewer was asked');
    expect(mail.mail.text).toMatch(/evaluat/);
    // Only carol's: reviewers are not bothered by a refusal.
    expect(smtp.received.slice(before).map((m) => m.envelope.to)).toEqual([['carol@example.com']]);
  });
});
