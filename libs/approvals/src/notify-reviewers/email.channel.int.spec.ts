import { failureKind } from '@mrw/resilience';
import { EmailChannel } from './email.channel';
import { NotificationDeliveryError } from './notification-channel';
import { HOSTILE_COMMENT, linksFor, SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';
import { startSmtpReceiver, type SmtpReceiver } from './testing/local-receivers';

const USER = 'mrw-mailer';
const PASSWORD = 'smtp-pa55word-do-not-log';
const FROM = 'Model registry <registry@example.com>';

let smtp: SmtpReceiver | undefined;
const channels: EmailChannel[] = [];

const channel = (port: number, password = PASSWORD): EmailChannel => {
  const email = new EmailChannel({ smtpUrl: `smtp://${USER}:${password}@127.0.0.1:${port}`, from: FROM, timeouts: { connectMs: 2_000, greetingMs: 2_000, socketMs: 5_000 } });
  channels.push(email);
  return email;
};

const failure = async (promise: Promise<unknown>): Promise<NotificationDeliveryError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NotificationDeliveryError)) throw new Error(`expected a NotificationDeliveryError, got ${String(error)}`);
  return error;
};

afterEach(async () => {
  for (const c of channels.splice(0)) c.close();
  await smtp?.close();
  smtp = undefined;
});

describe('EmailChannel against a real SMTP server', () => {
  it('sends one message per reviewer, each with their own links, the evidence and the comment escaped', async () => {
    smtp = await startSmtpReceiver({ user: USER, password: PASSWORD });
    const email = channel(smtp.port);
    const notice = sampleNotice();
    const results = await Promise.all([
      email.send(notice, { subject: 'bob', email: 'bob@example.com', links: linksFor('bob') }),
      email.send(notice, { subject: 'carol', email: 'carol@example.com', links: linksFor('carol') }),
    ]);
    expect(results.map((r) => [r.channel, r.target])).toEqual([
      ['email', 'bob@example.com'],
      ['email', 'carol@example.com'],
    ]);
    expect(results[0]?.response).toMatch(/^250/);

    const received = await smtp.waitFor(2);
    const toBob = received.find((m) => m.envelope.to.includes('bob@example.com'));
    const toCarol = received.find((m) => m.envelope.to.includes('carol@example.com'));
    if (!toBob || !toCarol) throw new Error('a message is missing');
    expect(toBob.envelope).toEqual({ from: 'registry@example.com', to: ['bob@example.com'] });
    expect(toBob.mail.subject).toBe('[model registry] Approval needed: churn v7 → Production');
    expect(toBob.mail.headers.get('x-mrw-notice-id')).toBe('ntc_apr-0001_requested');

    const text = toBob.mail.text ?? '';
    expect(text).toContain('accuracy: 0.9120 vs 0.8900, difference +0.0220, 95% CI [+0.0100, +0.0340]');
    expect(text).toContain(`churn-holdout @ ${SAMPLE_DIGEST}`);
    expect(text).toContain(`Approve: ${linksFor('bob').approve}`);
    expect(text).toContain(`Reject: ${linksFor('bob').reject}`);
    expect(text).toContain(HOSTILE_COMMENT);
    expect(toCarol.mail.text).toContain(`Approve: ${linksFor('carol').approve}`);
    expect(toCarol.mail.text).not.toContain('bob-approve-token');

    const html = typeof toBob.mail.html === 'string' ? toBob.mail.html : '';
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain(`href="${linksFor('bob').approve}"`);
    expect(html).toContain('95% CI [+0.0100, +0.0340]');
    expect(html).toContain(SAMPLE_DIGEST);
  });

  it('treats a permanent SMTP refusal (550) as permanent and a temporary one (451) as transient', async () => {
    smtp = await startSmtpReceiver({ user: USER, password: PASSWORD, refuseRecipient: (a) => (a.startsWith('gone@') ? 550 : a.startsWith('busy@') ? 451 : undefined) });
    const email = channel(smtp.port);
    const gone = await failure(email.send(sampleNotice(), { subject: 'gone', email: 'gone@example.com' }));
    expect([gone.code, gone.status, failureKind(gone)]).toEqual(['DELIVERY_REJECTED', 550, 'permanent']);
    const busy = await failure(email.send(sampleNotice(), { subject: 'busy', email: 'busy@example.com' }));
    expect([busy.code, busy.status, failureKind(busy)]).toEqual(['DELIVERY_UNAVAILABLE', 451, 'transient']);
    expect(smtp.received).toHaveLength(0);
  });

  it('refuses bad credentials permanently, and never says the password', async () => {
    smtp = await startSmtpReceiver({ user: USER, password: PASSWORD });
    const wrong = 'wrong-pa55word-secret';
    const error = await failure(channel(smtp.port, wrong).send(sampleNotice(), { subject: 'bob', email: 'bob@example.com' }));
    expect(failureKind(error)).toBe('permanent');
    expect(error.status).toBe(535);
    expect(`${error.message} ${error.target} ${JSON.stringify(error)}`).not.toContain(wrong);
    expect(error.message).toContain(`smtp://127.0.0.1:${smtp.port}`);
  });

  it('reports a server that is not there as transient', async () => {
    smtp = await startSmtpReceiver({ user: USER, password: PASSWORD });
    const port = smtp.port;
    await smtp.close();
    smtp = undefined;
    const error = await failure(channel(port).send(sampleNotice(), { subject: 'bob', email: 'bob@example.com' }));
    expect([error.code, failureKind(error)]).toEqual(['DELIVERY_UNAVAILABLE', 'transient']);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('refuses a recipient without an address, permanently, before connecting', async () => {
    smtp = await startSmtpReceiver({ user: USER, password: PASSWORD });
    const error = await failure(channel(smtp.port).send(sampleNotice(), { subject: 'dave' }));
    expect([error.code, failureKind(error)]).toEqual(['DELIVERY_NO_RECIPIENT', 'permanent']);
    expect(error.message).toContain('dave');
  });

  it('describes itself by the SMTP server’s host and port only', () => {
    expect(channel(2525).target).toBe('smtp://127.0.0.1:2525');
  });
});
