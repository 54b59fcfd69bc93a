import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApprovalsModule } from '@mrw/approvals';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '@mrw/approvals/testing';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const PUBLIC_URL = 'https://mrw.example.com';

/**
 * The human gate end to end, with real parts: a passing evaluation, a request for Production,
 * an email at a real SMTP server and a Slack message at a local HTTP receiver, both with the
 * evidence; the email's one-click link shows the decision on GET and makes it on POST; the
 * version reaches Production, and the audit trail says who approved, when, how and on what.
 */
describe('reviewers told by email and Slack, deciding with one click', () => {
  let suite: RegistryHarness;
  let smtp: SmtpReceiver;
  let slack: HttpReceiver;
  let teams: HttpReceiver;
  let carol: string;
  let rita: string;

  beforeAll(async () => {
    smtp = await startSmtpReceiver({ user: 'mrw', password: 'relay-pass' });
    slack = await startHttpReceiver();
    // A Teams workflow that refuses what it is sent: that channel fails, the others do not notice.
    teams = await startHttpReceiver((_request, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('bad card'));
    suite = await startRegistry({
      modules: [EvaluatorModule, ApprovalsModule],
      env: {
        MRW_EVALUATOR_THREADS: '1',
        MRW_SMTP_URL: `smtp://mrw:relay-pass@127.0.0.1:${smtp.port}`,
        MRW_MAIL_FROM: 'registry@example.com',
        MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        MRW_PUBLIC_URL: PUBLIC_URL,
      },
    });
    carol = await suite.token('carol', ['contributor']);
    rita = await suite.token('rita', ['reviewer']);
    await suite.token('ray', ['reviewer']); // a reviewer without an email address: told on Slack only
  });

  afterAll(async () => {
    await suite?.close();
    await smtp?.close();
    await slack?.close();
    await teams?.close();
  });

  const upload = async (path: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${suite.adminToken}` }, body: form });
    return (await response.json()) as any;
  };
  const fixture = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);
  const local = (url: string) => url.replace(PUBLIC_URL, '');

  it('notifies with the evidence and links; GET on the link changes nothing, POST approves; the audit shows who, when, how, on what', async () => {
    const set = await upload('/api/v1/evaluation-sets/bc/versions', {
      file: fixture('breast-cancer-holdout.csv'),
      manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
    });
    await suite.http('POST', '/api/v1/models', { token: carol, body: { name: 'cancer' } });
    const policy = await suite.http('PUT', '/api/v1/models/cancer/policy', {
      body: {
        evaluation: { set: 'bc', thresholds: { accuracy: { threshold: 0.9 } } },
        approval: {
          Production: {
            required: 1,
            reviewers: ['role:reviewer'],
            expiresIn: 'P3D',
            notify: [
              { kind: 'email' },
              { kind: 'slack', webhookUrl: `${slack.base}/services/T0/B0/secret-part` },
              { kind: 'teams', webhookUrl: `${teams.base}/workflows/secret-part` },
            ],
          },
        },
      },
    });
    expect(policy.status).toBe(200);
    expect((await suite.http('PUT', '/api/v1/people/rita', { body: { email: 'rita@example.com', slackUserId: 'U0RITA' } })).status).toBeLessThan(300);

    const artifact = await upload('/api/v1/artifacts', { file: fixture('breast-cancer-logreg.onnx') });
    await suite.http('POST', '/api/v1/models/cancer/versions', { token: carol, body: { source: artifact.uri } });
    await suite.http('POST', '/api/v1/models/cancer/versions/1/transitions', { token: carol, body: { toStage: 'Staging' } });
    const evaluation = await eventually(
      async () => {
        const state = await suite.http('GET', '/api/v1/models/cancer/versions/1');
        return state.body.evaluations?.[0]?.status === 'completed' ? state.body.evaluations[0] : undefined;
      },
      { timeoutMs: 60_000, what: 'the evaluation' },
    );
    const requested = await suite.http('POST', '/api/v1/models/cancer/versions/1/transitions', {
      token: carol,
      body: { toStage: 'Production', comment: 'first model for churn' },
    });
    expect(requested.body.request.status).toBe('awaiting-approval');
    const approvalId = requested.body.request.approvalId as string;

    // The email: to rita only (carol asked; ray has no address), with the evidence and her links.
    const [mail] = await smtp.waitFor(1);
    expect(mail!.envelope.to).toEqual(['rita@example.com']);
    const text = mail!.mail.text ?? '';
    expect(mail!.mail.subject).toContain('cancer');
    expect(text).toContain('first model for churn');
    expect(text).toContain(set.digest);
    expect(text).toContain(String(evaluation.metrics.accuracy).slice(0, 4));
    const approveLink = /https:\/\/mrw\.example\.com\/api\/v1\/approval-links\/[^\s)>\]]+\/approve\?token=[A-Za-z0-9_.-]+/.exec(text)?.[0];
    expect(approveLink).toBeDefined();

    // Slack: one message to the room, with the digest and Approve/Reject buttons.
    const [post] = await slack.waitFor(1);
    expect(post!.url).toBe('/services/T0/B0/secret-part');
    const message = JSON.parse(post!.body) as { blocks: Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }> };
    expect(post!.body).toContain(set.digest);
    const buttons = message.blocks.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ['approve', approvalId],
      ['reject', approvalId],
    ]);

    // The inbox shows the evidence's metrics (no champion serves yet, so no comparison).
    const inbox = await suite.http('GET', '/api/v1/approvals?reviewer=me', { token: rita });
    expect(inbox.body.items).toEqual([expect.objectContaining({ id: approvalId, comment: 'first model for churn' })]);
    expect(inbox.body.items[0].keyMetrics).toEqual(expect.arrayContaining([{ metric: 'accuracy', candidate: evaluation.metrics.accuracy }]));

    // Each delivery's outcome shows on the request: delivered to rita and the Slack room, the refusing Teams workflow failed.
    const told = await eventually(
      async () => {
        const approval = await suite.http('GET', `/api/v1/approvals/${approvalId}`);
        return approval.body.notifications?.length === 3 ? approval.body.notifications : undefined;
      },
      { what: 'three delivery outcomes on the request' },
    );
    expect(told).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ notice: 'approval-requested', channel: 'email', recipient: 'rita', outcome: 'delivered' }),
        expect.objectContaining({ channel: 'slack', target: expect.stringContaining('127.0.0.1'), recipient: null, outcome: 'delivered' }),
        expect.objectContaining({ channel: 'teams', outcome: 'failed', attempts: 1, reason: expect.any(String) }),
      ]),
    );
    expect(JSON.stringify(told)).not.toContain('secret-part');
    expect(JSON.stringify(told)).not.toContain('rita@example.com');

    // GET shows what would be decided and decides nothing (a mail scanner may follow it).
    const store = suite.app.get<EventStore>(EVENT_STORE);
    const before = await store.headPosition();
    const page = await suite.http('GET', local(approveLink!), { token: null, headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('cancer');
    expect(await store.headPosition()).toBe(before);

    // POST (the page's form) decides, as rita, through the link.
    const token = new URL(approveLink!).searchParams.get('token') as string;
    const decided = await suite.http('POST', local(approveLink!), {
      token: null,
      rawBody: new URLSearchParams({ token, comment: 'numbers hold' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    });
    expect(decided.status).toBeLessThan(300);
    const version = await eventually(
      async () => {
        const state = await suite.http('GET', '/api/v1/models/cancer/versions/1');
        return state.body.stage === 'Production' ? state.body : undefined;
      },
      { what: 'the version in Production' },
    );
    expect(version.deployments).toHaveLength(1);

    const audit = await suite.http('GET', '/api/v1/models/cancer/versions/1/audit');
    const opened = audit.body.events.find((e: { type: string }) => e.type === 'ApprovalRequested');
    const granted = audit.body.events.find((e: { type: string }) => e.type === 'ApprovalGranted');
    expect(opened.data.evidence).toEqual({ evaluationId: evaluation.id, datasetDigest: set.digest, championVersion: null });
    expect(granted).toMatchObject({
      actor: { kind: 'user', id: 'rita' },
      occurredAt: expect.any(String),
      data: { approvalId, channel: 'link', relayedBy: { kind: 'service', id: 'approvals' }, comment: 'numbers hold' },
    });
    // The Slack webhook URL is a secret: never readable back.
    expect(JSON.stringify((await suite.http('GET', '/api/v1/models/cancer')).body)).not.toContain('secret-part');
  });

  /** What the deployer will report once it exists (issue 10): started, then succeeded. */
  const deployed = async (model: string, version: number) => {
    const state = await suite.http('GET', `/api/v1/models/${model}/versions/${version}`);
    const deployment = state.body.deployments.at(-1) as { id: string };
    const commands = suite.app.get(RegistryCommands);
    const send = (type: string, data: Record<string, unknown>) =>
      commands.send('deployer', { commandId: randomUUID(), type, model, version, data: { deploymentId: deployment.id, ...data }, correlationId: randomUUID(), causationId: null });
    await send('RecordDeploymentStarted', { environment: 'production', target: 'local' });
    await send('RecordDeploymentSucceeded', { endpoint: null });
  };

  it('takes a rollback request through the same inbox and channels, and its approval redeploys the last good version', async () => {
    await suite.http('POST', '/api/v1/models', { token: carol, body: { name: 'rolled' } });
    await suite.http('PUT', '/api/v1/models/rolled/policy', {
      body: {
        approval: {
          Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' },
          Rollback: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'PT4H', notify: [{ kind: 'email' }] },
        },
      },
    });
    for (const version of [1, 2]) {
      await suite.http('POST', '/api/v1/models/rolled/versions', { token: carol, body: { source: `https://models.example.com/rolled-${version}.onnx` } });
      await suite.http('POST', `/api/v1/models/rolled/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
      await suite.http('POST', `/api/v1/models/rolled/versions/${version}/transitions`, { token: carol, body: { toStage: 'Production' } });
      await deployed('rolled', version);
    }
    expect((await suite.http('GET', '/api/v1/models/rolled')).body.servingVersion).toBe(2);

    // v2 misbehaves: one click rolls back to the last version that served before it.
    const rollback = await suite.http('POST', '/api/v1/models/rolled/rollback', { token: carol, body: { reason: 'v2 doubles latency' } });
    expect(rollback.status).toBe(202);
    expect(rollback.body.rollback).toMatchObject({ fromVersion: 2, toVersion: 1, status: 'awaiting-approval', emergency: false });

    const inbox = await suite.http('GET', '/api/v1/approvals?reviewer=me&model=rolled', { token: rita });
    expect(inbox.body.items).toEqual([
      expect.objectContaining({ model: 'rolled', version: 1, purpose: 'rollback', targetStage: 'Production', comment: 'v2 doubles latency', required: 1 }),
    ]);
    const mails = smtp.received.length;
    const all = await smtp.waitFor(mails + 1);
    const mail = all[all.length - 1];
    expect(mail!.envelope.to).toEqual(['rita@example.com']);
    expect(mail!.mail.text).toContain('v2 doubles latency');

    const approved = await suite.http('POST', `/api/v1/approvals/${inbox.body.items[0].id}/approve`, { token: rita, body: { comment: 'roll it back' } });
    expect(approved.body.status).toBe('approved');
    const v1 = await suite.http('GET', '/api/v1/models/rolled/versions/1');
    expect(v1.body.deployments.at(-1)).toMatchObject({ purpose: 'rollback', status: 'requested' });
  });
});
