import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchivalModule } from '@mrw/archival';
import { EvaluatorModule } from '@mrw/evaluator';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');

type Line = Record<string, any>;

/**
 * What an operator reads: the suite in embedded mode (registry, evaluator, archival) logging
 * at debug into a captured stream, driven through requests with tokens, a correlation id, a
 * refused request and an evaluation that travels events and commands. Every line must be a
 * JSON record with its request's or message's context, and no secret may appear anywhere.
 */
describe('operator logs', () => {
  let suite: RegistryHarness;
  let raw = '';
  const lines = (): Line[] =>
    raw
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Line);

  const secrets: string[] = [];
  const correlationId = randomUUID();

  beforeAll(async () => {
    suite = await startRegistry({
      modules: [EvaluatorModule, ArchivalModule],
      env: { MRW_EVALUATOR_THREADS: '1', MRW_LOG_LEVEL: 'debug' },
      logDestination: { write: (line: string) => void (raw += line) },
    });
    secrets.push(suite.adminToken);
  });

  afterAll(async () => {
    await suite?.close();
  });

  const multipart = async (path: string, token: string, parts: Record<string, Blob | string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(parts)) form.append(name, value, ...(typeof value === 'string' ? [] : [name]));
    const response = await fetch(`${suite.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    return { status: response.status, body: (await response.json()) as any };
  };
  const file = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);

  it('logs a request, a refusal and an evaluation as JSON lines with their context, and no secret', async () => {
    const carol = await suite.token('carol', ['contributor']);
    secrets.push(carol);
    const forged = `forged-${randomUUID()}`;
    secrets.push(forged);

    // Set-up as the admin; the rest as carol, under one correlation id.
    await suite.http('POST', '/api/v1/models', { body: { name: 'cancer' } });
    const manifest = readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8');
    const set = await multipart('/api/v1/evaluation-sets/bc-holdout/versions', suite.adminToken, { file: file('breast-cancer-holdout.csv'), manifest });
    expect(set.status).toBe(201);
    await suite.http('PUT', '/api/v1/models/cancer/policy', { body: { evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 } } } } });

    const headers = { 'x-correlation-id': correlationId };
    const refused = await suite.http('GET', '/api/v1/models/cancer', { token: forged, headers });
    expect(refused.status).toBe(401);
    const missing = await suite.http('GET', '/api/v1/models/no-such-model', { token: carol, headers });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-correlation-id')).toBe(correlationId);
    const artifact = await multipart('/api/v1/artifacts', carol, { file: file('breast-cancer-logreg.onnx') });
    const version = await suite.http('POST', '/api/v1/models/cancer/versions', { token: carol, headers, body: { source: artifact.body.uri } });
    expect(version.status).toBe(201);
    const staged = await suite.http('POST', '/api/v1/models/cancer/versions/1/transitions', {
      token: carol,
      headers,
      body: { toStage: 'Staging' },
    });
    expect(staged.status).toBe(202);
    expect(staged.headers.get('x-correlation-id')).toBe(correlationId);

    await eventually(
      async () => {
        const state = await suite.http('GET', '/api/v1/models/cancer/versions/1');
        return state.body.evaluations?.[0]?.status === 'completed' ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the evaluation of cancer@1' },
    );
    // The last lines of the flow: archival's reaction to the transition, and the result's command handled.
    await eventually(async () =>
      lines().some((l) => l['context'] === 'archival') &&
      lines().some((l) => l['commandType'] === 'RecordEvaluationResult' && l['msg']?.startsWith('handled'))
        ? true
        : undefined,
    );
    // A request without a (valid) correlation id gets a fresh one, echoed back.
    const fresh = await suite.http('GET', '/api/v1/models', { token: carol, headers: { 'x-correlation-id': 'not-a-uuid' } });
    const freshId = fresh.headers.get('x-correlation-id');
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    expect(freshId).not.toBe('not-a-uuid');

    const all = lines(); // throws if any line is not JSON
    for (const line of all) {
      expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String), service: 'registry', msg: expect.any(String) });
    }
    expect(all.filter((l) => l['level'] === 'error' || l['level'] === 'fatal')).toEqual([]);

    // Access lines: one per request, with the request's context.
    const access = all.filter((l) => l['context'] === 'http' && 'method' in l);
    for (const line of access) {
      expect(line['route'] === null || typeof line['route'] === 'string').toBe(true);
      expect(line).toEqual(
        expect.objectContaining({
          correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          method: expect.any(String),
          status: expect.any(Number),
          durationMs: expect.any(Number),
        }),
      );
    }
    const ours = access.filter((l) => l['correlationId'] === correlationId);
    expect(ours.map((l) => [l['method'], l['route'], l['status']])).toEqual([
      ['GET', '/api/v1/models/:name', 401],
      ['GET', '/api/v1/models/:name', 404],
      ['POST', '/api/v1/models/:name/versions', 201],
      ['POST', '/api/v1/models/:name/versions/:version/transitions', 202],
    ]);
    expect(ours[2]).toMatchObject({ actor: 'user:carol', path: '/api/v1/models/cancer/versions' });
    expect(access.some((l) => l['correlationId'] === freshId)).toBe(true);
    // A request sent without one gets a fresh id, and the events it appends carry that same id.
    const created = access.find((l) => l['method'] === 'POST' && l['route'] === '/api/v1/models');
    const createdHandled = all.find((l) => l['eventType'] === 'ModelCreated' && l['context'] === 'messaging');
    expect(createdHandled?.['correlationId']).toBe(created?.['correlationId']);

    // Lines written while handling an event or a command carry its context.
    const handling = all.filter((l) => ['evaluator', 'archival', 'messaging', 'service-commands'].includes(l['context']));
    expect(handling.length).toBeGreaterThan(0);
    for (const line of handling) {
      expect(line).toEqual(
        expect.objectContaining({
          correlationId: expect.any(String),
          stream: expect.any(String),
        }),
      );
      expect(line).toHaveProperty('causationId'); // null for the first event of a request
      expect([typeof line['causationId'], typeof (line['eventType'] ?? line['commandType'])]).toEqual([
        line['causationId'] === null ? 'object' : 'string',
        'string',
      ]);
    }
    const evaluating = all.find((l) => l['context'] === 'evaluator' && String(l['msg']).startsWith('evaluating'));
    expect(evaluating).toMatchObject({ correlationId, eventType: 'EvaluationRequested', stream: 'modelVersion-cancer@1', group: 'mrw-evaluator' });
    const archival = all.find((l) => l['context'] === 'archival' && l['eventType'] === 'StageTransitioned');
    expect(archival).toMatchObject({ correlationId, eventType: 'StageTransitioned', stream: 'modelVersion-cancer@1', causationId: null });
    const result = all.find((l) => l['commandType'] === 'RecordEvaluationResult');
    expect(result).toMatchObject({
      correlationId,
      causationId: evaluating?.['eventId'],
      stream: 'modelVersion-cancer@1',
      group: 'mrw-registry',
    });
    expect(result).not.toHaveProperty('eventType');

    // No token, of the admin, of carol or forged, anywhere in the raw output.
    for (const secret of secrets) expect(raw).not.toContain(secret);
  });
});
