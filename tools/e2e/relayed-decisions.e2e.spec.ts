import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ApprovalBook, ApprovalsModule, DecisionLinks, type DecisionLinkPair } from '@mrw/approvals';
import { decisionLinkStream, personStream, PUBLISHED_STREAM_PREFIXES } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { eventually } from '@mrw/messaging/testing';
import { SkippingClock, startRegistry, type HttpResult, type RegistryHarness } from '@mrw/registry/testing';


const SLACK_SECRET = 'e2e-slack-signing-secret-8f742231b10e';
/** Where people reach the suite (MRW_PUBLIC_URL): links are made on it; the test sends them to the harness. */
const PUBLIC_URL = 'https://registry.example.com';
const HOUR = 3_600_000;

/** What Slack sends as X-Slack-Signature (its documented scheme, written out here independently of the code under test). */
const slackSignature = (secret: string, timestamp: string, body: string): string =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

interface AuditEvent {
  readonly type: string;
  readonly actor: { kind: string; id: string };
  readonly data: Record<string, unknown>;
}

/**
 * Embedded mode, the registry with the approvals service: people decide through one-click
 * links and Slack buttons; the approvals service relays their decisions and the registry
 * records them as theirs, through their channel, relayed by the service.
 */
describe('decisions relayed from links and Slack', () => {
  const clock = new SkippingClock();
  let suite: RegistryHarness;
  let store: EventStore;
  let carol: string; // contributor who requests promotions, also a reviewer
  let dan: string; // contributor who registers versions
  let rita: string;
  let viewer: string;

  beforeAll(async () => {
    suite = await startRegistry({ clock, modules: [ApprovalsModule], env: { MRW_SLACK_SIGNING_SECRET: SLACK_SECRET, MRW_PUBLIC_URL: PUBLIC_URL } });
    store = suite.app.get<EventStore>(EVENT_STORE);
    carol = await suite.token('carol', ['contributor', 'reviewer']);
    dan = await suite.token('dan', ['contributor']);
    rita = await suite.token('rita', ['reviewer']);
    await suite.token('rolf', ['reviewer']);
    viewer = await suite.token('vic', ['viewer']);
  });

  afterAll(async () => {
    const dataDir = suite.dataDir;
    await suite.close();
    // After the restart the harness was given the directory, so it is ours to remove.
    await rm(dataDir, { recursive: true, force: true });
  });

  const book = (): ApprovalBook => suite.app.get(ApprovalBook, { strict: false });
  const links = (approvalId: string, subject: string, expiresAt: Date | string): DecisionLinkPair =>
    suite.app.get(DecisionLinks, { strict: false }).createDecisionLinks(approvalId, subject, expiresAt);
  const audit = async (model: string): Promise<AuditEvent[]> => (await suite.http('GET', `/api/v1/models/${model}/versions/1/audit`)).body.events as AuditEvent[];
  const decisions = async (model: string): Promise<AuditEvent[]> => (await audit(model)).filter((e) => ['ApprovalGranted', 'ApprovalRejected'].includes(e.type));
  const stageOf = async (model: string): Promise<string> => (await suite.http('GET', `/api/v1/models/${model}/versions/1`)).body.stage as string;

  /** A model without an evaluation policy (the gates pass), version 1 by dan in Staging, Production requested by carol; known to the approvals service. */
  const awaitingApproval = async (model: string, comment = 'beats the champion on every slice'): Promise<{ id: string; expiresAt: string }> => {
    expect((await suite.http('POST', '/api/v1/models', { token: carol, body: { name: model } })).status).toBe(201);
    expect((await suite.http('POST', `/api/v1/models/${model}/versions`, { token: dan, body: { source: `https://models.example.com/${model}.onnx` } })).status).toBe(201);
    await suite.http('POST', `/api/v1/models/${model}/versions/1/transitions`, { token: carol, body: { toStage: 'Staging' } });
    const requested = await suite.http('POST', `/api/v1/models/${model}/versions/1/transitions`, {
      token: carol,
      body: { toStage: 'Production', comment },
    });
    expect(requested.body.request).toMatchObject({ status: 'awaiting-approval', approvalId: expect.any(String) });
    const id = requested.body.request.approvalId as string;
    const known = await eventually(async () => book().get(id), { what: `approval ${id} in the approvals service's book` });
    return { id, expiresAt: known.expiresAt };
  };

  const pathOf = (url: string): string => (url.startsWith(PUBLIC_URL) ? url.slice(PUBLIC_URL.length) : url);
  /** What a browser does: GET with Accept text/html, no token. */
  const open = (url: string, accept = 'text/html,application/xhtml+xml,*/*;q=0.8'): Promise<HttpResult<string>> =>
    suite.http('GET', pathOf(url), { token: null, headers: { accept } });
  /** What the page's form does: POST form-encoded to the same URL. */
  const submit = (url: string, fields: Record<string, string>, accept = '*/*'): Promise<HttpResult> =>
    suite.http('POST', pathOf(url), {
      token: null,
      rawBody: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
    });
  const tokenOf = (url: string): string => new URL(url).searchParams.get('token') as string;

  describe('one-click links', () => {
    it('shows what would be decided on GET and decides nothing; POST decides once, as the reviewer, through channel link', async () => {
      const { id, expiresAt } = await awaitingApproval('linked');
      const pair = links(id, 'rita', expiresAt);
      expect(pair.approve).toMatch(new RegExp(`^${PUBLIC_URL}/api/v1/approval-links/${id}/approve\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
      expect(pair.reject).toMatch(new RegExp(`^${PUBLIC_URL}/api/v1/approval-links/${id}/reject\\?token=`));
      expect(pair.expiresAt).toBe(new Date(Math.floor(Date.parse(expiresAt) / 1000) * 1000).toISOString());

      const before = await store.headPosition();
      const page = await open(pair.approve);
      const again = await open(pair.approve); // a mail scanner, a link preview
      expect(page.status).toBe(200);
      expect(again.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(page.body).toContain('Approve linked version 1?');
      expect(page.body).toContain('deciding as <strong>rita</strong>');
      expect(page.body).toContain('by carol');
      expect(page.body).toContain('beats the champion on every slice');
      expect(page.body).toMatch(/<form method="post"><input type="hidden" name="token" value="[^"]+">/);
      expect(await store.headPosition()).toBe(before);
      expect(await stageOf('linked')).toBe('Staging');

      const decided = await submit(pair.approve, { token: tokenOf(pair.approve), comment: 'recall holds <b>everywhere</b>' });
      expect(decided.status).toBe(200);
      expect(decided.headers.get('content-type')).toMatch(/^text\/html/);
      expect(decided.body).toContain('Approved');
      expect(decided.body).toContain('The quorum is reached (1 of 1)');
      expect(await stageOf('linked')).toBe('Production');
      expect(await decisions('linked')).toEqual([
        expect.objectContaining({
          type: 'ApprovalGranted',
          actor: { kind: 'user', id: 'rita' },
          data: expect.objectContaining({ approvalId: id, channel: 'link', relayedBy: { kind: 'service', id: 'approvals' }, comment: 'recall holds <b>everywhere</b>' }),
        }),
      ]);

      // Used: the same link, and its reject twin, decide nothing more.
      const reused = await submit(pair.approve, { token: tokenOf(pair.approve) });
      expect([reused.status, reused.body.code]).toEqual([409, 'LINK_ALREADY_USED']);
      const twin = await submit(pair.reject, { token: tokenOf(pair.reject) }, 'text/html');
      expect(twin.status).toBe(409);
      expect(twin.headers.get('content-type')).toMatch(/^text\/html/);
      expect(twin.body).toContain('This link was already used at');
      expect(await decisions('linked')).toHaveLength(1);
    });

    it('lets exactly one of two simultaneous posts of a link decide', async () => {
      const { id, expiresAt } = await awaitingApproval('raced');
      const pair = links(id, 'rita', expiresAt);
      const answers = await Promise.all([submit(pair.approve, { token: tokenOf(pair.approve) }), submit(pair.approve, { token: tokenOf(pair.approve) })]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 409)?.body.code).toBe('LINK_ALREADY_USED');
      expect(await decisions('raced')).toHaveLength(1);
    });

    it("escapes what it shows: the requester's comment cannot inject markup", async () => {
      const { id, expiresAt } = await awaitingApproval('escaped', '<script>alert("x")</script> & "quotes"');
      const page = await open(links(id, 'rita', expiresAt).reject);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Reject escaped version 1?');
      expect(page.body).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#34;quotes&#34;');
      expect(page.body).not.toMatch(/<script/i);
    });

    it('refuses a tampered link, a link moved to another decision or approval, and a malformed one; nothing is appended', async () => {
      const { id, expiresAt } = await awaitingApproval('tampered');
      const other = await awaitingApproval('tampered-other');
      const pair = links(id, 'rita', expiresAt);
      const token = tokenOf(pair.approve);
      const [payload, signature] = token.split('.') as [string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'carol' })).toString('base64url');
      const before = await store.headPosition();
      for (const [path, value] of [
        [`/api/v1/approval-links/${id}/approve`, `${forgedPayload}.${signature}`],
        [`/api/v1/approval-links/${id}/reject`, token],
        [`/api/v1/approval-links/${other.id}/approve`, token],
        [`/api/v1/approval-links/${id}/approve`, `${payload}.${signature.slice(0, -2)}`],
      ] as const) {
        const posted = await submit(path, { token: value });
        expect([posted.status, posted.body.code]).toEqual([403, 'LINK_INVALID']);
        const shown = await open(`${path}?token=${value}`);
        expect(shown.status).toBe(403);
        expect(shown.body).toContain('This link is not valid');
      }
      const malformed = await submit(pair.approve, { token: 'not a token' });
      expect([malformed.status, malformed.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      const notADecision = await open(`/api/v1/approval-links/${id}/maybe?token=${token}`, '*/*');
      expect(notADecision.status).toBe(404);
      expect(await store.headPosition()).toBe(before);
      expect((await suite.http('GET', `/api/v1/approvals/${id}`)).body).toMatchObject({ status: 'pending', collected: 0 });
    });

    it("refuses the requester's link with the registry's APPROVER_IS_REQUESTER, and says so on the page", async () => {
      const { id, expiresAt } = await awaitingApproval('requester');
      const refused = await submit(links(id, 'carol', expiresAt).approve, { token: tokenOf(links(id, 'carol', expiresAt).approve) });
      expect([refused.status, refused.body.code]).toEqual([403, 'APPROVER_IS_REQUESTER']);
      expect(refused.body.detail).toMatch(/did not record your decision: the person who requested the promotion cannot approve it/);
      const second = links(id, 'carol', expiresAt);
      const page = await submit(second.approve, { token: tokenOf(second.approve) }, 'text/html');
      expect(page.status).toBe(403);
      expect(page.body).toContain('the person who requested the promotion cannot approve it');
      expect(page.body).toContain('APPROVER_IS_REQUESTER');
      expect(await decisions('requester')).toEqual([]);
      expect((await suite.http('GET', `/api/v1/approvals/${id}`)).body.status).toBe('pending');
    });

    it('rejects through a reject link; a link whose approval is closed (voided) decides nothing', async () => {
      const { id, expiresAt } = await awaitingApproval('rejected-by-link');
      const rolfs = links(id, 'rolf', expiresAt);
      const ritas = links(id, 'rita', expiresAt);
      const rejected = await submit(rolfs.reject, { token: tokenOf(rolfs.reject), comment: 'latency doubled' });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toContain('Rejected');
      expect(await decisions('rejected-by-link')).toEqual([
        expect.objectContaining({ type: 'ApprovalRejected', actor: { kind: 'user', id: 'rolf' }, data: expect.objectContaining({ channel: 'link', comment: 'latency doubled' }) }),
      ]);
      await eventually(async () => book().get(id)?.status === 'rejected', { what: 'the rejection in the book' });
      const voided = await open(ritas.approve);
      expect(voided.status).toBe(409);
      expect(voided.body).toContain('no longer open (rejected)');
      const posted = await submit(ritas.approve, { token: tokenOf(ritas.approve) });
      expect([posted.status, posted.body.code]).toEqual([409, 'APPROVAL_CLOSED']);
      expect(await decisions('rejected-by-link')).toHaveLength(1);
    });

    it('refuses form bodies everywhere but on the routes that declare them', async () => {
      const refused = await suite.http('POST', '/api/v1/models', { rawBody: 'name=formed', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([refused.status, refused.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    });
  });

  describe('Slack buttons', () => {
    const SLACK_RITA = 'U0RITA0001';

    beforeAll(async () => {
      expect((await suite.http('PUT', '/api/v1/people/rita', { body: { email: 'rita@example.com', slackUserId: SLACK_RITA } })).status).toBe(201);
    });

    const click = (approvalId: string, user: string, action: 'approve' | 'reject', trigger: string) =>
      `payload=${encodeURIComponent(
        JSON.stringify({
          type: 'block_actions',
          user: { id: user, username: 'someone' },
          trigger_id: trigger,
          response_url: 'https://hooks.slack.com/actions/T0/1/x',
          actions: [{ type: 'button', action_id: action, value: approvalId, action_ts: '1764480000.000100' }],
        }),
      )}`;
    const post = (body: string, options: { secret?: string; at?: Date } = {}) => {
      const timestamp = String(Math.floor((options.at ?? clock.now()).getTime() / 1000));
      return suite.http('POST', '/api/v1/integrations/slack/interactivity', {
        token: null,
        rawBody: body,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': slackSignature(options.secret ?? SLACK_SECRET, timestamp, body),
        },
      });
    };

    it('decides once for a signed click, as the person the Slack user is, through channel slack; a redelivery decides nothing new', async () => {
      const { id } = await awaitingApproval('slacked');
      const body = click(id, SLACK_RITA, 'approve', '1764480000.111.aaa');
      const first = await post(body);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ response_type: 'in_channel', replace_original: true, text: 'rita approved slacked version 1 (1 of 1): the quorum is reached.' });
      expect(await stageOf('slacked')).toBe('Production');
      const repeat = await post(body);
      expect(repeat.status).toBe(200);
      expect(repeat.body.text).toBe('rita approved slacked version 1 (1 of 1): the quorum is reached.');
      expect(await decisions('slacked')).toEqual([
        expect.objectContaining({
          type: 'ApprovalGranted',
          actor: { kind: 'user', id: 'rita' },
          data: expect.objectContaining({ channel: 'slack', relayedBy: { kind: 'service', id: 'approvals' } }),
        }),
      ]);
    });

    it('refuses a forged signature and an old timestamp with 401, and an unknown Slack user decides nothing', async () => {
      const { id } = await awaitingApproval('slack-refused');
      const body = click(id, SLACK_RITA, 'approve', '1764480000.222.bbb');
      const before = await store.headPosition();
      const forged = await post(body, { secret: 'not-the-signing-secret-at-all' });
      expect([forged.status, forged.body.code]).toEqual([401, 'SLACK_SIGNATURE_INVALID']);
      const old = await post(body, { at: new Date(clock.now().getTime() - 6 * 60_000) });
      expect([old.status, old.body.code]).toEqual([401, 'SLACK_TIMESTAMP_INVALID']);
      const stranger = await post(click(id, 'U0STRANGER', 'approve', '1764480000.333.ccc'));
      expect(stranger.status).toBe(200);
      expect(stranger.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/not linked to a registry identity.*Ask a registry admin/) });
      expect(await store.headPosition()).toBe(before);
      expect(await decisions('slack-refused')).toEqual([]);
    });

    it("tells the clicker the registry's refusal: the requester's click is APPROVER_IS_REQUESTER", async () => {
      expect((await suite.http('PUT', '/api/v1/people/carol', { body: { slackUserId: 'U0CAROL001' } })).status).toBe(201);
      const { id } = await awaitingApproval('slack-requester');
      const refused = await post(click(id, 'U0CAROL001', 'approve', '1764480000.666.fff'));
      expect(refused.status).toBe(200);
      expect(refused.body).toEqual({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Not recorded: the person who requested the promotion cannot approve it (APPROVER_IS_REQUESTER)',
      });
      expect(await decisions('slack-requester')).toEqual([]);
    });

    it('lets a click on a request that has closed decide nothing', async () => {
      const { id } = await awaitingApproval('slack-twice');
      expect((await post(click(id, SLACK_RITA, 'reject', '1764480000.444.ddd'))).body.text).toBe('rita rejected slack-twice version 1; the request is closed.');
      await eventually(async () => book().get(id)?.status === 'rejected', { what: 'the rejection in the book' });
      const late = await post(click(id, SLACK_RITA, 'approve', '1764480000.555.eee'));
      expect(late.body).toEqual({ response_type: 'ephemeral', replace_original: false, text: 'This request is no longer open (rejected); nothing was decided.' });
      expect(await decisions('slack-twice')).toHaveLength(1);
    });
  });

  describe('the people directory', () => {
    it('is managed by admins only, with validated contact details, and keeps chat identities unique', async () => {
      expect((await suite.http('PUT', '/api/v1/people/pat', { token: rita, body: { email: 'pat@example.com' } })).body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect((await suite.http('GET', '/api/v1/people/rita', { token: viewer })).body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect((await suite.http('GET', '/api/v1/people', { token: viewer })).status).toBe(403);
      const scopedAdmin = await suite.token('scoped-admin', ['admin'], ['linked']);
      expect((await suite.http('GET', '/api/v1/people', { token: scopedAdmin })).body).toMatchObject({ status: 403, code: 'TOKEN_SCOPE_TOO_NARROW' });

      const invalid = async (subject: string, body: unknown, field: string) => {
        const answer = await suite.http('PUT', `/api/v1/people/${subject}`, { body });
        expect([answer.status, answer.body.code]).toEqual([400, 'VALIDATION_FAILED']);
        expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      };
      await invalid('pat', { email: 'not-an-address' }, 'email');
      await invalid('pat', { slackUserId: 'rita' }, 'slackUserId');
      await invalid('pat', { teamsUserPrincipalName: 'no at sign' }, 'teamsUserPrincipalName');
      await invalid('pat', { email: 'pat@example.com', phone: '123' }, 'phone');
      await invalid('pat', {}, 'body');
      await invalid('pat%20smith', { email: 'pat@example.com' }, 'subject');

      const created = await suite.http('PUT', '/api/v1/people/pat', { body: { email: 'pat@example.com', teamsUserPrincipalName: 'pat@contoso.com' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ subject: 'pat', email: 'pat@example.com', slackUserId: null, teamsUserPrincipalName: 'pat@contoso.com', updatedBy: { kind: 'user', id: 'admin' } });
      const same = await suite.http('PUT', '/api/v1/people/pat', { body: { email: 'pat@example.com', teamsUserPrincipalName: 'pat@contoso.com' } });
      expect(same.status).toBe(200);
      const taken = await suite.http('PUT', '/api/v1/people/pat', { body: { slackUserId: 'U0RITA0001' } });
      expect([taken.status, taken.body.code]).toEqual([409, 'CONTACT_IN_USE']);
      const replaced = await suite.http('PUT', '/api/v1/people/pat', { body: { slackUserId: 'U0PAT00001' } });
      expect(replaced.body).toMatchObject({ email: null, slackUserId: 'U0PAT00001', teamsUserPrincipalName: null });

      expect((await suite.http('GET', '/api/v1/people/pat')).body).toMatchObject({ subject: 'pat', slackUserId: 'U0PAT00001' });
      const everyone = await suite.http('GET', '/api/v1/people');
      expect(everyone.body.items.map((p: { subject: string }) => p.subject)).toEqual(expect.arrayContaining(['pat', 'rita']));

      expect((await suite.http('DELETE', '/api/v1/people/pat')).status).toBe(204);
      expect((await suite.http('GET', '/api/v1/people/pat')).body).toMatchObject({ status: 404, code: 'PERSON_NOT_FOUND' });
      expect((await suite.http('DELETE', '/api/v1/people/pat')).body).toMatchObject({ status: 404, code: 'PERSON_NOT_FOUND' });
    });

    it('keeps contact details and link uses out of the audit trail and off the bus (personal data, operations)', async () => {
      expect(PUBLISHED_STREAM_PREFIXES.filter((prefix) => personStream('quinn').startsWith(prefix) || decisionLinkStream('n0nce').startsWith(prefix))).toEqual([]);
      expect((await suite.http('PUT', '/api/v1/people/quinn', { body: { email: 'quinn.private@example.com' } })).status).toBe(201);
      const people = await suite.http('GET', '/api/v1/audit?type=PersonContactSet');
      expect(people.status).toBe(200);
      expect(people.body.items ?? people.body.events).toEqual([]);
      const everything = await suite.http('GET', '/api/v1/audit?limit=500');
      expect(JSON.stringify(everything.body)).not.toContain('quinn.private@example.com');
      expect(JSON.stringify(everything.body)).not.toContain('DecisionLinkUsed');
    });
  });

  describe('after a restart', () => {
    it('still knows the approvals and the people, and a used link stays used', async () => {
      const { id, expiresAt } = await awaitingApproval('restarted');
      const ritas = links(id, 'rita', expiresAt);
      const rolfs = links(id, 'rolf', expiresAt);
      expect((await submit(rolfs.reject, { token: tokenOf(rolfs.reject) })).status).toBe(200);
      const dataDir = suite.dataDir;
      await suite.close({ keepData: true });
      suite = await startRegistry({ dataDir, clock, modules: [ApprovalsModule], env: { MRW_SLACK_SIGNING_SECRET: SLACK_SECRET, MRW_PUBLIC_URL: PUBLIC_URL } });
      store = suite.app.get<EventStore>(EVENT_STORE);
      const reused = await submit(rolfs.reject, { token: tokenOf(rolfs.reject) });
      expect([reused.status, reused.body.code]).toEqual([409, 'LINK_ALREADY_USED']);
      const closed = await submit(ritas.approve, { token: tokenOf(ritas.approve) });
      expect([closed.status, closed.body.code]).toEqual([409, 'APPROVAL_CLOSED']);
      expect((await suite.http('GET', '/api/v1/people/rita')).body).toMatchObject({ slackUserId: 'U0RITA0001' });
    });
  });

  describe('expiry', () => {
    it('refuses an expired link with 410 and decides nothing, though the approval is still open', async () => {
      const { id } = await awaitingApproval('expired-link');
      const pair = links(id, 'rita', new Date(clock.now().getTime() + HOUR));
      expect((await open(pair.approve)).status).toBe(200);
      clock.skip(2 * HOUR);
      const page = await open(pair.approve);
      expect(page.status).toBe(410);
      expect(page.body).toContain('This link has expired');
      const posted = await submit(pair.approve, { token: tokenOf(pair.approve) });
      expect([posted.status, posted.body.code]).toEqual([410, 'LINK_EXPIRED']);
      expect((await suite.http('GET', `/api/v1/approvals/${id}`)).body.status).toBe('pending');
      expect(await decisions('expired-link')).toEqual([]);
    });
  });
});
