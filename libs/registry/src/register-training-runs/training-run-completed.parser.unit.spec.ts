import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { AuthPrincipal } from '@mrw/platform';
import {
  assertProducerMayRegister,
  paramTags,
  parseTrainingRunCompleted,
  producerOf,
  trainingRunProblems,
} from './training-run-completed.parser';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const valid = {
  type: 'TrainingRunCompleted',
  model: 'churn',
  runId: 'gha-8123456789-1',
  artifactDigest: DIGEST,
  metrics: { accuracy: 0.91 },
};

const message = (body: unknown, key: string | null = 'churn', headers: Record<string, string> = {}) => ({
  key,
  value: typeof body === 'string' ? body : JSON.stringify(body),
  headers,
});

const principal = (roles: AuthPrincipal['roles'], models: string[] = []): AuthPrincipal => ({
  tokenId: '6f1c2b9e-5a4d-4c3b-8e2f-1a0b9c8d7e6f',
  actor: { kind: 'service', id: 'ci-trainer' },
  roles,
  models,
});

describe('reading a TrainingRunCompleted message', () => {
  it('takes a valid event keyed by its model', () => {
    const event = { ...valid, source: 'https://models.example.com/churn.onnx', params: { C: 0.5 }, tags: { team: 'growth' }, requestStage: 'Staging' };
    expect(parseTrainingRunCompleted(message(event))).toEqual(event);
  });

  it.each([
    ['text that is not JSON', '{"type":', /^INVALID_EVENT: the event is not JSON/],
    ['an array', '[]', /^INVALID_EVENT: the event must be a JSON object$/],
    ['another type', { ...valid, type: 'TrainingRunStarted' }, /type must be "TrainingRunCompleted"/],
    ['no runId', { ...valid, runId: undefined }, /runId must be 1-256 letters/],
    ['a runId with a space', { ...valid, runId: 'run 1' }, /runId must be/],
    ['neither source nor digest', { ...valid, artifactDigest: undefined }, /source or artifactDigest is required/],
    ['an ftp source', { ...valid, source: 'ftp://models/x.onnx' }, /source must be an artifacts:\/\/, http\(s\):\/\/ or file:\/\/ URI/],
    ['a short digest', { ...valid, artifactDigest: 'sha256:abc' }, /artifactDigest must be sha256:<64 lowercase hex>/],
    ['no metrics', { ...valid, metrics: undefined }, /metrics is required/],
    ['a metric that is text', { ...valid, metrics: { accuracy: '0.9' } }, /metrics.accuracy must be numbers/],
    ['a tag named like a param', { ...valid, tags: { 'param.C': '1' } }, /tags names "param.C" must be/],
    ['a prototype key', { ...valid, tags: JSON.parse('{"__proto__": "x"}') }, /tags names "__proto__"/],
    ['Production asked for', { ...valid, requestStage: 'Production' }, /requestStage may only be "Staging"/],
    ['an unknown field', { ...valid, metric: { a: 1 } }, /unknown fields "metric"/],
  ])('refuses %s as INVALID_EVENT, naming the problem', (_, body, reason) => {
    expect(() => parseTrainingRunCompleted(message(body))).toThrow(reason);
  });

  it('names every problem at once', () => {
    expect(trainingRunProblems({ type: 'TrainingRunCompleted', model: '-x', metrics: [] })).toEqual([
      'model must be a model name (1-128 letters, digits, . _ -, starting with a letter or digit)',
      'runId must be 1-256 letters, digits or . _ : / @ + = -, starting with a letter or digit',
      'source or artifactDigest is required',
      'metrics must be an object',
    ]);
  });

  it('refuses a message whose key is not its model, so one model stays on one partition', () => {
    expect(() => parseTrainingRunCompleted(message(valid, 'fraud'))).toThrow('INVALID_EVENT: the message key must be the model name "churn"; it was "fraud"');
    expect(() => parseTrainingRunCompleted(message(valid, null))).toThrow(/it was missing/);
  });

  it("keeps params as tags param.<name>, values as text", () => {
    expect(paramTags({ C: 0.5, solver: 'lbfgs', warm_start: false })).toEqual({ 'param.C': '0.5', 'param.solver': 'lbfgs', 'param.warm_start': 'false' });
    expect(paramTags(undefined)).toEqual({});
  });
});

describe("a training event's producer", () => {
  const signed = message(valid, 'churn', { authorization: 'MRW-HMAC-SHA256 token=t, signature=s' });

  it('is the holder of the token that signed it, with the contributor role or admin', () => {
    expect(producerOf(signed, () => principal(['contributor'])).actor).toEqual({ kind: 'service', id: 'ci-trainer' });
    expect(producerOf(signed, () => principal(['admin'])).roles).toEqual(['admin']);
  });

  it('is refused when nobody signed, when a secret was sent, or without the contributor role', () => {
    expect(() => producerOf(message(valid), () => undefined)).toThrow(/^UNAUTHENTICATED: the event is not signed by a live token/);
    const bearer = message(valid, 'churn', { authorization: 'Bearer mrw_secret' });
    expect(() => producerOf(bearer, () => principal(['contributor']))).toThrow(/^UNAUTHENTICATED: a token secret was sent on the topic/);
    expect(() => producerOf(signed, () => principal(['viewer', 'reviewer']))).toThrow(
      "FORBIDDEN: registering a training run needs the contributor role; ci-trainer's token has viewer, reviewer",
    );
    expect(() => producerOf(signed, () => principal(['service']))).toThrow(/^FORBIDDEN/);
  });

  it('registers only models within its scope', () => {
    expect(() => assertProducerMayRegister(principal(['contributor'], ['churn']), 'churn')).not.toThrow();
    expect(() => assertProducerMayRegister(principal(['contributor']), 'fraud')).not.toThrow();
    expect(() => assertProducerMayRegister(principal(['contributor'], ['churn']), 'fraud')).toThrow(
      "FORBIDDEN: ci-trainer's token is limited to churn; it may not register versions of fraud",
    );
  });
});

describe('docs/schemas/training-run-completed.v1.json and the registry agree', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, '../../../../docs/schemas/training-run-completed.v1.json'), 'utf8'));
  const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);

  const samples: Array<[string, unknown]> = [
    ['the minimal event', valid],
    ['the example in the schema', schema.examples[0]],
    ['a source and a digest, description, empty metrics', { ...valid, source: 'artifacts://sha256/' + 'ab'.repeat(32), description: 'nightly', metrics: {} }],
    ['a source only', { type: 'TrainingRunCompleted', model: 'm.1', runId: 'r', source: 'file:///models/m.onnx', metrics: { a: 1, b: -2.5e-3 } }],
    ['params of every kind', { ...valid, params: { C: 1, solver: 'lbfgs', warm: true } }],
    ['a longest runId', { ...valid, runId: `r${'x'.repeat(255)}` }],
    ['a runId one too long', { ...valid, runId: `r${'x'.repeat(256)}` }],
    ['a runId of one odd character', { ...valid, runId: '+' }],
    ['no type', { ...valid, type: undefined }],
    ['neither source nor digest', { ...valid, artifactDigest: undefined }],
    ['an upper-case digest', { ...valid, artifactDigest: DIGEST.toUpperCase().replace('SHA256', 'sha256') }],
    // Lengths count code points, as JSON Schema does: each of these characters is two UTF-16 units.
    ['a longest source', { ...valid, source: `https://x/${'😀'.repeat(2038)}` }],
    ['a source one too long', { ...valid, source: `https://x/${'😀'.repeat(2039)}` }],
    ['a metric as text', { ...valid, metrics: { a: '1' } }],
    ['a metric name with a space', { ...valid, metrics: { 'a b': 1 } }],
    ['51 params', { ...valid, params: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, i])) }],
    ['50 tags', { ...valid, tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, 'v'])) }],
    ['a param that is an object', { ...valid, params: { grid: { a: 1 } } }],
    ['a param name too long for its tag', { ...valid, params: { ['p'.repeat(245)]: 1 } }],
    ['a constructor tag', { ...valid, tags: { constructor: 'x' } }],
    ['a tag named param.x', { ...valid, tags: { 'param.x': 'y' } }],
    ['a tag value too long', { ...valid, tags: { t: 'v'.repeat(5001) } }],
    ['requestStage Production', { ...valid, requestStage: 'Production' }],
    ['an extra field', { ...valid, version: 3 }],
    ['a description as a number', { ...valid, description: 7 }],
    ['an array', [valid]],
  ];

  it.each(samples)('%s', (_, sample) => {
    const body = JSON.parse(JSON.stringify(sample)) as unknown;
    const schemaSays = validate(body);
    expect({ valid: trainingRunProblems(body).length === 0 }).toEqual({ valid: schemaSays });
  });

  it('finds both verdicts among the samples', () => {
    const verdicts = new Set(samples.map(([, sample]) => validate(JSON.parse(JSON.stringify(sample)))));
    expect(verdicts).toEqual(new Set([true, false]));
  });
});
