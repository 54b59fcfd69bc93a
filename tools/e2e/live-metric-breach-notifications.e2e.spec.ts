import { randomUUID } from 'node:crypto';
import { APPROVAL_TIMERS, ApprovalsBusController, ApprovalsModule } from '@mrw/approvals';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type ReceivedMail, type ReceivedRequest, type SmtpReceiver } from '@mrw/approvals/testing';
import { modelVersionStream, type CommandMessage } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import { RegistryCommands, type DurableTimers } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const PUBLIC_URL = 'https://mrw.example.com';
const BREACHED = 'Live metric breached';

/**
 * Issue 12's "webhooks and approval channels react": a sustained live-metric breach on the
 * serving version, reported by the archival service, is told to the model's Production rule's
 * room (a Slack message at a local receiver) and to its reviewers by email (a real SMTP server),
 * the version's registrant among them; a redelivered event sends nothing again.
 */
describe('a live-metric breach told to the Production rule’s channels', () => {
  let smtp: SmtpReceiver;
  let slack: HttpReceiver;
  let suite: RegistryHarness | undefined;

  beforeAll(async () => {
    smtp = await startSmtpReceiver({ user: 'mrw', password: 'relay-pass' });
    slack = await startHttpReceiver();
    suite = await startRegistry({
      modules: [ApprovalsModule],
      env: {
        MRW_SMTP_URL: `smtp://mrw:relay-pass@127.0.0.1:${smtp.port}`,
        MRW_MAIL_FROM: 'registry@example.com',
        MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        MRW_PUBLIC_URL: PUBLIC_URL,
      },
    });
  });

  afterAll(async () => {
    await suite?.close();
    await smtp?.close();
    await slack?.close();
  });

  const breachMails = (address: string): ReceivedMail[] =>
    smtp.received.filter((m) => m.envelope.to.includes(address) && (m.mail.subject ?? '').includes(BREACHED));
  const breachPosts = (): ReceivedRequest[] => slack.received.filter((r) => r.body.includes(BREACHED));

  it('posts once to the room and emails each reviewer once, with the figures and the version link', async () => {
    const harness = suite as RegistryHarness;
    const carol = await harness.token('carol', ['contributor', 'reviewer']);
    await harness.token('rita', ['reviewer']);
    for (const [subject, email] of [
      ['carol', 'carol@example.com'],
      ['rita', 'rita@example.com'],
    ] as const) {
      expect((await harness.http('PUT', `/api/v1/people/${subject}`, { body: { email } })).status).toBeLessThan(300);
    }
    expect((await harness.http('POST', '/api/v1/models', { token: carol, body: { name: 'churn' } })).status).toBe(201);
    const policy = await harness.http('PUT', '/api/v1/models/churn/policy', {
      body: {
        approval: {
          Production: {
            required: 0,
            reviewers: ['role:reviewer'],
            expiresIn: 'P1D',
            notify: [{ kind: 'email' }, { kind: 'slack', webhookUrl: `${slack.base}/services/T0/B0/secret-part` }],
          },
        },
        archival: { liveMetric: { metric: 'accuracy', below: 0.85, for: 'PT1H' } },
      },
    });
    expect(policy.status).toBe(200);

    // v1, registered by carol, serves (no approval needed; the deployer's reports sent as it sends them).
    const send = (service: 'archival' | 'deployer', command: Omit<CommandMessage, 'correlationId' | 'causationId' | 'model' | 'version'>) =>
      harness.app.get(RegistryCommands).send(service, { ...command, model: 'churn', version: 1, correlationId: randomUUID(), causationId: null });
    await harness.http('POST', '/api/v1/models/churn/versions', { token: carol, body: { source: 'https://models.example.com/churn-1.onnx' } });
    await harness.http('POST', '/api/v1/models/churn/versions/1/transitions', { token: carol, body: { toStage: 'Staging' } });
    await harness.http('POST', '/api/v1/models/churn/versions/1/transitions', { token: carol, body: { toStage: 'Production' } });
    const deploymentId = (await harness.http('GET', '/api/v1/models/churn/versions/1')).body.deployments.at(-1).id as string;
    await send('deployer', { commandId: randomUUID(), type: 'RecordDeploymentStarted', data: { deploymentId, environment: 'production', target: 'local' } });
    await send('deployer', { commandId: randomUUID(), type: 'RecordDeploymentSucceeded', data: { deploymentId, endpoint: null } });

    const window = { from: '2026-03-02T09:00:00.000Z', to: '2026-03-02T10:00:00.000Z', for: 'PT1H', samples: 12, worst: 0.71, mean: 0.78 };
    await send('archival', { commandId: randomUUID(), type: 'RecordLiveMetricBreach', data: { metric: 'accuracy', direction: 'below', threshold: 0.85, window } });

    const [post] = await eventually(async () => (breachPosts().length > 0 ? breachPosts() : undefined), { what: 'the Slack message' });
    expect(post!.url).toBe('/services/T0/B0/secret-part');
    expect(post!.body).toContain('stayed below 0.8500 for PT1H');
    expect(post!.body).toContain(`${PUBLIC_URL}/api/v1/models/churn/versions/1`);
    for (const address of ['carol@example.com', 'rita@example.com']) {
      const [mail] = await eventually(async () => (breachMails(address).length > 0 ? breachMails(address) : undefined), { what: `the email to ${address}` });
      expect(mail!.mail.subject).toBe(`[model registry] ${BREACHED}: churn v1 accuracy below 0.8500`);
      expect(mail!.mail.text).toContain('Samples: 12');
      expect(mail!.mail.text).toContain('No rollback was requested');
    }

    // The bus delivers the same LiveMetricBreached again: nothing is sent again.
    const store = harness.app.get<EventStore>(EVENT_STORE, { strict: false });
    const breached = (await store.readStream(modelVersionStream('churn', 1))).find((e) => e.type === 'LiveMetricBreached') as RecordedEvent;
    await harness.app.get(ApprovalsBusController).liveMetricBreached(breached);
    const timers = harness.app.get<DurableTimers>(APPROVAL_TIMERS, { strict: false });
    await timers.wake();
    expect(breachPosts()).toHaveLength(1);
    expect(breachMails('carol@example.com')).toHaveLength(1);
    expect(breachMails('rita@example.com')).toHaveLength(1);
    const deliveries = timers.list().filter((t) => t.kind === 'approval-notice' && (t.payload as { notice: { kind: string } }).notice.kind === 'live-metric-breached');
    expect(deliveries.map((t) => t.status)).toEqual(['fired', 'fired', 'fired']);
  });
});
