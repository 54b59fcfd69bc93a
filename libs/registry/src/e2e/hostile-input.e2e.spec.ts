import { request } from 'node:http';
import { connect } from 'node:net';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** Input a fuzzer or an attacker sends gets a 4xx problem document and appends nothing. */
describe('hostile input', () => {
  let registry: RegistryHarness;
  let contributor: string;
  let viewer: string;

  beforeAll(async () => {
    registry = await startRegistry();
    contributor = await registry.token('carol', ['contributor']);
    viewer = await registry.token('victor', ['viewer']);
    await registry.http('POST', '/api/v1/models', { token: contributor, body: { name: 'target', tags: { team: 'growth' } } });
    await registry.http('POST', '/api/v1/models/target/versions', {
      token: contributor,
      body: { source: 'https://models.example.com/target.onnx' },
    });
  });

  afterAll(async () => {
    await registry.close();
  });

  const head = (): Promise<bigint> => registry.app.get<EventStore>(EVENT_STORE).headPosition();

  const refused = async (
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
    status: number,
    code: string,
  ) => {
    const before = await head();
    const response = await registry.http(method, path, { token: contributor, ...options });
    expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    expect(await head()).toBe(before);
    return response.body;
  };

  const nested = (depth: number, leaf: 'array' | 'object'): string =>
    leaf === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  describe('query parameters', () => {
    it.each([
      ['an offset of 1e19', '/api/v1/models?offset=1e19', 'offset'],
      ['an offset of 2^63', '/api/v1/models?offset=9223372036854775808', 'offset'],
      ['a version-list offset of 1e19', '/api/v1/models/target/versions?offset=1e19', 'offset'],
      ['an audit cursor of 1e30', '/api/v1/audit?after=1e30', 'after'],
      ['a limit in hex', '/api/v1/models?limit=0x10', 'limit'],
      ['a fractional limit', '/api/v1/models?limit=1.5', 'limit'],
      ['an empty limit', '/api/v1/models?limit=', 'limit'],
      ['a NUL byte in a tag filter', '/api/v1/models?tag=%00', 'tag'],
      ['a control character in a search', '/api/v1/models?q=a%07b', 'q'],
      ['a malformed tag key', '/api/v1/models?tag=a%22b', 'tag'],
      ['a NUL byte in an audit actor', '/api/v1/audit?actor=%00', 'actor'],
      ['an unknown query parameter', '/api/v1/models?owner=me', 'owner'],
      ['a __proto__ query parameter', '/api/v1/models?__proto__=1', '__proto__'],
      ['a constructor query parameter on a route without parameters', '/api/v1/board?constructor=1', 'constructor'],
      ['a repeated query parameter', '/api/v1/models?limit=1&limit=2', 'limit'],
      ['a huge asOf', '/api/v1/models/target?asOf=99999-01-01T00:00:00Z', 'asOf'],
    ])('refuses %s with 400', async (_, path, field) => {
      const problem = await refused('GET', path, { token: viewer }, 400, 'VALIDATION_FAILED');
      expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('still accepts the largest offset and a well-formed tag filter', async () => {
      const far = await registry.http('GET', '/api/v1/models?offset=1000000000', { token: viewer });
      expect([far.status, far.body.items]).toEqual([200, []]);
      const tagged = await registry.http('GET', '/api/v1/models?tag=team:growth', { token: viewer });
      expect(tagged.body.items.map((m: { name: string }) => m.name)).toEqual(['target']);
    });
  });

  describe('path parameters', () => {
    it.each([
      ['a NUL byte in a model name', 'GET', '/api/v1/models/a%00b'],
      ['a version of 2^63', 'GET', '/api/v1/models/target/versions/9223372036854775808'],
      ['a negative version', 'GET', '/api/v1/models/target/versions/-1'],
      ['a NUL byte in an alias', 'PUT', '/api/v1/models/target/aliases/a%00b'],
      ['a 10,000-character alias', 'PUT', `/api/v1/models/target/aliases/${'a'.repeat(10_000)}`],
      ['a NUL byte in a tag key', 'PUT', '/api/v1/models/target/versions/1/tags/a%00'],
      ['a token id that is not a UUID', 'DELETE', '/api/v1/tokens/%00'],
    ])('refuses %s with 4xx', async (_, method, path) => {
      const before = await head();
      const response = await registry.http(method, path, {
        token: registry.adminToken,
        ...(method === 'PUT' ? { body: path.includes('/tags/') ? { value: 'x' } : { version: 1 } } : {}),
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toEqual(expect.any(String));
      expect(await head()).toBe(before);
    });
  });

  describe('bodies', () => {
    it.each([
      ['arrays 1,500 deep', nested(1_500, 'array')],
      ['objects 4,000 deep', nested(4_000, 'object')],
      ['objects 65 deep', `{"name":"deep","tags":${nested(64, 'object')}}`],
    ])('refuses JSON nested %s with 400 NESTING_TOO_DEEP', async (_, rawBody) => {
      await refused('POST', '/api/v1/models', { rawBody }, 400, 'NESTING_TOO_DEEP');
    });

    it('accepts JSON nested up to the bound', async () => {
      // 64 levels in all: the body object is the first.
      const response = await registry.http('POST', '/api/v1/models', {
        token: contributor,
        rawBody: `{"name":"shallow","tags":${nested(62, 'object')}}`,
      });
      expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    });

    it.each([
      ['__proto__ at the top', '{"name":"proto1","__proto__":{"admin":true}}', '__proto__'],
      ['__proto__ inside tags', '{"name":"proto2","tags":{"__proto__":{"x":"y"}}}', 'tags.__proto__'],
      ['constructor deep inside a policy', '{"evaluation":{"set":"s","thresholds":{"accuracy":{"constructor":{"prototype":1}}}}}', 'evaluation.thresholds.accuracy.constructor'],
      ['prototype in a transition', '{"toStage":"Staging","prototype":"x"}', 'prototype'],
    ])('refuses %s with 400 and names the field', async (_, rawBody, field) => {
      const path = rawBody.includes('evaluation')
        ? '/api/v1/models/target/policy'
        : rawBody.includes('toStage')
          ? '/api/v1/models/target/versions/1/transitions'
          : '/api/v1/models';
      const problem = await refused(rawBody.includes('evaluation') ? 'PUT' : 'POST', path, {
        token: registry.adminToken,
        rawBody,
      }, 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringContaining('not allowed') }]));
    });

    it('refuses a body over 1 MiB with 413', async () => {
      const rawBody = JSON.stringify({ name: 'big', description: 'x'.repeat(1024 * 1024) });
      await refused('POST', '/api/v1/models', { rawBody }, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses a body that is not JSON with 415', async () => {
      await refused('POST', '/api/v1/models', { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses a JSON body that is not an object with 400', async () => {
      await refused('POST', '/api/v1/models', { rawBody: '[1,2]' }, 400, 'VALIDATION_FAILED');
      await refused('POST', '/api/v1/models', { rawBody: 'null' }, 400, 'MALFORMED_JSON');
    });

    it('refuses a lone UTF-16 surrogate anywhere in a JSON body with 400 naming the field, before any validator sees it', async () => {
      const body = await refused('POST', '/api/v1/models', { rawBody: '{"name":"lone","tags":{"team":"\\udfff"}}' }, 400, 'VALIDATION_FAILED');
      expect(body.errors).toEqual([{ field: 'tags.team', message: expect.stringContaining('well-formed Unicode') }]);
      // Percent-encoded bytes of a surrogate are not UTF-8: a query string decodes them to U+FFFD, never to a lone surrogate.
      const query = await registry.http('GET', '/api/v1/models?q=%ED%A0%80', { token: viewer });
      expect(query.status).toBe(200);
    });

    it('refuses a missing body on a route that takes one, rather than taking it for {}', async () => {
      const before = await head();
      const response = await fetch(`${registry.baseUrl}/api/v1/models/target/policy`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${registry.adminToken}` },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: unknown }).errors).toEqual([{ field: 'body', message: 'missing' }]);
      expect(await head()).toBe(before);
    });

    it('takes null for an optional field as absent, as the document says (nullable)', async () => {
      const version = await registry.http('POST', '/api/v1/models/target/versions', {
        token: contributor,
        body: { source: 'https://models.example.com/n.onnx', artifactDigest: null, runId: null, tags: null, description: null },
      });
      expect(version.status).toBe(201);
      expect(version.body).toMatchObject({ digest: null, runId: null, tags: {}, description: '' });
      const policy = await registry.http('PUT', '/api/v1/models/target/policy', {
        token: registry.adminToken,
        body: { evaluation: { set: 'holdout', setVersion: null }, approval: null },
      });
      expect(policy.status).toBe(200);
      expect(policy.body.evaluation).toEqual({ set: 'holdout', thresholds: {} });
      expect(policy.body).not.toHaveProperty('approval');
      await registry.http('PUT', '/api/v1/models/target/policy', { token: registry.adminToken, body: {} });
    });

    /** An artifact upload with a text part `note` beside a three-byte file. */
    const uploadWithNote = (note: string): Promise<Response> => {
      const form = new FormData();
      form.append('note', note);
      form.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'model.onnx');
      return fetch(`${registry.baseUrl}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${contributor}` }, body: form });
    };

    it('refuses an unknown multipart text field with 400 and appends nothing', async () => {
      const before = await head();
      const response = await uploadWithNote('hello');
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: unknown }).errors).toEqual([{ field: 'note', message: 'unknown field' }]);
      expect(await head()).toBe(before);
    });

    it('refuses an oversized multipart text field with 413', async () => {
      const before = await head();
      const response = await uploadWithNote('x'.repeat(1024 * 1024 + 1));
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
      expect(await head()).toBe(before);
    });
  });

  describe('methods and media types', () => {
    it('answers what the HTTP parser refuses with a problem document too: headers too large (431), not HTTP at all (400)', async () => {
      const raw = (text: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(new URL(registry.baseUrl).port), '127.0.0.1', () => socket.end(text));
          const chunks: Buffer[] = [];
          socket.on('data', (chunk: Buffer) => chunks.push(chunk));
          socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
          socket.on('error', reject);
        });
      const before = await head();
      const huge = await raw(`GET /api/v1/models?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 /);
      expect(huge).toContain('Content-Type: application/problem+json');
      expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'REQUEST_HEADERS_TOO_LARGE' });
      const garbage = await raw('\u0001\u0002 nonsense\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
      expect(await head()).toBe(before);
    });

    it('answers a method an MLflow path does not take with 405 and Allow, in MLflow’s error shape', async () => {
      const trace = await new Promise<{ status?: number; allow?: string; body: string }>((resolve, reject) => {
        const sent = request(`${registry.baseUrl}/api/2.0/mlflow-artifacts/artifacts`, { method: 'TRACE', headers: { authorization: `Bearer ${contributor}` } }, (answer) => {
          let body = '';
          answer.on('data', (chunk: Buffer) => (body += chunk.toString()));
          answer.on('end', () => resolve({ status: answer.statusCode, allow: answer.headers.allow, body }));
        });
        sent.on('error', reject);
        sent.end();
      });
      expect([trace.status, trace.allow]).toEqual([405, 'GET, HEAD']);
      expect(JSON.parse(trace.body)).toEqual({ error_code: 'BAD_REQUEST', message: expect.stringContaining('TRACE is not allowed') });
    });

    it('answers a method a known path does not support with 405 and Allow', async () => {
      const response = await registry.http('PUT', '/api/v1/models/target/versions', { token: contributor, body: {} });
      expect([response.status, response.body.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect((await registry.http('GET', '/api/v1/nothing-here', { token: viewer })).status).toBe(404);
    });

    it('matches a concrete path before a template it also fits: DELETE /tokens/self is 405, not a token named self', async () => {
      const before = await head();
      const response = await registry.http('DELETE', '/api/v1/tokens/self', { token: contributor });
      expect([response.status, response.body.code, response.headers.get('allow')]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET, HEAD']);
      expect((await registry.http('DELETE', '/api/v1/tokens/self/', { token: contributor })).status).toBe(405);
      expect((await registry.http('GET', '/api/v1/tokens/self', { token: contributor })).status).toBe(200);
      expect(await head()).toBe(before);
    });

    it('answers 405 for a method a path does not take before it looks at the body (a form, a non-object, TRACE)', async () => {
      const form = await fetch(`${registry.baseUrl}/api/v1/models/target/versions`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${contributor}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      expect([form.status, form.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST']);
      const array = await fetch(`${registry.baseUrl}/api/v1/models/target/versions`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${contributor}`, 'content-type': 'application/json' },
        body: '[1]',
      });
      expect(array.status).toBe(405);
      // fetch refuses to send TRACE; node:http does not.
      const trace = await new Promise<number | undefined>((resolve, reject) => {
        const sent = request(`${registry.baseUrl}/api/v1/models/target/versions`, { method: 'TRACE', headers: { authorization: `Bearer ${contributor}` } }, (answer) => {
          answer.resume();
          resolve(answer.statusCode);
        });
        sent.on('error', reject);
        sent.end();
      });
      expect(trace).toBe(405);
    });

    it('takes an empty body without a content type (Content-Length: 0) as no body', async () => {
      await registry.http('PUT', '/api/v1/models/target/versions/1/tags/empty', { token: contributor, body: { value: 'x' } });
      const response = await fetch(`${registry.baseUrl}/api/v1/models/target/versions/1/tags/empty`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${contributor}` },
        body: new Uint8Array(0),
      });
      expect(response.status).toBe(204);
    });
  });

  describe('the OpenAPI document', () => {
    it('declares, for every operation, its success schema and its problem responses', async () => {
      const document = (await registry.http('GET', '/api/docs/openapi.json', { token: null })).body;
      expect(document.components.schemas.Problem).toMatchObject({ required: ['type', 'title', 'status', 'detail', 'code'] });
      const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
      const operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
        Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method, responses: operation.responses })),
      );
      expect(operations.length).toBeGreaterThanOrEqual(20);
      for (const { name, method, responses } of operations) {
        const success = Object.keys(responses).filter((status) => status.startsWith('2'));
        expect({ name, success: success.length }).toEqual({ name, success: 1 });
        const [status] = success as [string];
        // JSON as a rule; a download or a stream declares its own media type (MLflow's artifact files, the live events).
        const media = responses[status].content?.['application/json'] ?? responses[status].content?.['application/octet-stream'] ?? responses[status].content?.['text/event-stream'];
        if (status !== '204') expect({ name, schema: media?.schema }).toEqual({ name, schema: expect.any(Object) });
        const expected = ['400', '401', '403', ...(method === 'get' ? [] : ['409', '413', '415', '422'])];
        // MLflow's paths refuse in MLflow's shape, `{error_code, message}` as application/json.
        const refusal = name.includes(' /api/2.0/mlflow') ? { 'application/json': { schema: expect.objectContaining({ required: ['error_code', 'message'] }) } } : problem;
        for (const code of expected) expect({ name, code, content: responses[code]?.content }).toEqual({ name, code, content: refusal });
        expect({ name, content: responses['431']?.content }).toEqual({ name, content: problem });
      }
      const compare = document.paths['/api/v1/models/{name}/compare'].get.responses;
      expect(compare['409'].content).toEqual(problem);
      const body = document.components.schemas.RegisterModelDto;
      expect(body).toMatchObject({ additionalProperties: false, properties: { description: { nullable: true, maxLength: 5000 } } });
    });
  });

  describe('Idempotency-Key', () => {
    const register = (key: string, source: string) =>
      registry.http('POST', '/api/v1/models/target/versions', {
        token: contributor,
        headers: { 'idempotency-key': key },
        body: { source },
      });

    it('replays an identical request, even with its keys in another order', async () => {
      const first = await register('same-body', 'https://models.example.com/a.onnx');
      const before = await head();
      const again = await registry.http('POST', '/api/v1/models/target/versions', {
        token: contributor,
        headers: { 'idempotency-key': 'same-body' },
        rawBody: '{ "source" : "https://models.example.com/a.onnx" }',
      });
      expect([first.status, again.status]).toEqual([201, 201]);
      expect(again.body.version).toBe(first.body.version);
      expect(await head()).toBe(before);
    });

    it('refuses the same key with a different body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const first = await register('reused-key', 'https://models.example.com/b.onnx');
      expect(first.status).toBe(201);
      const before = await head();
      const other = await register('reused-key', 'https://models.example.com/c.onnx');
      expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
      expect(await head()).toBe(before);
    });

    it('refuses a reused key on every command route, e.g. a transition and a tag', async () => {
      const send = (path: string, body: unknown, method = 'POST') =>
        registry.http(method, path, { token: contributor, headers: { 'idempotency-key': 'k-1' }, body });
      expect((await send('/api/v1/models/target/versions/1/tags/stage', { value: 'a' }, 'PUT')).status).toBe(200);
      expect((await send('/api/v1/models/target/versions/1/tags/stage', { value: 'a' }, 'PUT')).status).toBe(200);
      const changed = await send('/api/v1/models/target/versions/1/tags/stage', { value: 'b' }, 'PUT');
      expect([changed.status, changed.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
      expect((await send('/api/v1/models/target/versions/1/transitions', { toStage: 'Staging' })).status).toBe(202);
      const other = await send('/api/v1/models/target/versions/1/transitions', { toStage: 'Staging', comment: 'again' });
      expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    });
  });
});
