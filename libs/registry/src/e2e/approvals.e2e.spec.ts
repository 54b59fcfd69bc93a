import { SkippingClock, startRegistry, type RegistryHarness } from '../testing/registry-harness';


const DAY = 24 * 3600 * 1000;

/** The human gate over the API: the inbox, decisions with their codes, quorum, rejection, expiry. */
describe('approvals: the inbox and decisions over the API', () => {
  let registry: RegistryHarness;
  const clock = new SkippingClock();
  let carol: string; // contributor who requests promotions (and is a reviewer too)
  let dan: string; // contributor who registers versions (and is a reviewer too)
  let rita: string;
  let rolf: string;
  let viewer: string;

  beforeAll(async () => {
    registry = await startRegistry({ clock });
    carol = await registry.token('carol', ['contributor', 'reviewer']);
    dan = await registry.token('dan', ['contributor', 'reviewer']);
    rita = await registry.token('rita', ['reviewer']);
    rolf = await registry.token('rolf', ['reviewer']);
    viewer = await registry.token('vic', ['viewer']);
  });

  afterAll(async () => {
    await registry.close();
  });

  /** A model without an evaluation policy (gates pass without one), a version by dan in Staging, Production requested by carol. */
  const awaitingApproval = async (model: string, policy: Record<string, unknown> = {}): Promise<{ id: string; version: number }> => {
    await registry.http('POST', '/api/v1/models', { token: carol, body: { name: model } });
    if (Object.keys(policy).length > 0) expect((await registry.http('PUT', `/api/v1/models/${model}/policy`, { body: policy })).status).toBe(200);
    const v = await registry.http('POST', `/api/v1/models/${model}/versions`, { token: dan, body: { source: `https://models.example.com/${model}.onnx` } });
    const version = v.body.version as number;
    await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
    const requested = await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, {
      token: carol,
      body: { toStage: 'Production', comment: 'beats v0 on every slice' },
    });
    expect(requested.body.request).toMatchObject({ status: 'awaiting-approval' });
    return { id: requested.body.request.approvalId as string, version };
  };

  it('lists a pending request with its requester, comment, expiry, evidence and links; reviewer=me shows who may decide', async () => {
    const { id, version } = await awaitingApproval('inbox');
    const inbox = await registry.http('GET', '/api/v1/approvals?status=pending&model=inbox', { token: viewer });
    expect(inbox.status).toBe(200);
    expect(inbox.body.items).toEqual([
      expect.objectContaining({
        id,
        model: 'inbox',
        version,
        purpose: 'promotion',
        targetStage: 'Production',
        status: 'pending',
        requestedBy: { kind: 'user', id: 'carol' },
        comment: 'beats v0 on every slice',
        required: 1,
        collected: 0,
        reviewers: ['role:reviewer'],
        evidence: expect.objectContaining({ evaluationId: null }),
        links: expect.objectContaining({ approve: expect.stringMatching(new RegExp(`/api/v1/approvals/${id}/approve$`)) }),
      }),
    ]);
    const mine = async (token: string) =>
      (await registry.http('GET', '/api/v1/approvals?reviewer=me&model=inbox', { token })).body.items.map((a: { id: string }) => a.id);
    expect(await mine(rita)).toEqual([id]);
    expect(await mine(carol)).toEqual([]); // she asked for it
    expect(await mine(viewer)).toEqual([]);
  });

  it('refuses the requester, the registrant and non-reviewers with their codes, and appends nothing', async () => {
    const { id } = await awaitingApproval('duties');
    const decide = (token: string) => registry.http('POST', `/api/v1/approvals/${id}/approve`, { token, body: { comment: 'lgtm' } });
    expect((await decide(carol)).body).toMatchObject({ status: 403, code: 'APPROVER_IS_REQUESTER' });
    expect((await decide(dan)).body).toMatchObject({ status: 403, code: 'APPROVER_IS_REGISTRANT' });
    expect((await decide(viewer)).body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await registry.http('GET', `/api/v1/approvals/${id}`)).body).toMatchObject({ status: 'pending', collected: 0 });
  });

  it('approves with quorum: the version moves to Production and a deployment is requested; the audit names the reviewer and channel', async () => {
    const { id, version } = await awaitingApproval('quorum');
    const approved = await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rita, body: { comment: 'recall holds' } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', collected: 1, decisions: [{ by: { kind: 'user', id: 'rita' }, comment: 'recall holds', channel: 'api' }] });
    const state = await registry.http('GET', `/api/v1/models/quorum/versions/${version}`);
    expect(state.body.stage).toBe('Production');
    expect(state.body.deployments).toHaveLength(1);
    const audit = await registry.http('GET', `/api/v1/models/quorum/versions/${version}/audit`);
    const granted = audit.body.events.find((e: { type: string }) => e.type === 'ApprovalGranted');
    expect(granted).toMatchObject({ actor: { kind: 'user', id: 'rita' }, data: { approvalId: id, channel: 'api', comment: 'recall holds' } });
  });

  it('counts each person once (409 ALREADY_APPROVED) and waits for the quorum of distinct reviewers', async () => {
    const { id, version } = await awaitingApproval('two', { approval: { Production: { required: 2, reviewers: ['role:reviewer'], expiresIn: 'P3D' } } });
    expect((await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rita })).body).toMatchObject({ status: 'pending', collected: 1 });
    expect((await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rita })).body).toMatchObject({ status: 409, code: 'ALREADY_APPROVED' });
    expect((await registry.http('GET', `/api/v1/models/two/versions/${version}`)).body.stage).toBe('Staging');
    expect((await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rolf })).body).toMatchObject({ status: 'approved', collected: 2 });
    expect((await registry.http('GET', `/api/v1/models/two/versions/${version}`)).body.stage).toBe('Production');
  });

  it('closes the request on any rejection; the version stays in Staging and may be requested again', async () => {
    const { id, version } = await awaitingApproval('rejected');
    const rejected = await registry.http('POST', `/api/v1/approvals/${id}/reject`, { token: rolf, body: { comment: 'latency doubled' } });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejection: { by: { kind: 'user', id: 'rolf' }, comment: 'latency doubled', channel: 'api' } });
    expect((await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rita })).status).toBe(409);
    expect((await registry.http('GET', `/api/v1/models/rejected/versions/${version}`)).body.stage).toBe('Staging');
    const again = await registry.http('POST', `/api/v1/models/rejected/versions/${version}/transitions`, { token: carol, body: { toStage: 'Production' } });
    expect(again.body.request.status).toBe('awaiting-approval');
  });

  it('lets an approval past its expiry block nothing: shown expired, refused to reviewers, and a new request goes through', async () => {
    const { id, version } = await awaitingApproval('lapsed');
    clock.skip(8 * DAY); // the default rule expires after P7D
    expect((await registry.http('GET', `/api/v1/approvals/${id}`)).body.status).toBe('expired');
    expect((await registry.http('GET', '/api/v1/approvals?status=expired&model=lapsed')).body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await registry.http('POST', `/api/v1/approvals/${id}/approve`, { token: rita })).body).toMatchObject({ status: 409, code: 'APPROVAL_EXPIRED' });
    const back = await registry.http('POST', `/api/v1/models/lapsed/versions/${version}/transitions`, { token: carol, body: { toStage: 'None' } });
    expect(back.status).toBe(202);
    expect(back.body.stage).toBe('None');
    const audit = await registry.http('GET', `/api/v1/models/lapsed/versions/${version}/audit`);
    expect(audit.body.events.filter((e: { type: string }) => e.type === 'ApprovalExpired')).toHaveLength(1);
  });

  it('answers an unknown request with 404 and a malformed id with 404, never 5xx', async () => {
    expect((await registry.http('GET', '/api/v1/approvals/7d1c6f0e-0c55-4b6b-9d8e-000000000000')).body).toMatchObject({ status: 404, code: 'APPROVAL_NOT_FOUND' });
    expect((await registry.http('POST', '/api/v1/approvals/not-a-uuid/approve', { token: rita })).status).toBe(404);
  });
});
