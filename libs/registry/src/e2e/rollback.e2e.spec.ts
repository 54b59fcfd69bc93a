import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** One-click rollback over the API: the default target, what is refused, and an emergency. */
describe('rollback', () => {
  let registry: RegistryHarness;
  let carol: string;
  let dora: string;

  beforeAll(async () => {
    registry = await startRegistry();
    carol = await registry.token('carol', ['contributor']);
    dora = await registry.token('dora', ['contributor', 'deployer']);
    await registry.http('POST', '/api/v1/models', { token: carol, body: { name: 'svc' } });
    await registry.http('PUT', '/api/v1/models/svc/policy', {
      body: { approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } }, rollback: { allowEmergency: true } },
    });
  });

  afterAll(async () => {
    await registry.close();
  });

  /** Registers a version, takes it to Production (no approval needed here) and reports its deployment as the deployer would. */
  const serve = async (version: number) => {
    await registry.http('POST', '/api/v1/models/svc/versions', { token: carol, body: { source: `https://models.example.com/svc-${version}.onnx` } });
    await registry.http('POST', `/api/v1/models/svc/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
    await registry.http('POST', `/api/v1/models/svc/versions/${version}/transitions`, { token: carol, body: { toStage: 'Production' } });
    await deployed(version);
  };
  const deployed = (version: number) => registry.deployed('svc', version);

  it('has nothing to roll back to before a second version served: 409 NO_ROLLBACK_TARGET', async () => {
    await serve(1);
    const refused = await registry.http('POST', '/api/v1/models/svc/rollback', { token: carol, body: { reason: 'nothing else yet' } });
    expect(refused.body).toMatchObject({ status: 409, code: 'NO_ROLLBACK_TARGET' });
  });

  it('refuses a target that never served, and an emergency without the deployer role', async () => {
    await serve(2);
    await registry.http('POST', '/api/v1/models/svc/versions', { token: carol, body: { source: 'https://models.example.com/svc-3.onnx' } });
    expect((await registry.http('POST', '/api/v1/models/svc/rollback', { token: carol, body: { reason: 'x', toVersion: 3 } })).body).toMatchObject({
      code: 'ROLLBACK_TARGET_NEVER_SERVED',
    });
    expect((await registry.http('POST', '/api/v1/models/svc/rollback', { token: carol, body: { reason: 'now', emergency: true } })).body).toMatchObject({
      status: 403,
      code: 'EMERGENCY_NOT_ALLOWED',
    });
    expect((await registry.http('POST', '/api/v1/models/svc/rollback', { token: carol, body: {} })).status).toBe(400);
  });

  it('rolls back to the version that served before, by default; an emergency by a deployer deploys at once for an after-the-fact review', async () => {
    const emergency = await registry.http('POST', '/api/v1/models/svc/rollback', { token: dora, body: { reason: 'v2 is on fire', emergency: true } });
    expect(emergency.status).toBe(202);
    expect(emergency.body.rollback).toMatchObject({ fromVersion: 2, toVersion: 1, emergency: true, status: 'deploying', deploymentId: expect.any(String) });
    const review = await registry.http('GET', '/api/v1/approvals?model=svc&status=pending');
    expect(review.body.items).toEqual([expect.objectContaining({ version: 1, purpose: 'rollback', afterTheFact: true })]);
    await deployed(1);
    expect((await registry.http('GET', '/api/v1/models/svc')).body.servingVersion).toBe(1);
    const audit = await registry.http('GET', '/api/v1/models/svc/versions/1/audit');
    expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['RollbackRequested', 'DeploymentRequested', 'DeploymentSucceeded']));
  });
});
