import { createHash } from 'node:crypto';
import { deriveId, tokenCredentialStream } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { TokenDirectory } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * What must never leave the registry (token secrets and their verifiers, credentials in
 * policies) and what a token limited to some models may do, over real HTTP.
 */
describe('secrets and scoped tokens', () => {
  let registry: RegistryHarness;
  let store: EventStore;
  const head = (): Promise<bigint> => store.headPosition();

  beforeAll(async () => {
    registry = await startRegistry();
    store = registry.app.get<EventStore>(EVENT_STORE);
  });

  afterAll(async () => {
    await registry.close();
  });

  describe('token secrets', () => {
    it('keeps every verifier in the private credential stream and shows none of it through any route', async () => {
      const issued = await registry.http('POST', '/api/v1/tokens', { body: { subject: 'carol', roles: ['contributor'] } });
      expect(issued.status).toBe(201);
      const carol = issued.body.token as string;
      const viewer = await registry.token('victor', ['viewer']);
      const service = await registry.http('POST', '/api/v1/tokens', { body: { subject: 'evaluator', kind: 'service', roles: ['service'] } });
      const secrets = [registry.adminToken, carol, viewer, service.body.token as string];
      const directory = registry.app.get(TokenDirectory);

      // The verifier exists, keyed: not the plain sha256 a leaked log could be guessed against.
      const [credential] = await store.readStream(tokenCredentialStream(issued.body.id));
      expect(credential?.data).toEqual({ tokenId: issued.body.id, scheme: 'hmac-sha256', verifier: directory.verifierOf(carol) });
      expect(directory.verifierOf(carol)).not.toBe(sha256(carol));

      const responses = await Promise.all([
        registry.http('GET', '/api/v1/audit?limit=1000', { token: viewer }),
        registry.http('GET', '/api/v1/audit?type=AccessTokenIssued', { token: viewer }),
        registry.http('GET', '/api/v1/audit?type=AccessTokenCredentialStored', { token: viewer }),
        registry.http('GET', '/api/v1/tokens'),
      ]);
      const [all, issuedEvents, credentials] = responses;
      expect(issuedEvents?.body.items.map((e: { data: { subject: string } }) => e.data.subject)).toEqual(
        expect.arrayContaining(['admin', 'carol', 'victor', 'evaluator']),
      );
      expect(issuedEvents?.body.items[0].data).toEqual({ tokenId: expect.any(String), subject: 'admin', kind: 'user', roles: ['admin'], models: [] });
      expect(credentials?.body.items).toEqual([]);
      expect(all?.body.items.some((e: { stream: string }) => e.stream.startsWith('tokenCredential-'))).toBe(false);

      const text = responses.map((r) => JSON.stringify(r.body)).join('\n');
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(directory.verifierOf(secret));
        expect(text).not.toContain(sha256(secret));
      }
      expect(text).not.toMatch(/secretHash|verifier/);
    });

    it('derives the configured admin token id from the keyed verifier, not from the secret alone', async () => {
      const tokens = await registry.http('GET', '/api/v1/tokens');
      const admin = tokens.body.items.find((t: { subject: string }) => t.subject === 'admin');
      expect(admin.id).not.toBe(deriveId(sha256(registry.adminToken), 'configured-token'));
      expect(admin.id).toBe(deriveId(registry.app.get(TokenDirectory).verifierOf(registry.adminToken), 'configured-token'));
    });

    it('answers a replayed issue (same Idempotency-Key) with 409 instead of a secret that does not work', async () => {
      const request = { body: { subject: 'dora', roles: ['viewer'] }, headers: { 'idempotency-key': 'issue-dora-1' } };
      const first = await registry.http('POST', '/api/v1/tokens', request);
      expect(first.status).toBe(201);
      const before = await head();
      const again = await registry.http('POST', '/api/v1/tokens', request);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'TOKEN_ALREADY_ISSUED', tokenId: first.body.id });
      expect(again.body.token).toBeUndefined();
      expect(await head()).toBe(before);
      expect((await registry.http('GET', '/api/v1/models', { token: first.body.token })).status).toBe(200);
    });
  });

  describe('a token limited to some models is limited for every role', () => {
    let churnOnly: string;
    let scopedAdmin: string;

    beforeAll(async () => {
      for (const name of ['churn', 'fraud']) {
        expect((await registry.http('POST', '/api/v1/models', { body: { name } })).status).toBe(201);
        const v = await registry.http('POST', `/api/v1/models/${name}/versions`, { body: { source: `https://models.example.com/${name}.onnx` } });
        expect(v.status).toBe(201);
        await registry.http('POST', `/api/v1/models/${name}/versions/1/transitions`, { body: { toStage: 'Staging' } });
      }
      churnOnly = await registry.token('carla', ['contributor'], ['churn']);
      scopedAdmin = await registry.token('ann', ['admin'], ['churn']);
    });

    it('lets it work on its own model', async () => {
      const v = await registry.http('POST', '/api/v1/models/churn/versions', { token: churnOnly, body: { source: 'https://models.example.com/c2.onnx' } });
      expect(v.status).toBe(201);
      expect((await registry.http('PUT', '/api/v1/models/churn/versions/2/tags/team', { token: churnOnly, body: { value: 'growth' } })).status).toBe(200);
    });

    it.each([
      ['create', 'POST', '/api/v1/models', { name: 'fraud-2' }],
      ['register a version of', 'POST', '/api/v1/models/fraud/versions', { source: 'https://models.example.com/f.onnx' }],
      ['transition', 'POST', '/api/v1/models/fraud/versions/1/transitions', { toStage: 'None' }],
      ['tag', 'PUT', '/api/v1/models/fraud/versions/1/tags/team', { value: 'x' }],
      ['alias', 'PUT', '/api/v1/models/fraud/aliases/champion', { version: 1 }],
      ['read', 'GET', '/api/v1/models/fraud', undefined],
      ['read the versions of', 'GET', '/api/v1/models/fraud/versions/1', undefined],
      ['read the audit of', 'GET', '/api/v1/audit?model=fraud', undefined],
    ])('refuses to %s another model: 403 MODEL_OUT_OF_SCOPE, nothing appended', async (_, method, path, body) => {
      const before = await head();
      const response = await registry.http(method, path, { token: churnOnly, ...(body ? { body } : {}) });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ code: 'MODEL_OUT_OF_SCOPE' });
      expect(await head()).toBe(before);
    });

    it('holds an admin to its scope too: no policy for another model, no token management', async () => {
      const before = await head();
      const policy = await registry.http('PUT', '/api/v1/models/fraud/policy', { token: scopedAdmin, body: {} });
      expect(policy.body).toMatchObject({ status: 403, code: 'MODEL_OUT_OF_SCOPE' });
      const issue = await registry.http('POST', '/api/v1/tokens', { token: scopedAdmin, body: { subject: 'eve', roles: ['admin'] } });
      expect(issue.body).toMatchObject({ status: 403, code: 'TOKEN_SCOPE_TOO_NARROW' });
      expect(await head()).toBe(before);
    });

    it('shows it only its own models in lists, the board and the audit trail', async () => {
      const models = await registry.http('GET', '/api/v1/models', { token: churnOnly });
      expect(models.body.items.map((m: { name: string }) => m.name)).toEqual(['churn']);
      expect(models.body.total).toBe(1);
      const board = await registry.http('GET', '/api/v1/board', { token: churnOnly });
      expect(board.body.Staging.map((v: { model: string }) => v.model)).toEqual(['churn']);
      expect(board.body.models.map((m: { name: string }) => m.name)).toEqual(['churn']);
      const audit = await registry.http('GET', '/api/v1/audit?limit=1000', { token: churnOnly });
      const seen = new Set(audit.body.items.map((e: { model: string | null }) => e.model));
      expect([...seen]).toEqual(['churn']);
      // An unscoped viewer still sees both.
      const all = await registry.http('GET', '/api/v1/models');
      expect(all.body.items.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['churn', 'fraud']));
    });
  });

  describe('credentials in policies are references', () => {
    it('refuses a literal token in a deployment target and keeps the name of an environment variable', async () => {
      await registry.http('POST', '/api/v1/models', { body: { name: 'deployed' } });
      const before = await head();
      const literal = await registry.http('PUT', '/api/v1/models/deployed/policy', {
        body: { deployment: { targets: [{ kind: 'github-actions', environment: 'production', settings: { apiToken: 'ghp_live_0123456789' } }] } },
      });
      expect(literal.status).toBe(422);
      expect(literal.body).toMatchObject({ code: 'INVALID_POLICY', errors: [{ field: 'deployment.targets[0].settings.apiToken' }] });
      expect(literal.body.errors[0].message).toContain('apiTokenEnv');
      expect(JSON.stringify(literal.body)).not.toContain('ghp_live_0123456789');
      expect(await head()).toBe(before);

      const reference = await registry.http('PUT', '/api/v1/models/deployed/policy', {
        body: { deployment: { targets: [{ kind: 'github-actions', environment: 'production', settings: { apiTokenEnv: 'GITHUB_TOKEN' } }] } },
      });
      expect(reference.status).toBe(200);
      const viewer = await registry.token('vera', ['viewer']);
      const model = await registry.http('GET', '/api/v1/models/deployed', { token: viewer });
      expect(model.body.policy.deployment.targets[0].settings).toEqual({ apiTokenEnv: 'GITHUB_TOKEN' });
    });
  });
});

describe('the last admin token', () => {
  it('cannot be revoked while it is the only admin without a scope (409); once another exists it can', async () => {
    const registry = await startRegistry();
    try {
      const store = registry.app.get<EventStore>(EVENT_STORE);
      const tokens = await registry.http('GET', '/api/v1/tokens');
      const admin = tokens.body.items.find((t: { subject: string }) => t.subject === 'admin');
      await registry.token('scoped-admin', ['admin'], ['churn']);
      const before = await store.headPosition();
      const refused = await registry.http('DELETE', `/api/v1/tokens/${admin.id}`);
      expect(refused.body).toMatchObject({ status: 409, code: 'LAST_ADMIN_TOKEN' });
      expect(await store.headPosition()).toBe(before);
      const second = await registry.token('second-admin', ['admin']);
      expect((await registry.http('DELETE', `/api/v1/tokens/${admin.id}`, { token: second })).status).toBe(204);
      expect((await registry.http('GET', '/api/v1/tokens')).status).toBe(401);
    } finally {
      await registry.close();
    }
  });
});

describe('notification channel secrets in a policy', () => {
  let registry: RegistryHarness;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.http('POST', '/api/v1/models', { body: { name: 'notified' } });
  });

  afterAll(async () => {
    await registry.close();
  });

  const HOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
  const SIGNING = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const policy = (slackUrl: string, secret: string) => ({
    approval: {
      Production: {
        required: 1,
        reviewers: ['role:reviewer'],
        expiresIn: 'P3D',
        remindEvery: 'P1D',
        notify: [{ kind: 'email' }, { kind: 'slack', webhookUrl: slackUrl }, { kind: 'webhook', url: 'https://ci.example.com/hooks/approvals', secret }],
      },
    },
  });

  it('stores them sealed, shows them as [encrypted] to everyone, and keeps them when the policy is sent back as read', async () => {
    const set = await registry.http('PUT', '/api/v1/models/notified/policy', { body: policy(HOOK, SIGNING) });
    expect(set.status).toBe(200);
    expect(set.body.approval.Production.notify[1]).toEqual({ kind: 'slack', webhookUrl: '[encrypted]' });
    const viewer = await registry.token('nina', ['viewer']);
    const reads = await Promise.all([
      registry.http('GET', '/api/v1/models/notified', { token: viewer }),
      registry.http('GET', '/api/v1/audit?model=notified', { token: viewer }),
    ]);
    const text = JSON.stringify(reads.map((r) => r.body));
    expect(text).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
    expect(text).not.toContain(SIGNING);
    const stored = (await registry.app.get<EventStore>(EVENT_STORE).readStream('model-notified')).find((e) => e.type === 'ModelPolicySet');
    const channels = (stored?.data as { policy: { approval: { Production: { notify: Array<Record<string, string>> } } } }).policy.approval.Production.notify;
    expect(channels[1]?.['webhookUrl']).toMatch(/^enc:v1:/);
    expect(channels[2]?.['secret']).toMatch(/^enc:v1:/);

    // Read, edit (one more reminder rule), send back: the secrets stay as they were.
    const read = reads[0]!.body.policy;
    read.approval.Production.remindEvery = 'PT12H';
    expect((await registry.http('PUT', '/api/v1/models/notified/policy', { body: read })).status).toBe(200);
    const again = (await registry.app.get<EventStore>(EVENT_STORE).readStream('model-notified')).filter((e) => e.type === 'ModelPolicySet').at(-1);
    const kept = (again?.data as { policy: { approval: { Production: { notify: Array<Record<string, string>> } } } }).policy.approval.Production.notify;
    expect(kept[1]?.['webhookUrl']).toBe(channels[1]?.['webhookUrl']);
  });

  it.each([
    ['a slack channel without its URL', { kind: 'slack' }, 'approval.Production.notify[0].webhookUrl'],
    ['a webhook URL with a password in it', { kind: 'webhook', url: 'https://u:p@ci.example.com/h', secret: 's' }, 'approval.Production.notify[0].url'],
    ['a setting of another kind', { kind: 'email', url: 'https://x.example.com' }, 'approval.Production.notify[0].url'],
    ['[encrypted] with nothing stored to keep', { kind: 'teams', webhookUrl: '[encrypted]' }, 'approval.Production.notify[0].webhookUrl'],
  ])('refuses %s with the field, appending nothing', async (_, channel, field) => {
    const before = await registry.app.get<EventStore>(EVENT_STORE).headPosition();
    const response = await registry.http('PUT', '/api/v1/models/notified/policy', {
      body: { approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P3D', notify: [channel] } } },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await registry.app.get<EventStore>(EVENT_STORE).headPosition()).toBe(before);
  });
});
