import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { EvaluatorModule } from '@mrw/evaluator';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { ApprovalsModule } from '@mrw/approvals';
import { ArchivalModule } from '@mrw/archival';
import { DeployerModule } from '@mrw/deployer';
import { WebhooksModule } from '@mrw/webhooks';

/*
 * Property-based fuzzing of the whole HTTP API, driven by its own OpenAPI document: for every
 * operation, fast-check generates path parameters, query parameters, headers and bodies
 * (values the schemas describe, boundary and huge numbers, unicode and NUL strings, deep
 * nesting, prototype keys, wrong types, random JSON, malformed bodies) and sends them over
 * real HTTP as admin, contributor, viewer or nobody. Whatever comes in:
 *   - no 5xx;
 *   - every error is application/problem+json with a stable code and its own status (MLflow's
 *     routes: MLflow's `{error_code, message}`, as its clients expect);
 *   - every status is one the document declares for the operation, and a 2xx body matches
 *     the declared schema;
 *   - a refused request appends nothing (only the suite's services may append meanwhile,
 *     reacting to earlier accepted requests).
 * FUZZ_RUNS sets the requests per operation (default 130), FUZZ_SEED replays a run.
 */

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const RUNS_PER_OPERATION = Number(process.env['FUZZ_RUNS'] ?? 130);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: { type: string; schema: Schema } | undefined;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | FormData;
}
interface Failure {
  operation: string;
  request: string;
  problem: string;
}

// ---------------------------------------------------------------- values

const HUGE = 'a'.repeat(10_000);
const hostileStrings = fc.oneof(
  fc.constantFrom(
    '', ' ', '\u0000', 'a\u0000b', '\u0007', '\r\n', '%00', '../../etc/passwd', '\ud800', '\udfff', '𝕏𝕏𝕏', 'é', '\u202e', 'null', 'true',
    '1e19', '-1', '0', '9223372036854775808', '18446744073709551616', '999999999', '1000000000', 'NaN', 'Infinity', '0x10', '1.5',
    '__proto__', 'constructor', 'prototype', "'; DROP TABLE models; --", '$."a"', '"', '\\', '*', '%', HUGE,
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const boundaryNumbers = fc.constantFrom(
  0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 63, 2 ** 64, 1e19, 1e308, -1e308, 5e-324,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 999_999_999, 1_000_000_000, 1_000_000_001,
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const wrongType = fc.oneof(fc.constant(null), fc.boolean(), boundaryNumbers, hostileStrings, fc.array(anyJson, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 }));

const resolve = (schema: Schema, components: Record<string, Schema>): Schema => {
  if (schema.$ref) return resolve(components[schema.$ref.split('/').pop() as string] ?? {}, components);
  if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0] as Schema, components), ...(schema.nullable ? { nullable: true } : {}) };
  return schema;
};

/** Values the schema describes (bounded sizes), the "positive" half of the generator. */
const fromSchema = (raw: Schema, components: Record<string, Schema>, depth = 0): fc.Arbitrary<unknown> => {
  const schema = resolve(raw, components);
  if (schema.nullable) return fc.option(fromSchema({ ...schema, nullable: false }, components, depth), { nil: null, freq: 4 });
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 300));
      return fc.string({ maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1_000_000, -(2 ** 31)), max: Math.min(schema.maximum ?? 1_000_000, 2 ** 31) });
    case 'number':
      return fc.oneof(fc.integer({ min: -100, max: 100 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schema.items ? fromSchema(schema.items, components, depth + 1) : anyJson, { maxLength: 3 });
    default: {
      const properties = schema.properties ?? {};
      if (Object.keys(properties).length === 0 || depth > 4) {
        return fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.oneof(fc.string({ maxLength: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true })), {
          maxKeys: 3,
        });
      }
      const model = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fromSchema(value, components, depth + 1)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in model), noNullPrototype: true });
    }
  }
};

/** Gives an object an own key (JSON.stringify writes it), even `__proto__`. */
const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

const objectsIn = (value: unknown): Array<Record<string, unknown>> => {
  const found: Array<Record<string, unknown>> = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    if (!Array.isArray(v)) found.push(v as Record<string, unknown>);
    Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
};

/** The "negative" half: a valid value broken in one place. */
const mutated = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc
    .tuple(
      valid,
      fc.nat(),
      fc.constantFrom('unknown-key', 'prototype-key', 'wrong-type', 'drop-key', 'huge-string', 'boundary-number'),
      fc.constantFrom('__proto__', 'constructor', 'prototype'),
      wrongType,
      boundaryNumbers,
    )
    .map(([value, pick, how, protoKey, wrong, number]) => {
      const copy = JSON.parse(JSON.stringify(value ?? null)) as unknown;
      const objects = objectsIn(copy);
      const target = objects[pick % Math.max(objects.length, 1)];
      if (!target) return wrong;
      const keys = Object.keys(target);
      const key = keys[pick % Math.max(keys.length, 1)] ?? 'x';
      if (how === 'unknown-key') setOwn(target, `extra${pick % 7}`, wrong);
      if (how === 'prototype-key') setOwn(target, protoKey, { polluted: true });
      if (how === 'wrong-type') setOwn(target, key, wrong);
      if (how === 'drop-key') delete target[key];
      if (how === 'huge-string') setOwn(target, key, HUGE);
      if (how === 'boundary-number') setOwn(target, key, number);
      return copy;
    });

const deeplyNested = fc
  .tuple(fc.integer({ min: 60, max: 6_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

const malformedJson = fc.constantFrom('', '{', '{"a":', 'nul', '{"a":1}}', '\u0000', '{"a":"\ud800"}', '[1,2', "{'a':1}", '1e99999', '{"a":1,"a":2}');

/** A JSON body: raw text, so malformed and duplicate-key bodies can be sent too. */
const jsonBody = (schema: Schema, components: Record<string, Schema>): fc.Arbitrary<{ text: string; type: string }> => {
  const valid = fromSchema(schema, components);
  const json = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((v) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json' }));
  return fc.oneof(
    { weight: 5, arbitrary: json(valid) },
    { weight: 5, arbitrary: json(mutated(valid)) },
    { weight: 1, arbitrary: json(anyJson) },
    { weight: 1, arbitrary: deeplyNested.map((text) => ({ text, type: 'application/json' })) },
    { weight: 1, arbitrary: malformedJson.map((text) => ({ text, type: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x').map((type) => ({
        text: 'a=1',
        type,
      })),
    },
  );
};

// ---------------------------------------------------------------- requests

/** Percent-encodes UTF-8, lone surrogates included (as the replacement character, like browsers). */
const encode = (text: string): string =>
  [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9_~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

/** A path segment that keeps the route (never empty, never a dot segment URL parsing would resolve). */
const segment = (values: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 9, arbitrary: values.map(encode) }, { weight: 1, arbitrary: fc.constantFrom('%FF', '%', '%E0%A4', '%C0%AE', 'a%2Fb') }).filter(
    (s) => s.length > 0 && !/^(\.|%2e){1,2}$/i.test(s),
  );

/** MLflow-compatible routes answer errors in MLflow's shape, `{error_code, message}`. */
const MLFLOW_PATH = /^\/(ajax-)?api\/2\.0\/mlflow/;

describe('API fuzzing (fast-check, every operation of the OpenAPI document)', () => {
  let suite: RegistryHarness;
  let tokens: { admin: string; contributor: string; viewer: string };
  let known: Record<string, string[]>;
  const knownQuery: Record<string, string[]> = { versions: ['1,2', '2,1'], model: ['fuzz'], tag: ['team', 'team:growth'], q: ['fuzz'] };

  beforeAll(async () => {
    suite = await startRegistry({ modules: [EvaluatorModule, ApprovalsModule, DeployerModule, WebhooksModule, ArchivalModule], env: { MRW_SQLITE_SYNCHRONOUS: 'NORMAL', MRW_EVALUATOR_THREADS: '1' } });
    tokens = {
      admin: suite.adminToken,
      contributor: await suite.token('fuzz-contributor', ['contributor']),
      viewer: await suite.token('fuzz-viewer', ['viewer']),
    };
    // Something to find, so requests also reach the code behind "not found".
    await suite.http('POST', '/api/v1/models', { body: { name: 'fuzz', tags: { team: 'growth' } } });
    await suite.http('POST', '/api/v1/models/fuzz/versions', { body: { source: 'https://models.example.com/fuzz.onnx' } });
    await suite.http('POST', '/api/v1/models/fuzz/versions', { body: { source: 'https://models.example.com/fuzz-2.onnx' } });
    await suite.http('PUT', '/api/v1/models/fuzz/aliases/champion', { body: { version: 1 } });
    await suite.http('PUT', '/api/v1/models/fuzz/versions/1/tags/team', { body: { value: 'growth' } });
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(FIXTURES, 'wine-holdout.csv'))]), 'holdout.csv');
    form.append('manifest', readFileSync(join(FIXTURES, 'wine-holdout.manifest.json'), 'utf8'));
    const set = await fetch(`${suite.baseUrl}/api/v1/evaluation-sets/fuzz-holdout/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.adminToken}` },
      body: form,
    });
    expect(set.status).toBe(201);
    // Tokens the fuzzer may revoke: never the three it sends.
    const victims = await Promise.all(
      ['victim-1', 'victim-2', 'victim-3'].map(async (subject) => (await suite.http('POST', '/api/v1/tokens', { body: { subject, roles: ['viewer'] } })).body.id as string),
    );
    known = {
      name: ['fuzz', 'fuzz-holdout', 'nope'],
      version: ['1', '2', '99'],
      key: ['team', 'absent'],
      alias: ['champion', 'challenger'],
      id: victims,
    };
  });

  afterAll(async () => {
    await suite.close();
  });

  it('answers thousands of generated requests with no 5xx, problem documents for every error and no append on refusal', async () => {
    const document = (await suite.http('GET', '/api/docs/openapi.json', { token: null })).body;
    const components: Record<string, Schema> = document.components.schemas;
    const operations: Operation[] = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => {
        const [type, media] = Object.entries((op.requestBody?.content ?? {}) as Record<string, { schema: Schema }>)[0] ?? [];
        return {
          method: method.toUpperCase(),
          path,
          parameters: (op.parameters ?? []) as Parameter[],
          body: type && media ? { type, schema: media.schema } : undefined,
          responses: op.responses,
        };
      }),
    );
    expect(operations.length).toBeGreaterThanOrEqual(20);

    const store = suite.app.get<EventStore>(EVENT_STORE);
    const failures: Failure[] = [];
    let sent = 0;
    const statuses: Record<string, Record<number, number>> = {};
    const started = Date.now();

    /**
     * Most requests are valid but in one place (the "focus"), so each kind of hostile input
     * is met on its own and valid requests get past validation into the handlers.
     */
    const requestFor = (op: Operation): fc.Arbitrary<Request> => {
      const pathParams = op.parameters.filter((p) => p.in === 'path');
      const queryParams = op.parameters.filter((p) => p.in === 'query');
      const schemaOf = (p: Parameter) => fromSchema(p.schema ?? { type: 'string' }, components);
      const knownOf = (p: Parameter) => fc.constantFrom(...(known[p.name]?.length ? (known[p.name] as string[]) : ['x']));
      const validSegment = (p: Parameter) => segment(fc.oneof({ weight: 4, arbitrary: knownOf(p) }, { weight: 1, arbitrary: schemaOf(p).map(String) }));
      const hostileSegment = (p: Parameter) =>
        fc.oneof({ weight: 1, arbitrary: validSegment(p) }, { weight: 2, arbitrary: segment(fc.oneof(hostileStrings, boundaryNumbers.map(String))) });
      const validQuery = (p: Parameter) =>
        fc.option(
          fc.oneof(...(knownQuery[p.name] ? [fc.constantFrom(...(knownQuery[p.name] as string[]))] : []), schemaOf(p).map(String)).map((v) => `${p.name}=${encode(v)}`),
          { freq: 2 },
        );
      const hostileQuery = (p: Parameter) =>
        fc.option(
          fc.oneof(
            { weight: 1, arbitrary: schemaOf(p).map((v) => `${p.name}=${encode(String(v))}`) },
            { weight: 3, arbitrary: fc.oneof(hostileStrings, boundaryNumbers.map(String)).map((v) => `${p.name}=${encode(v)}`) },
            { weight: 1, arbitrary: fc.constantFrom(`${p.name}=%FF`, `${p.name}=%`, `${p.name}=1&${p.name}=2`, `${p.name}[a]=1`, p.name) },
          ),
          { freq: 2 },
        );
      const extraQuery = fc.option(fc.constantFrom('unknown=1', '__proto__=1', 'constructor[prototype]=1', 'prototype=', '%FF=1'), { freq: 2 });
      // Admin may do everything, so valid requests reach the handlers; roles are the "auth" focus.
      const validToken = fc.constant(tokens.admin);
      const hostileToken = fc.constantFrom(tokens.contributor, tokens.viewer, '', 'not-a-token', `${tokens.admin}x`, 'Bearer');
      const validKey = fc.option(fc.oneof(fc.constantFrom('fuzz-key', 'fuzz-key-2'), fc.stringMatching(/^[A-Za-z0-9._:-]{1,200}$/)), { freq: 3 });
      const hostileKey = fc.constantFrom('a b', 'x'.repeat(300), '', 'ü', '../', 'key\t');
      const validBody: fc.Arbitrary<Request['body'] | { text: string; type: string } | undefined> = !op.body
        ? fc.constant(undefined)
        : op.body.type === 'multipart/form-data'
          ? multipartBody(op.body.schema, components, false)
          : fromSchema(op.body.schema, components).map((v) => ({ text: JSON.stringify(v), type: 'application/json' }));
      const hostileBody: typeof validBody = !op.body
        ? op.method === 'GET'
          ? fc.constant(undefined) // fetch sends no body with GET
          : fc.constantFrom(undefined, { text: '{"unexpected":true}', type: 'application/json' }, { text: 'x', type: 'text/plain' })
        : op.body.type === 'multipart/form-data'
          ? multipartBody(op.body.schema, components, true)
          : jsonBody(op.body.schema, components);
      const focuses = [
        { weight: 3, arbitrary: fc.constant('none') },
        ...(pathParams.length > 0 ? [{ weight: 2, arbitrary: fc.constant('path') }] : []),
        { weight: queryParams.length > 0 ? 2 : 1, arbitrary: fc.constant('query') },
        { weight: op.body ? 3 : 1, arbitrary: fc.constant('body') },
        { weight: 1, arbitrary: fc.constant('auth') },
      ];
      const pick = <T,>(focus: string, dimension: string, valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) => (focus === dimension ? hostile : valid);
      const arbitraries = fc.oneof(...focuses).chain((focus) =>
        fc.tuple(
          fc.tuple(...pathParams.map((p) => pick(focus, 'path', validSegment(p), hostileSegment(p)))),
          fc.tuple(fc.tuple(...queryParams.map((p) => pick(focus, 'query', validQuery(p), hostileQuery(p)))), focus === 'query' ? extraQuery : fc.constant(null)),
          pick(focus, 'auth', validToken, hostileToken),
          pick<string | null>(focus, 'auth', validKey, hostileKey),
          pick(focus, 'body', validBody, hostileBody),
        ),
      );
      return arbitraries.map(([segments, [query, extra], token, key, body]) => {
        let index = 0;
        const path = op.path.replace(/\{[^}]+\}/g, () => segments[index++] as string);
        const parts = [...query.filter((q): q is string => q !== null), ...(extra ? [extra] : [])];
        const headers: Record<string, string> = {};
        if (token) headers['authorization'] = `Bearer ${token}`;
        if (key !== null && /^[\x20-\x7e]*$/.test(key)) headers['idempotency-key'] = key;
        let payload: Request['body'];
        if (body instanceof FormData) payload = body;
        else if (body && typeof body === 'object' && 'text' in body) {
          headers['content-type'] = body.type;
          payload = body.text;
        }
        return {
          method: op.method,
          url: `${suite.baseUrl}${path}${parts.length ? `?${parts.join('&')}` : ''}`,
          headers,
          ...(payload !== undefined ? { body: payload } : {}),
        };
      });
    };

    const check = async (op: Operation, request: Request): Promise<string | undefined> => {
      const before = await store.headPosition();
      sent += 1;
      const connection = new AbortController();
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        signal: connection.signal,
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
      const status = response.status;
      const tally = (statuses[`${op.method} ${op.path}`] ??= {});
      tally[status] = (tally[status] ?? 0) + 1;
      const type = response.headers.get('content-type') ?? '';
      if (status < 300 && type.startsWith('text/event-stream')) {
        // A live stream never ends: its first bytes must be SSE, then the fuzzer hangs up.
        const first = await firstChunk(response);
        connection.abort();
        if (!op.responses[String(status)]?.content?.['text/event-stream']) return `${status} text/event-stream is not declared`;
        return /^(retry|id|event|data)?:/.test(first) ? undefined : `${status} text/event-stream that does not start as one: ${first.slice(0, 100)}`;
      }
      const text = await response.text();
      if (status >= 500) return `${status}: ${text.slice(0, 300)}`;
      if (!(String(status) in op.responses)) return `status ${status} is not declared (declared: ${Object.keys(op.responses).join(', ')}): ${text.slice(0, 200)}`;
      if (status >= 400) {
        let code: unknown;
        if (MLFLOW_PATH.test(op.path)) {
          // MLflow's wire (its clients read `{error_code, message}`), not problem documents.
          if (!type.startsWith('application/json')) return `${status} with content-type ${type}: ${text.slice(0, 200)}`;
          code = (JSON.parse(text) as { error_code?: unknown }).error_code;
        } else {
          if (!type.startsWith('application/problem+json')) return `${status} with content-type ${type}: ${text.slice(0, 200)}`;
          const problem = JSON.parse(text) as { code?: unknown; status?: unknown };
          if (problem.status !== status) return `problem status ${String(problem.status)} on a ${status} response`;
          code = problem.code;
        }
        if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(code)) return `${status} without a code: ${text.slice(0, 200)}`;
        const problem = { code };
        const appended = (await store.readAll({ after: before })).filter((e) => e.metadata.actor.kind !== 'service');
        if (appended.length > 0) return `refused with ${status} ${problem.code} but appended ${appended.map((e) => `${e.type} to ${e.streamName}`).join(', ')}`;
        return undefined;
      }
      const schema = op.responses[String(status)]?.content?.['application/json']?.schema;
      if (status !== 204 && schema) {
        if (!type.startsWith('application/json')) return `${status} with content-type ${type}`;
        const errors = conformance(resolve(schema, components), JSON.parse(text) as unknown, components, '$');
        if (errors.length > 0) return `${status} body does not match its schema: ${errors.slice(0, 3).join('; ')}`;
      }
      return undefined;
    };

    for (const op of operations) {
      const name = `${op.method} ${op.path}`;
      const result = await fc.check(
        fc.asyncProperty(requestFor(op), async (request) => {
          const problem = await check(op, request);
          if (problem) throw new Error(problem);
        }),
        { numRuns: RUNS_PER_OPERATION, seed: SEED, endOnFailure: true },
      );
      if (result.failed) {
        const [request] = result.counterexample ?? [];
        const shown = request ? `${request.method} ${request.url.replace(suite.baseUrl, '')} ${typeof request.body === 'string' ? request.body.slice(0, 200) : request.body ? '(multipart)' : ''}` : '?';
        failures.push({ operation: name, request: shown, problem: String((result.errorInstance as Error | undefined)?.message ?? 'failed') });
      }
    }

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`API fuzzing: ${sent} requests to ${operations.length} operations in ${seconds} s (seed ${SEED}), ${failures.length} failing operations`);
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify(statuses, null, 1));
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(Math.min(2_000, operations.length * RUNS_PER_OPERATION));
  });
});

/** The first bytes of a response body, as text (a live stream sends them at once, then never ends). */
const firstChunk = async (response: Response): Promise<string> => {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  return new TextDecoder().decode(value ?? new Uint8Array());
};

/** Multipart bodies: the declared parts with generated content, parts missing or extra, manifests of every shape. */
const multipartBody = (schema: Schema, components: Record<string, Schema>, hostile: boolean): fc.Arbitrary<FormData | { text: string; type: string }> => {
  const properties = resolve(schema, components).properties ?? {};
  if (!hostile) {
    const validManifest = readFileSync(join(FIXTURES, 'wine-holdout.manifest.json'), 'utf8');
    return fc.constantFrom('wine-holdout.csv', 'breast-cancer-holdout.csv').map((fixture) => {
      const data = new FormData();
      for (const [part, property] of Object.entries(properties)) {
        if (property.format === 'binary') data.append(part, new Blob([readFileSync(join(FIXTURES, fixture))]), fixture);
        else data.append(part, validManifest);
      }
      return data;
    });
  }
  const jsonPart = Object.values(properties).find((p) => p.$ref || p.type === 'object');
  const asJson = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((v) => JSON.stringify(v));
  const manifests = fc.oneof(
    ...(jsonPart
      ? [
          { weight: 3, arbitrary: asJson(fromSchema(jsonPart, components)) },
          { weight: 2, arbitrary: asJson(mutated(fromSchema(jsonPart, components))) },
        ]
      : []),
    {
      weight: 1,
      arbitrary: fc.constantFrom('{"task":"multiclass","label":"label"}', 'null', '5', '"x"', '[]', '{', '{"__proto__":{"a":1},"task":"binary","label":"y"}', `${'['.repeat(3000)}${']'.repeat(3000)}`),
    },
    { weight: 1, arbitrary: asJson(anyJson) },
    { weight: 1, arbitrary: hostileStrings },
  );
  const files = fc.oneof(
    fc.constant(readFileSync(join(FIXTURES, 'wine-holdout.csv'))),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.constantFrom(Buffer.from('a,b\n1,2\n'), Buffer.from('PAR1garbage'), Buffer.alloc(0)),
  );
  const form = fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constant(Object.keys(properties)) }, { weight: 1, arbitrary: fc.subarray(Object.keys(properties)) }),
      files,
      manifests,
      fc.option(fc.tuple(fc.constantFrom('note', 'file', 'extra[a][b]', '__proto__'), hostileStrings), { freq: 3 }),
    )
    .map(([parts, file, manifest, extra]) => {
      const data = new FormData();
      for (const part of parts) {
        if (properties[part]?.format === 'binary') data.append(part, new Blob([new Uint8Array(file)]), `${part}.bin`);
        else data.append(part, manifest);
      }
      if (extra) data.append(extra[0], extra[1]);
      return data;
    });
  return fc.oneof(
    { weight: 6, arbitrary: form },
    { weight: 1, arbitrary: fc.constantFrom({ text: '--x\r\nbroken', type: 'multipart/form-data; boundary=x' }, { text: '{"file":1}', type: 'application/json' }) },
  );
};

/** A small JSON Schema (OpenAPI 3.0 subset) check of a response body. */
const conformance = (schema: Schema, value: unknown, components: Record<string, Schema>, at: string): string[] => {
  const s = resolve(schema, components);
  if (value === null) return s.nullable || s.type === undefined ? [] : [`${at} is null`];
  if (s.enum && !s.enum.includes(value)) return [`${at} = ${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`];
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at} is not a string`];
      return s.pattern && !new RegExp(s.pattern).test(value) ? [`${at} does not match ${s.pattern}`] : [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at} is not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at} is not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} is not a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at} is not an array`];
      return s.items ? value.flatMap((item, i) => conformance(s.items as Schema, item, components, `${at}[${i}]`)) : [];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at} is not an object`];
      const record = value as Record<string, unknown>;
      const missing = (s.required ?? []).filter((k) => !(k in record)).map((k) => `${at}.${k} is missing`);
      const declared = Object.entries(s.properties ?? {}).flatMap(([k, sub]) => (k in record ? conformance(sub, record[k], components, `${at}.${k}`) : []));
      const extra =
        typeof s.additionalProperties === 'object'
          ? Object.entries(record)
              .filter(([k]) => !(k in (s.properties ?? {})))
              .flatMap(([k, v]) => conformance(s.additionalProperties as Schema, v, components, `${at}.${k}`))
          : [];
      return [...missing, ...declared, ...extra];
    }
    default:
      return [];
  }
};
