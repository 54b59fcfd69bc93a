import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import { TOPICS } from '@mrw/contracts';
import { MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { adminFor, describeWithKafka, eventually, uniqueNamespace } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

const GROUP = 'mrw-registry-training-events';
const REPO = resolve(__dirname, '../../../..');

interface SigningKey {
  readonly tokenId: string;
  readonly signingKey: string;
}

/** What a producer does with nothing but its token: fetch its signing key over HTTP. */
const signingKeyOf = async (registry: RegistryHarness, token: string): Promise<SigningKey> => {
  const response = await registry.http('GET', '/api/v1/tokens/self/signing-key', { token });
  expect([response.status, response.headers.get('cache-control')]).toEqual([200, 'no-store']);
  return response.body as SigningKey;
};

/** The `authorization` header of a message, signed as a producer outside the suite signs it (plain HMAC, no server secret). */
const signed = (key: SigningKey, value: string): Record<string, string> => ({
  authorization: `MRW-HMAC-SHA256 token=${key.tokenId}, signature=${createHmac('sha256', Buffer.from(key.signingKey, 'base64url')).update(value).digest('base64url')}`,
});

const uploadArtifact = async (registry: RegistryHarness, bytes: Buffer): Promise<string> => {
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'model.onnx');
  const response = await fetch(`${registry.baseUrl}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${registry.adminToken}` }, body: form });
  expect(response.status).toBe(201);
  return ((await response.json()) as { digest: string }).digest;
};

const run = (runId: string, digest: string, extra: Record<string, unknown> = {}) => ({
  type: 'TrainingRunCompleted',
  model: 'churn',
  runId,
  artifactDigest: digest,
  metrics: { accuracy: 0.91, roc_auc: 0.95 },
  params: { C: 0.5, solver: 'lbfgs' },
  tags: { git_sha: '3f2c1ab' },
  requestStage: 'Staging',
  ...extra,
});

/** The model `churn` with an evaluation policy, so Staging requests an evaluation; an uploaded artifact; a producer token. */
const prepare = async (registry: RegistryHarness) => {
  await registry.http('POST', '/api/v1/models', { body: { name: 'churn' } });
  await registry.http('PUT', '/api/v1/models/churn/policy', { body: { evaluation: { set: 'holdout', thresholds: { accuracy: { threshold: 0.8 } } } } });
  const digest = await uploadArtifact(registry, randomBytes(64));
  const issued = await registry.http('POST', '/api/v1/tokens', { body: { subject: 'ci-trainer', kind: 'service', roles: ['contributor'], models: ['churn'] } });
  return { digest, producerToken: issued.body.token as string, producer: await signingKeyOf(registry, issued.body.token) };
};

const versionsOf = async (registry: RegistryHarness, model: string): Promise<number> => (await registry.http('GET', `/api/v1/models/${model}/versions`)).body.total;

describe('training events in embedded mode', () => {
  let registry: RegistryHarness;

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry.close();
  });

  it('registers a signed run once through the in-process bus, and dead-letters an unsigned one', async () => {
    const { digest, producer } = await prepare(registry);
    const bus = registry.app.get<MessageBus>(MESSAGE_BUS);
    const value = JSON.stringify(run('nb-1', digest));
    // The embedded bus hands the message to the registry and resolves once it is handled.
    await bus.publish(TOPICS.trainingEvents, [{ key: 'churn', value, headers: signed(producer, value) }]);
    await bus.publish(TOPICS.trainingEvents, [{ key: 'churn', value, headers: signed(producer, value) }]);
    await bus.publish(TOPICS.trainingEvents, [{ key: 'churn', value, headers: {} }]);

    expect(await versionsOf(registry, 'churn')).toBe(1);
    const version = await registry.http('GET', '/api/v1/models/churn/versions/1');
    expect(version.body).toMatchObject({ stage: 'Staging', runId: 'nb-1', registeredBy: { kind: 'service', id: 'ci-trainer' } });
    const letters = await registry.http('GET', `/api/v1/dead-letters?group=${GROUP}`);
    expect(letters.body.items.map((l: { reason: string }) => l.reason)).toEqual([expect.stringMatching(/^PoisonMessageError: UNAUTHENTICATED: the event is not signed/)]);
  });
});

describeWithKafka('training events over Kafka (mrw.training.events.v1)', (brokers) => {
  const namespace = uniqueNamespace();
  const kafka = adminFor(brokers);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let registry: RegistryHarness;

  const publish = async (key: string, value: string, headers: Record<string, string>): Promise<void> => {
    await producer.send({ topic: `${namespace}${TOPICS.trainingEvents}`, acks: -1, messages: [{ key, value, headers }] });
  };

  /** The training group's dead letters, once there are `count`. */
  const deadLetters = (count: number) =>
    eventually(
      async () => {
        const listed = await registry.http('GET', `/api/v1/dead-letters?group=${GROUP}&status=all`);
        return listed.body.total >= count ? (listed.body.items as Array<{ id: string; reason: string; key: string; topic: string }>) : undefined;
      },
      { timeoutMs: 60_000, what: `${count} dead letters of ${GROUP}` },
    );

  beforeAll(async () => {
    registry = await startRegistry({
      env: { MRW_BUS: 'kafka', KAFKA_BROKERS: brokers.join(','), KAFKA_NAMESPACE: namespace, MRW_SECRET_KEY: randomBytes(32).toString('base64url') },
    });
    // Every consumer group (the training events' and the DLQ indexer's) has joined.
    await eventually(async () => (await registry.http('GET', '/readyz', { token: null })).status === 200, { timeoutMs: 60_000, what: 'a ready registry' });
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await registry?.close();
  });

  it('registers a run once, requests Staging as the producer, and dead-letters malformed, reused and unauthorised events with their reasons', async () => {
    const { digest, producer: key } = await prepare(registry);

    // A signed run: v1 is registered and Staging requested, with the producer as the actor.
    const first = JSON.stringify(run('gha-100-1', digest));
    await publish('churn', first, { ...signed(key, first), 'correlation-id': randomUUID() });
    const v1 = await eventually(
      async () => {
        const response = await registry.http('GET', '/api/v1/models/churn/versions/1');
        return response.status === 200 && response.body.evaluations.length > 0 ? response.body : undefined;
      },
      { timeoutMs: 60_000, what: 'v1 of churn in Staging' },
    );
    expect(v1).toMatchObject({
      stage: 'Staging',
      runId: 'gha-100-1',
      digest,
      source: `artifacts://sha256/${digest.slice('sha256:'.length)}`,
      metrics: { accuracy: 0.91, roc_auc: 0.95 },
      tags: { git_sha: '3f2c1ab', 'param.C': '0.5', 'param.solver': 'lbfgs' },
      registeredBy: { kind: 'service', id: 'ci-trainer' },
      evaluations: [expect.objectContaining({ status: 'running', set: expect.objectContaining({ name: 'holdout' }) })],
    });
    const audit = (await registry.http('GET', '/api/v1/models/churn/versions/1/audit')).body.events as Array<{ type: string; actor: unknown }>;
    expect(audit.map((e) => e.type)).toEqual(expect.arrayContaining(['ModelVersionRegistered', 'StageTransitionRequested', 'EvaluationRequested']));
    expect(audit.map((e) => e.actor)).toEqual(audit.map(() => ({ kind: 'service', id: 'ci-trainer' })));

    // The same run again (a redelivery, and the same content re-published with its keys in another order) …
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(first)).reverse()));
    await publish('churn', first, signed(key, first));
    await publish('churn', reordered, signed(key, reordered));
    // … then, on the same partition (key churn), the same runId with other metrics, and malformed events.
    const reused = JSON.stringify(run('gha-100-1', digest, { metrics: { accuracy: 0.99 } }));
    await publish('churn', reused, signed(key, reused));
    const noMetrics = JSON.stringify(run('gha-100-2', digest, { metrics: undefined }));
    await publish('churn', noMetrics, signed(key, noMetrics));
    await publish('churn', '{"type": "TrainingRunCompleted", ', signed(key, '{"type": "TrainingRunCompleted", '));

    // Unauthorised: unsigned, a bearer secret, a token without the contributor role, a token scoped to another model.
    const next = JSON.stringify(run('gha-100-3', digest));
    await publish('churn', next, {});
    await publish('churn', next, { authorization: `Bearer ${registry.adminToken}` });
    const viewer = await signingKeyOf(registry, await registry.token('vera', ['viewer', 'reviewer']));
    await publish('churn', next, signed(viewer, next));
    const fraudOnly = await signingKeyOf(registry, await registry.token('fraud-ci', ['contributor'], ['fraud']));
    await publish('churn', next, signed(fraudOnly, next));
    // A model the registry does not know.
    const unscoped = await signingKeyOf(registry, await registry.token('platform', ['contributor']));
    const ghost = JSON.stringify({ ...run('gha-7', digest), model: 'ghost' });
    await publish('ghost', ghost, signed(unscoped, ghost));

    const letters = await deadLetters(8);
    // The churn letters leave their partition in order: a letter for a duplicate would have come before these.
    expect(letters).toHaveLength(8);
    expect(letters.map((l) => [l.key, l.reason.replace(/^PoisonMessageError: /, '')])).toEqual(
      expect.arrayContaining([
        ['churn', expect.stringMatching(/^RUN_ID_REUSED: run gha-100-1 of churn: this runId was already registered/)],
        ['churn', 'INVALID_EVENT: metrics is required (an object; it may be empty)'],
        ['churn', expect.stringMatching(/^INVALID_EVENT: the event is not JSON/)],
        ['churn', expect.stringMatching(/^UNAUTHENTICATED: the event is not signed by a live token/)],
        ['churn', expect.stringMatching(/^UNAUTHENTICATED: a token secret was sent on the topic/)],
        ['churn', "FORBIDDEN: registering a training run needs the contributor role; vera's token has viewer, reviewer"],
        ['churn', "FORBIDDEN: fraud-ci's token is limited to fraud; it may not register versions of churn"],
        ['ghost', 'MODEL_NOT_FOUND: run gha-7 of ghost: model ghost does not exist'],
      ]),
    );
    expect(letters.every((l) => l.topic === TOPICS.trainingEvents)).toBe(true);
    // The bearer secret is not kept in the DLQ.
    const bearerLetter = letters.find((l) => l.reason.includes('token secret was sent')) as { id: string };
    const detail = await registry.http('GET', `/api/v1/dead-letters/${bearerLetter.id}`);
    expect(detail.body.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(detail.body)).not.toContain(registry.adminToken);

    // Everything before the last letter on the partition was handled: still one version, and v1 unchanged.
    expect(await versionsOf(registry, 'churn')).toBe(1);
    const after = (await registry.http('GET', '/api/v1/models/churn/versions/1/audit')).body.events;
    expect(after).toHaveLength(audit.length);

    // Once its cause is fixed, a letter is redriven and the run registered, as its producer.
    const ghostLetter = letters.find((l) => l.key === 'ghost') as { id: string };
    await registry.http('POST', '/api/v1/models', { body: { name: 'ghost' } });
    expect((await registry.http('POST', `/api/v1/dead-letters/${ghostLetter.id}/redrive`)).status).toBe(202);
    const redriven = await eventually(
      async () => {
        const response = await registry.http('GET', '/api/v1/models/ghost/versions/1');
        // Registered, then moved to Staging by the same event: wait for both.
        return response.status === 200 && response.body.stage !== 'None' ? response.body : undefined;
      },
      { timeoutMs: 60_000, what: 'v1 of ghost after the redrive, requested for Staging' },
    );
    expect(redriven).toMatchObject({ runId: 'gha-7', stage: 'Staging', registeredBy: { kind: 'user', id: 'platform' } });
  });

  it('the documented producer example publishes a run that the registry registers', async () => {
    const token = await registry.token('example-trainer', ['contributor'], ['churn']);
    const bytes = randomBytes(32);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    expect(await uploadArtifact(registry, bytes)).toBe(digest);
    const file = join(registry.dataDir, 'run.json');
    await writeFile(file, JSON.stringify({ type: 'TrainingRunCompleted', model: 'churn', runId: 'example-1', artifactDigest: digest, metrics: { accuracy: 0.88 } }));
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'examples/training-events/publish-training-run.mjs'), file], {
      cwd: REPO,
      env: { ...process.env, MRW_URL: registry.baseUrl, MRW_TOKEN: token, KAFKA_BROKERS: brokers.join(','), MRW_TRAINING_TOPIC: `${namespace}${TOPICS.trainingEvents}` },
    });
    expect(stdout).toContain('published run example-1 of churn');
    const registered = await eventually(
      async () => {
        const list = await registry.http('GET', '/api/v1/models/churn/versions');
        return list.body.items.find((v: { digest: string | null }) => v.digest === digest);
      },
      { timeoutMs: 60_000, what: 'the example run registered' },
    );
    expect(registered).toMatchObject({ stage: 'None' });
    const version = await registry.http('GET', `/api/v1/models/churn/versions/${registered.version}`);
    expect(version.body).toMatchObject({ runId: 'example-1', registeredBy: { kind: 'user', id: 'example-trainer' } });
  });
});
