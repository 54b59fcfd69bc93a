import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { APPROVAL_TIMERS, ApprovalsBusController, ApprovalsModule } from '@mrw/approvals';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type ReceivedMail, type ReceivedRequest, type SmtpReceiver } from '@mrw/approvals/testing';
import { modelVersionStream } from '@mrw/contracts';
import { DeployerModule } from '@mrw/deployer';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const PUBLIC_URL = 'https://mrw.example.com';
const SECRET_ENV = 'MRW_E2E_DEPLOY_HOOK_SECRET';
const FAILED = 'Deployment failed';

/**
 * Rule 4.7's last part, end to end with real receivers: a version approved for Production whose
 * deployment target refuses it (a deployment webhook answering 400) is failed by the deployer;
 * the approvals service then tells the requester and the reviewer who approved (one email each,
 * at a real SMTP server, to the people directory's addresses) and the rule's Slack room (one
 * message at a local HTTP receiver) what failed and why, that the champion keeps serving and
 * that the candidate is back in Staging. A redelivered event and a restart send nothing twice.
 */
describe('a failed deployment told to its requester, its approver and the room', () => {
  let dataDir: string;
  let smtp: SmtpReceiver;
  let slack: HttpReceiver;
  let hook: HttpReceiver;
  let answer: (request: ReceivedRequest, res: ServerResponse) => void;
  let suite: RegistryHarness | undefined;

  const start = async (): Promise<RegistryHarness> => {
    suite = await startRegistry({
      dataDir,
      modules: [DeployerModule, ApprovalsModule],
      env: {
        MRW_SMTP_URL: `smtp://mrw:relay-pass@127.0.0.1:${smtp.port}`,
        MRW_MAIL_FROM: 'registry@example.com',
        MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        MRW_PUBLIC_URL: PUBLIC_URL,
      },
    });
    return suite;
  };

  beforeAll(async () => {
    process.env[SECRET_ENV] = 'whsec_ZGVwbG95LWhvb2stc2VjcmV0';
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-deployment-failure-'));
    smtp = await startSmtpReceiver({ user: 'mrw', password: 'relay-pass' });
    slack = await startHttpReceiver();
    answer = (_request, res) => res.writeHead(202).end();
    hook = await startHttpReceiver((request, res) => answer(request, res));
  });

  afterAll(async () => {
    await suite?.close();
    await smtp?.close();
    await slack?.close();
    await hook?.close();
    await rm(dataDir, { recursive: true, force: true });
    delete process.env[SECRET_ENV];
  });

  const timersOf = (harness: RegistryHarness): DurableTimers => harness.app.get<DurableTimers>(APPROVAL_TIMERS, { strict: false });
  const failureMails = (address: string): ReceivedMail[] =>
    smtp.received.filter((m) => m.envelope.to.includes(address) && (m.mail.subject ?? '').includes(FAILED));
  const failurePosts = (): ReceivedRequest[] => slack.received.filter((r) => r.body.includes(FAILED));
  const local = (url: string): string => url.replace(PUBLIC_URL, '');
  const versionOf = async (harness: RegistryHarness, version: number) => (await harness.http('GET', `/api/v1/models/fraud/versions/${version}`)).body;

  /** Registers the next version, asks for Production as carol, and approves it as rita: the registry then requests its deployment. */
  const approvedVersion = async (harness: RegistryHarness, carol: string, rita: string): Promise<{ version: number; approvalId: string; deploymentId: string }> => {
    const registered = await harness.http('POST', '/api/v1/models/fraud/versions', {
      token: carol,
      body: { source: 'https://models.example.com/fraud.onnx', artifactDigest: `sha256:${'c'.repeat(64)}` },
    });
    const version = registered.body.version as number;
    await harness.http('POST', `/api/v1/models/fraud/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
    const requested = await harness.http('POST', `/api/v1/models/fraud/versions/${version}/transitions`, {
      token: carol,
      body: { toStage: 'Production', comment: `fraud v${version}, fewer false alarms` },
    });
    expect(requested.body.request.status).toBe('awaiting-approval');
    const approvalId = requested.body.request.approvalId as string;
    const approved = await harness.http('POST', `/api/v1/approvals/${approvalId}/approve`, { token: rita, body: { comment: 'looks right' } });
    expect(approved.body.status).toBe('approved');
    const deploymentId = (await versionOf(harness, version)).deployments.at(-1).id as string;
    return { version, approvalId, deploymentId };
  };

  it('emails the requester and the approving reviewer once each, posts once to the room, and never again on redelivery or restart', async () => {
    const first = await start();
    const carol = await first.token('carol', ['contributor']);
    const rita = await first.token('rita', ['reviewer']);
    await first.token('ray', ['reviewer']); // in the reviewer group, but does not approve: not told of the failure
    for (const [subject, email] of [
      ['carol', 'carol@example.com'],
      ['rita', 'rita@example.com'],
      ['ray', 'ray@example.com'],
    ] as const) {
      expect((await first.http('PUT', `/api/v1/people/${subject}`, { body: { email } })).status).toBeLessThan(300);
    }
    expect((await first.http('POST', '/api/v1/models', { token: carol, body: { name: 'fraud' } })).status).toBe(201);
    const policy = await first.http('PUT', '/api/v1/models/fraud/policy', {
      body: {
        approval: {
          Production: {
            required: 1,
            reviewers: ['role:reviewer'],
            expiresIn: 'P1D',
            notify: [{ kind: 'email' }, { kind: 'slack', webhookUrl: `${slack.base}/services/T0/B0/secret-part` }],
          },
        },
        deployment: { targets: [{ kind: 'webhook', environment: 'production', settings: { url: `${hook.base}/deploy`, secretEnv: SECRET_ENV } }] },
      },
    });
    expect(policy.status).toBe(200);

    // v1 serves: its pipeline accepts the webhook and reports success to the callback.
    const v1 = await approvedVersion(first, carol, rita);
    const [trigger] = await hook.waitFor(1);
    const callbackUrl = (JSON.parse(trigger!.body) as { data: { callbackUrl: string } }).data.callbackUrl;
    expect((await first.http('POST', local(callbackUrl), { token: null, body: { status: 'succeeded' } })).status).toBe(202);
    await eventually(async () => (await first.http('GET', '/api/v1/models/fraud')).body.servingVersion === v1.version, { what: 'v1 serving' });

    // v2's webhook is refused: the deployment fails, v2 goes back to Staging, v1 keeps serving.
    answer = (_request, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown environment');
    const v2 = await approvedVersion(first, carol, rita);
    const failed = await eventually(
      async () => {
        const state = await versionOf(first, v2.version);
        return state.deployments.at(-1).status === 'failed' ? state : undefined;
      },
      { what: 'the deployment of v2 failed' },
    );
    expect(failed.stage).toBe('Staging');
    const reason = failed.deployments.at(-1).reason as string;
    expect(reason).toContain('400');
    expect((await first.http('GET', '/api/v1/models/fraud')).body.servingVersion).toBe(v1.version);

    // The requester and the reviewer who approved, each by email at their directory address.
    const [toCarol] = await eventually(async () => (failureMails('carol@example.com').length > 0 ? failureMails('carol@example.com') : undefined), {
      what: "the requester's email",
    });
    const [toRita] = await eventually(async () => (failureMails('rita@example.com').length > 0 ? failureMails('rita@example.com') : undefined), {
      what: "the approver's email",
    });
    for (const mail of [toCarol!, toRita!]) {
      expect(mail.mail.subject).toBe(`[model registry] ${FAILED}: fraud v${v2.version} → Production`);
      const text = mail.mail.text ?? '';
      expect(text).toContain(`Reason: ${reason}`);
      expect(text).toContain(`The champion v${v1.version} keeps serving; v${v2.version} went back to Staging.`);
      expect(text).toContain('on production (webhook)');
      expect(text).toContain(`Deployment: ${PUBLIC_URL}/api/v1/deployments/${v2.deploymentId}`);
      expect(text).toContain(`Version: ${PUBLIC_URL}/api/v1/models/fraud/versions/${v2.version}`);
      expect(text).not.toContain('Approve:');
    }
    // The room: one message with the reason and the links.
    const [post] = await eventually(async () => (failurePosts().length > 0 ? failurePosts() : undefined), { what: 'the Slack message' });
    expect(post!.url).toBe('/services/T0/B0/secret-part');
    expect(post!.body).toContain('unknown environment');
    expect(post!.body).toContain(`${PUBLIC_URL}/api/v1/deployments/${v2.deploymentId}`);

    // Each outcome shows on the approval, as every notification of it does, and in the audit trail.
    const told = await eventually(
      async () => {
        const approval = await first.http('GET', `/api/v1/approvals/${v2.approvalId}`);
        const failures = (approval.body.notifications ?? []).filter((n: { notice: string }) => n.notice === 'deployment-failed');
        return failures.length === 3 ? failures : undefined;
      },
      { what: 'three outcomes of the failure notice on the approval' },
    );
    expect(told).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'email', recipient: 'carol', outcome: 'delivered' }),
        expect.objectContaining({ channel: 'email', recipient: 'rita', outcome: 'delivered' }),
        expect.objectContaining({ channel: 'slack', recipient: null, outcome: 'delivered' }),
      ]),
    );

    // The bus delivers the same DeploymentFailed again: nothing is sent again.
    const store = first.app.get<EventStore>(EVENT_STORE, { strict: false });
    const failedEvent = (await store.readStream(modelVersionStream('fraud', v2.version))).find((e) => e.type === 'DeploymentFailed') as RecordedEvent;
    await first.app.get(ApprovalsBusController).deploymentFailed(failedEvent);
    await timersOf(first).wake();
    expect(failureMails('carol@example.com')).toHaveLength(1);
    expect(failureMails('rita@example.com')).toHaveLength(1);
    expect(failureMails('ray@example.com')).toHaveLength(0);
    expect(failurePosts()).toHaveLength(1);

    // A restart re-reads the log, and the event arrives once more: still nothing twice.
    await first.close({ keepData: true });
    suite = undefined;
    const restarted = await start();
    await restarted.app.get(ApprovalsBusController).deploymentFailed(failedEvent);
    await timersOf(restarted).wake();
    const deliveries = timersOf(restarted)
      .list()
      .filter((t) => t.kind === 'approval-notice' && (t.payload as { notice: { kind: string } }).notice.kind === 'deployment-failed');
    expect(deliveries.map((t) => t.status)).toEqual(['fired', 'fired', 'fired']);
    expect(failureMails('carol@example.com')).toHaveLength(1);
    expect(failureMails('rita@example.com')).toHaveLength(1);
    expect(failurePosts()).toHaveLength(1);
    const audit = await restarted.http('GET', `/api/v1/models/fraud/versions/${v2.version}/audit`);
    const recorded = (audit.body.events as Array<{ type: string; data: { notice?: string } }>).filter(
      (e) => e.type === 'ApprovalNotificationRecorded' && e.data.notice === 'deployment-failed',
    );
    expect(recorded).toHaveLength(3);
  });
});
