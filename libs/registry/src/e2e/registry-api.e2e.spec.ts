import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** The registry's public API over real HTTP, against a SQLite store in a temp directory. */
describe('registry API', () => {
  let registry: RegistryHarness;
  let contributor: string;
  let viewer: string;

  beforeAll(async () => {
    registry = await startRegistry();
    contributor = await registry.token('carol', ['contributor']);
    viewer = await registry.token('victor', ['viewer']);
  });

  afterAll(async () => {
    await registry.close();
  });

  const head = (): Promise<bigint> => registry.app.get<EventStore>(EVENT_STORE).headPosition();

  const createModel = async (name: string, extra: Record<string, unknown> = {}) => {
    const response = await registry.http('POST', '/api/v1/models', { token: contributor, body: { name, ...extra } });
    expect(response.status).toBe(201);
    return response.body;
  };

  const registerVersion = async (model: string) => {
    const response = await registry.http('POST', `/api/v1/models/${model}/versions`, {
      token: contributor,
      body: { source: 'https://models.example.com/churn/model.onnx', metrics: { val_auc: 0.91 } },
    });
    expect(response.status).toBe(201);
    return response.body;
  };

  describe('walkthrough', () => {
    it('registers a model and a version, moves it to Staging and shows the audit trail', async () => {
      const model = await createModel('churn', { description: 'churn in 30 days', tags: { team: 'growth' } });
      expect(model).toMatchObject({ name: 'churn', latestVersion: 0, tags: { team: 'growth' } });

      const v1 = await registerVersion('churn');
      expect(v1).toMatchObject({ model: 'churn', version: 1, stage: 'None', registeredBy: { kind: 'user', id: 'carol' } });

      const transition = await registry.http('POST', '/api/v1/models/churn/versions/1/transitions', {
        token: contributor,
        body: { toStage: 'Staging', comment: 'first candidate' },
      });
      expect(transition.status).toBe(202);
      expect(transition.body).toMatchObject({ stage: 'Staging', request: { status: 'completed', toStage: 'Staging' } });

      const audit = await registry.http('GET', '/api/v1/models/churn/versions/1/audit', { token: viewer });
      expect(audit.status).toBe(200);
      expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual([
        'ModelVersionRegistered',
        'StageTransitionRequested',
        'StageTransitioned',
      ]);
      expect(audit.body.events[1]).toMatchObject({ actor: { kind: 'user', id: 'carol' }, data: { comment: 'first candidate' } });
      expect(audit.body.events[1].prevHash).toBe(audit.body.events[0].hash);

      const verify = await registry.http('GET', '/api/v1/models/churn/versions/1/audit/verify', { token: viewer });
      expect(verify.body).toMatchObject({ valid: true, events: 3 });

      const listed = await registry.http('GET', '/api/v1/models?stage=Staging', { token: viewer });
      expect(listed.body.items.map((m: { name: string }) => m.name)).toContain('churn');
      const board = await registry.http('GET', '/api/v1/board', { token: viewer });
      expect(board.body.Staging).toEqual(expect.arrayContaining([expect.objectContaining({ model: 'churn', version: 1 })]));
      expect(board.body.models).toEqual(
        expect.arrayContaining([{ name: 'churn', servingVersion: null, counts: { None: 0, Staging: 1, Production: 0, Archived: 0 } }]),
      );

      const everything = await registry.http('GET', '/api/v1/audit?model=churn&actor=carol', { token: viewer });
      expect(everything.body.items.map((e: { type: string }) => e.type)).toEqual([
        'ModelCreated',
        'ModelVersionNumberReserved',
        'ModelVersionRegistered',
        'StageTransitionRequested',
        'StageTransitioned',
      ]);
    });

    it('shows every change on the board it answers next (a board kept between requests is rebuilt once the read model moves)', async () => {
      await createModel('boardwatch');
      await registerVersion('boardwatch');
      const stagesOf = async () => {
        const board = await registry.http('GET', '/api/v1/board', { token: viewer });
        expect(board.status).toBe(200);
        const on = (stage: string) => board.body[stage].filter((v: { model: string }) => v.model === 'boardwatch').map((v: { version: number }) => v.version);
        return { None: on('None'), Staging: on('Staging'), models: board.body.models.filter((m: { name: string }) => m.name === 'boardwatch') };
      };
      expect(await stagesOf()).toEqual({ None: [1], Staging: [], models: [{ name: 'boardwatch', servingVersion: null, counts: { None: 1, Staging: 0, Production: 0, Archived: 0 } }] });
      expect(await stagesOf()).toEqual((await stagesOf()));

      const moved = await registry.http('POST', '/api/v1/models/boardwatch/versions/1/transitions', { token: contributor, body: { toStage: 'Staging' } });
      expect(moved.status).toBe(202);
      expect(await stagesOf()).toEqual({ None: [], Staging: [1], models: [{ name: 'boardwatch', servingVersion: null, counts: { None: 0, Staging: 1, Production: 0, Archived: 0 } }] });
      await registerVersion('boardwatch');
      expect((await stagesOf()).None).toEqual([2]);
    });

    it('answers what a version looked like at a past moment (?asOf=)', async () => {
      await createModel('timetravel');
      await registerVersion('timetravel');
      const before = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5)); // the clock must move past `before`
      const moved = await registry.http('POST', '/api/v1/models/timetravel/versions/1/transitions', {
        token: contributor,
        body: { toStage: 'Staging' },
      });
      expect(moved.status).toBe(202);
      const then = await registry.http('GET', `/api/v1/models/timetravel/versions/1?asOf=${before}`, { token: viewer });
      const now = await registry.http('GET', '/api/v1/models/timetravel/versions/1', { token: viewer });
      expect(then.body).toMatchObject({ stage: 'None', asOf: before });
      expect(now.body.stage).toBe('Staging');
      const beforeModel = await registry.http('GET', '/api/v1/models/timetravel?asOf=2000-01-01T00:00:00Z', { token: viewer });
      expect(beforeModel.status).toBe(404);
      expect(beforeModel.body.code).toBe('MODEL_NOT_FOUND');
    });

    it('sets and removes tags and aliases', async () => {
      await createModel('tagged');
      await registerVersion('tagged');
      await registerVersion('tagged');
      const tag = await registry.http('PUT', '/api/v1/models/tagged/versions/2/tags/validated', {
        token: contributor,
        body: { value: 'yes' },
      });
      expect(tag.body.tags).toEqual({ validated: 'yes' });
      const alias = await registry.http('PUT', '/api/v1/models/tagged/aliases/champion', { token: contributor, body: { version: 2 } });
      expect(alias.body.aliases).toEqual({ champion: 2 });
      const v2 = await registry.http('GET', '/api/v1/models/tagged/versions/2', { token: viewer });
      expect(v2.body).toMatchObject({ aliases: ['champion'], tags: { validated: 'yes' } });
      expect((await registry.http('DELETE', '/api/v1/models/tagged/aliases/champion', { token: contributor })).status).toBe(204);
      expect((await registry.http('DELETE', '/api/v1/models/tagged/versions/2/tags/validated', { token: contributor })).status).toBe(204);
      const after = await registry.http('GET', '/api/v1/models/tagged/versions/2', { token: viewer });
      expect(after.body).toMatchObject({ aliases: [], tags: {} });
    });
  });

  describe('describing a model after creation', () => {
    it("changes a model's description and tags and a version's description; lists and searches show them", async () => {
      await createModel('described', { description: 'first words', tags: { team: 'growth' } });
      await registerVersion('described');
      const updated = await registry.http('PATCH', '/api/v1/models/described', { token: contributor, body: { description: 'better words' } });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ name: 'described', description: 'better words', tags: { team: 'growth' } });
      const tagged = await registry.http('PUT', '/api/v1/models/described/tags/owner', { token: contributor, body: { value: 'ana' } });
      expect(tagged.body.tags).toEqual({ team: 'growth', owner: 'ana' });
      expect((await registry.http('DELETE', '/api/v1/models/described/tags/team', { token: contributor })).status).toBe(204);
      const version = await registry.http('PATCH', '/api/v1/models/described/versions/1', { token: contributor, body: { description: 'v1, retrained' } });
      expect(version.status).toBe(200);
      expect(version.body).toMatchObject({ model: 'described', version: 1, description: 'v1, retrained' });

      const byTag = await registry.http('GET', '/api/v1/models?tag=owner:ana', { token: viewer });
      expect(byTag.body.items).toEqual([expect.objectContaining({ name: 'described', description: 'better words', tags: { owner: 'ana' } })]);
      expect((await registry.http('GET', '/api/v1/models?q=better%20words', { token: viewer })).body.items.map((m: { name: string }) => m.name)).toEqual(['described']);
      expect((await registry.http('GET', '/api/v1/models?tag=team', { token: viewer })).body.items.map((m: { name: string }) => m.name)).not.toContain('described');
      const v1 = await registry.http('GET', '/api/v1/models/described/versions/1', { token: viewer });
      expect(v1.body.description).toBe('v1, retrained');
      const audit = await registry.http('GET', '/api/v1/audit?model=described', { token: viewer });
      expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual(
        expect.arrayContaining(['ModelDescriptionUpdated', 'ModelTagSet', 'ModelTagRemoved', 'ModelVersionDescriptionUpdated']),
      );
    });

    it('appends nothing when the description or tag is unchanged', async () => {
      await createModel('steady', { description: 'same', tags: { team: 'growth' } });
      const before = await head();
      expect((await registry.http('PATCH', '/api/v1/models/steady', { token: contributor, body: { description: 'same' } })).status).toBe(200);
      expect((await registry.http('PUT', '/api/v1/models/steady/tags/team', { token: contributor, body: { value: 'growth' } })).status).toBe(200);
      expect(await head()).toBe(before);
    });
  });

  describe('bad input gets a problem document and appends nothing', () => {
    beforeAll(async () => {
      await createModel('guarded');
      await registerVersion('guarded');
    });

    const cases: Array<[string, string, string, Record<string, unknown>, number, string]> = [
      ['malformed JSON', 'POST', '/api/v1/models', { rawBody: '{"name": "x",' }, 400, 'MALFORMED_JSON'],
      ['an unknown field', 'POST', '/api/v1/models', { body: { name: 'extra', owner: 'me' } }, 400, 'VALIDATION_FAILED'],
      ['a bad model name', 'POST', '/api/v1/models', { body: { name: '-bad name' } }, 400, 'VALIDATION_FAILED'],
      ['a bad model name in the path', 'GET', '/api/v1/models/bad%20name', {}, 400, 'VALIDATION_FAILED'],
      ['an existing model', 'POST', '/api/v1/models', { body: { name: 'guarded' } }, 409, 'MODEL_ALREADY_EXISTS'],
      ['an unknown model', 'POST', '/api/v1/models/nope/versions', { body: { source: 'https://x.example/m.onnx' } }, 404, 'MODEL_NOT_FOUND'],
      ['an unknown stage', 'POST', '/api/v1/models/guarded/versions/1/transitions', { body: { toStage: 'Prod' } }, 400, 'VALIDATION_FAILED'],
      ['a missing version', 'POST', '/api/v1/models/guarded/versions/99/transitions', { body: { toStage: 'Staging' } }, 404, 'VERSION_NOT_FOUND'],
      ['a version that is not a number', 'GET', '/api/v1/models/guarded/versions/one', {}, 400, 'VALIDATION_FAILED'],
      ['a forbidden transition', 'POST', '/api/v1/models/guarded/versions/1/transitions', { body: { toStage: 'Production' } }, 409, 'TRANSITION_NOT_ALLOWED'],
      ['an unsupported source', 'POST', '/api/v1/models/guarded/versions', { body: { source: 'ftp://x/m.onnx' } }, 422, 'INVALID_SOURCE'],
      ['a file:// source when not allowed', 'POST', '/api/v1/models/guarded/versions', { body: { source: 'file:///etc/hostname' } }, 403, 'FILE_SOURCE_NOT_ALLOWED'],
      ['an unknown artifact', 'POST', '/api/v1/models/guarded/versions', { body: { source: `artifacts://sha256/${'0'.repeat(64)}` } }, 404, 'ARTIFACT_NOT_FOUND'],
      ['a malformed digest', 'POST', '/api/v1/models/guarded/versions', { body: { source: 'https://x.example/m', artifactDigest: 'md5:abc' } }, 400, 'VALIDATION_FAILED'],
      ['a policy with an unknown metric', 'PUT', '/api/v1/models/guarded/policy', { body: { evaluation: { set: 's', thresholds: { acuracy: { threshold: 0.9 } } } } }, 422, 'INVALID_POLICY'],
      ['a policy with a bad duration', 'PUT', '/api/v1/models/guarded/policy', { body: { approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: '3 days' } } } }, 422, 'INVALID_POLICY'],
      ['a reserved alias', 'PUT', '/api/v1/models/guarded/aliases/latest', { body: { version: 1 } }, 422, 'INVALID_ALIAS'],
      ['an alias to a missing version', 'PUT', '/api/v1/models/guarded/aliases/champion', { body: { version: 7 } }, 404, 'VERSION_NOT_FOUND'],
      ['a model tag key with a space', 'PUT', '/api/v1/models/guarded/tags/bad%20key', { body: { value: 'x' } }, 400, 'VALIDATION_FAILED'],
      ['a model tag that is not there', 'DELETE', '/api/v1/models/guarded/tags/absent', {}, 404, 'TAG_NOT_FOUND'],
      ['a description too long', 'PATCH', '/api/v1/models/guarded', { body: { description: 'x'.repeat(5001) } }, 400, 'VALIDATION_FAILED'],
      ['a version description without one', 'PATCH', '/api/v1/models/guarded/versions/1', { body: {} }, 400, 'VALIDATION_FAILED'],
      ['a description of a missing model', 'PATCH', '/api/v1/models/nope', { body: { description: 'x' } }, 404, 'MODEL_NOT_FOUND'],
      ['an unknown route', 'GET', '/api/v1/nothing-here', {}, 404, 'NOT_FOUND'],
    ];

    it.each(cases)('%s', async (_, method, path, options, status, code) => {
      const before = await head();
      const response = await registry.http(method, path, { ...options });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String) });
      expect(await head()).toBe(before);
    });

    it('lists every field problem', async () => {
      const response = await registry.http('POST', '/api/v1/models', { body: { name: 7, tags: 'x', extra: 1 } });
      expect(response.status).toBe(400);
      const fields = response.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['name', 'tags', 'extra']));
    });

    it('refuses a missing token (401), a wrong token (401) and a missing role (403)', async () => {
      const before = await head();
      const none = await registry.http('POST', '/api/v1/models', { token: null, body: { name: 'anon' } });
      const wrong = await registry.http('POST', '/api/v1/models', { token: 'not-a-token', body: { name: 'anon' } });
      const role = await registry.http('POST', '/api/v1/models', { token: viewer, body: { name: 'anon' } });
      expect([none.status, none.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      expect([wrong.status, wrong.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      expect([role.status, role.body.code]).toEqual([403, 'FORBIDDEN']);
      const policy = await registry.http('PUT', '/api/v1/models/guarded/policy', { token: contributor, body: {} });
      expect([policy.status, policy.body.code]).toEqual([403, 'FORBIDDEN']);
      expect(await head()).toBe(before);
    });
  });

  describe('concurrency', () => {
    it('gives 50 concurrent registrations 50 distinct consecutive numbers', async () => {
      await createModel('busy');
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          registry.http('POST', '/api/v1/models/busy/versions', {
            token: contributor,
            body: { source: `https://models.example.com/busy/${i}.onnx` },
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
      const numbers = responses.map((r) => r.body.version as number).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const listed = await registry.http('GET', '/api/v1/models/busy/versions?limit=100', { token: viewer });
      expect(listed.body.total).toBe(50);
    });

    it('numbers 60 concurrent registrations on one model consecutively across two registry processes (pipelined appends that lose a race are decided again)', async () => {
      await createModel('busier');
      const twin = await startRegistry({ dataDir: registry.dataDir });
      try {
        const responses = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            (i % 3 === 0 ? twin : registry).http('POST', '/api/v1/models/busier/versions', {
              token: contributor,
              body: { source: `https://models.example.com/busier/${i}.onnx` },
            }),
          ),
        );
        expect(responses.filter((r) => r.status !== 201).map((r) => JSON.stringify(r.body))).toEqual([]);
        expect(responses.map((r) => r.status)).toEqual(Array(60).fill(201));
        expect(responses.map((r) => r.body.version as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      } finally {
        await twin.close({ keepData: true });
      }
      const model = await registry.http('GET', '/api/v1/models/busier/versions?limit=100', { token: viewer });
      expect(model.body.total).toBe(60);
    });

    it('registers once when the same Idempotency-Key races itself', async () => {
      await createModel('raced');
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          registry.http('POST', '/api/v1/models/raced/versions', {
            token: contributor,
            headers: { 'idempotency-key': 'train-run-raced' },
            body: { source: 'https://models.example.com/raced.onnx' },
          }),
        ),
      );
      expect(responses.map((r) => [r.status, r.body.version])).toEqual(Array(8).fill([201, 1]));
      expect((await registry.http('GET', '/api/v1/models/raced/versions', { token: viewer })).body.total).toBe(1);
    });

    it('applies exactly one of 20 concurrent conflicting transitions, even across two registry processes', async () => {
      await createModel('contested');
      await registerVersion('contested');
      // A second registry on the same data directory: its own store connection and its own
      // in-process locks, so only the store's expected-revision check keeps the stream consistent.
      const twin = await startRegistry({ dataDir: registry.dataDir });
      try {
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? registry : twin).http('POST', '/api/v1/models/contested/versions/1/transitions', {
              token: contributor,
              body: { toStage: 'Staging', comment: `attempt ${i}` },
            }),
          ),
        );
        expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
        for (const refused of responses.filter((r) => r.status !== 202)) {
          expect([refused.status, refused.body.code]).toEqual([409, 'ALREADY_IN_STAGE']);
        }
      } finally {
        await twin.close({ keepData: true });
      }
      const audit = await registry.http('GET', '/api/v1/models/contested/versions/1/audit', { token: viewer });
      expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual([
        'ModelVersionRegistered',
        'StageTransitionRequested',
        'StageTransitioned',
      ]);
      const verify = await registry.http('GET', '/api/v1/models/contested/versions/1/audit/verify', { token: viewer });
      expect(verify.body).toMatchObject({ valid: true, events: 3 });
    });
  });

  describe('idempotency', () => {
    it('replays a registration with the same Idempotency-Key instead of registering twice', async () => {
      await createModel('retried');
      const send = () =>
        registry.http('POST', '/api/v1/models/retried/versions', {
          token: contributor,
          headers: { 'idempotency-key': 'train-run-42' },
          body: { source: 'https://models.example.com/retried.onnx' },
        });
      const first = await send();
      const before = await head();
      const second = await send();
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body.version).toBe(first.body.version);
      expect(await head()).toBe(before);
    });
  });

  describe('tokens', () => {
    it('shows a secret once, lists tokens without secrets, and revokes at once', async () => {
      const issued = await registry.http('POST', '/api/v1/tokens', { body: { subject: 'temp', roles: ['viewer'] } });
      expect(issued.status).toBe(201);
      expect(issued.body.token).toMatch(/^mrw_/);
      const listed = await registry.http('GET', '/api/v1/tokens');
      const entry = listed.body.items.find((t: { id: string }) => t.id === issued.body.id);
      expect(entry).toMatchObject({ subject: 'temp', roles: ['viewer'], revokedAt: null });
      expect(JSON.stringify(listed.body)).not.toContain(issued.body.token);
      expect((await registry.http('GET', '/api/v1/models', { token: issued.body.token })).status).toBe(200);
      expect((await registry.http('DELETE', `/api/v1/tokens/${issued.body.id}`)).status).toBe(204);
      const after = await registry.http('GET', '/api/v1/models', { token: issued.body.token });
      expect([after.status, after.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      const audit = await registry.http('GET', '/api/v1/audit?type=AccessTokenRevoked');
      expect(audit.body.items.some((e: { data: { tokenId: string } }) => e.data.tokenId === issued.body.id)).toBe(true);
    });
  });

  describe('operations', () => {
    it('serves health, readiness, metrics and OpenAPI without a token', async () => {
      expect((await registry.http('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
      const ready = await registry.http('GET', '/readyz', { token: null });
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ready');
      const metrics = await registry.http('GET', '/metrics', { token: null });
      expect(metrics.body).toContain('mrw_http_request_duration_seconds');
      expect(metrics.body).toContain('mrw_events_appended_total');
      const openapi = await registry.http('GET', '/api/docs/openapi.json', { token: null });
      expect(Object.keys(openapi.body.paths)).toEqual(
        expect.arrayContaining(['/api/v1/models', '/api/v1/models/{name}/versions/{version}/transitions', '/api/v1/audit']),
      );
    });

    it('publishes an OpenAPI document a client can trust: every path parameter declared, refusals in the shape each route writes', async () => {
      type Operation = { parameters?: Array<{ name: string; in: string }>; responses: Record<string, { content?: Record<string, unknown> }> };
      const openapi = (await registry.http('GET', '/api/docs/openapi.json', { token: null })).body as { paths: Record<string, Record<string, Operation>> };
      const undeclared: string[] = [];
      const wrongDialect: string[] = [];
      for (const [path, item] of Object.entries(openapi.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
            if (!(operation.parameters ?? []).some((p) => p.in === 'path' && p.name === name)) undeclared.push(`${method} ${path} {${name}}`);
          }
          const expected = path.startsWith('/api/2.0/mlflow') ? 'application/json' : 'application/problem+json';
          for (const [status, response] of Object.entries(operation.responses)) {
            // 431 comes from the HTTP parser, before any route: always a problem document.
            const shape = status === '431' ? 'application/problem+json' : expected;
            if (/^4\d\d$/.test(status) && Object.keys(response.content ?? {}).join() !== shape) wrongDialect.push(`${method} ${path} ${status}`);
          }
        }
      }
      expect(undeclared).toEqual([]);
      expect(wrongDialect).toEqual([]);
      // The MLflow artifact proxy's refusals are MLflow's: `{error_code, message}`, as `application/json`.
      const refused = await registry.http('GET', '/api/2.0/mlflow-artifacts/artifacts', { token: null });
      expect([refused.status, refused.headers.get('content-type')]).toEqual([401, 'application/json; charset=utf-8']);
      expect(refused.body).toEqual({ error_code: 'UNAUTHENTICATED', message: expect.any(String) });
    });
  });
});
