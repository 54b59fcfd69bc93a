import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import { HEADERS, SERVICE_NAMES, TOPICS } from '@mrw/contracts';
import { adminFor, describeWithKafka, eventually, uniqueNamespace } from '@mrw/messaging/testing';
import { ServerSecrets, signedCommandAuthorization } from '@mrw/platform';
import { freePort, ServiceProcess } from './service-process';
import { callApi, consumerCounts, consumerReceipts, FIXTURES, seedServiceTokens, uploadTo, type ApiAnswer } from './suite-processes';

const ADMIN = 'e2e-admin-token-0123456789abcdef';
/** Every process of one suite verifies tokens with the same server secret. */
const SECRET_KEY = randomBytes(32).toString('base64url');
const run = promisify(execFile);
const KAFKA_SCRIPT = resolve(__dirname, '../kafka/kafka.sh');

/**
 * The five services as separate processes on one broker, sharing one SQLite event store
 * file. Each run's directory (data and one log per process) is left in the temp dir for
 * inspection after a failure.
 */
class Deployment {
  registry!: ServiceProcess;
  services: ServiceProcess[] = [];
  readonly namespace = uniqueNamespace();

  constructor(
    private readonly brokers: string,
    readonly dir: string,
  ) {}

  /** Each service's own token, seeded into the registry from a file as an operator would (MRW_SEED_TOKENS_FILE). */
  serviceTokens: Record<string, string> = {};

  env(name: string): Record<string, string> {
    return {
      ...(name === 'registry' ? { MRW_SEED_TOKENS_FILE: join(this.dir, 'seed-tokens.json') } : { MRW_SERVICE_TOKEN: this.serviceTokens[name] as string }),
      // Uploaded models live where the registry stores them and the evaluator reads them (a shared volume).
      MRW_ARTIFACTS_DIR: join(this.dir, 'artifacts'),
      MRW_EVALUATOR_THREADS: '1',
      MRW_BUS: 'kafka',
      MRW_STORE: 'sqlite',
      KAFKA_BROKERS: this.brokers,
      KAFKA_NAMESPACE: this.namespace,
      MRW_SQLITE_FILE: join(this.dir, 'events.sqlite'),
      MRW_DATA_DIR: join(this.dir, name),
      MRW_ADMIN_TOKEN: ADMIN,
      MRW_SECRET_KEY: SECRET_KEY,
      MRW_LOG_LEVEL: 'info',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
  }

  async start(): Promise<void> {
    this.serviceTokens = (await seedServiceTokens(this.dir)).tokens;
    this.registry = new ServiceProcess('registry', await freePort(), this.env('registry'), this.dir);
    await this.registry.start();
    await this.registry.ready();
    for (const name of SERVICE_NAMES) {
      this.services.push(new ServiceProcess(name, await freePort(), this.env(name), this.dir));
    }
    await Promise.all(this.services.map(async (s) => (await s.start(), await s.ready())));
  }

  async stop(): Promise<void> {
    await Promise.all([this.registry, ...this.services].map((p) => p?.stop()));
  }

  async restartRegistry(extraEnv: Record<string, string> = {}): Promise<void> {
    await this.registry.stop();
    await this.registry.start(extraEnv);
    await this.registry.ready();
  }

  /** A multipart upload to one service (in distributed mode each path prefix is served by its owner). */
  upload(service: ServiceProcess, path: string, parts: Record<string, Blob | string>): Promise<ApiAnswer> {
    return uploadTo(service.url, path, parts, ADMIN);
  }

  service(name: string): ServiceProcess {
    const found = this.services.find((s) => s.name === name);
    if (!found) throw new Error(`no ${name} process`);
    return found;
  }

  api(method: string, path: string, body?: unknown, token = ADMIN): Promise<ApiAnswer> {
    return callApi(this.registry.url, method, path, body, token);
  }

  /** How many `type` events each of the four consumer groups reports with this outcome. */
  counts(type: string, outcome = 'handled'): Promise<number[]> {
    return consumerCounts(this.services, type, outcome);
  }

  /** How many `type` events each group received, whatever it did with them (see consumerReceipts). */
  received(type: string): Promise<number[]> {
    return consumerReceipts(this.services, type);
  }

  async sendCommand(value: string, headers: Record<string, string>, key: string): Promise<void> {
    const producer = adminFor(this.brokers.split(',')).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({ topic: `${this.namespace}${TOPICS.commands}`, acks: -1, messages: [{ key, value, headers }] });
    } finally {
      await producer.disconnect();
    }
  }

  async deadLetters(topic: string, count: number): Promise<Array<{ value: string; headers: Record<string, string> }>> {
    const consumer = adminFor(this.brokers.split(',')).consumer({ groupId: `dlq-reader-${randomUUID()}` });
    const letters: Array<{ value: string; headers: Record<string, string> }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: `${this.namespace}${topic}.dlq`, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          letters.push({
            value: message.value?.toString() ?? '',
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
        },
      });
      await eventually(async () => letters.length >= count, { timeoutMs: 30_000, what: `${count} dead letters` });
    } finally {
      await consumer.disconnect();
    }
    return letters;
  }
}

const version = (model: string) => ({ source: `https://models.example.com/${model}.onnx` });

/** How a suite service signs a command it sends over Kafka (it never sends its secret). */
const signed = (token: { id: string; token: string }, value: string): string =>
  signedCommandAuthorization(new ServerSecrets(SECRET_KEY), token.id, token.token, value);

describeWithKafka('distributed mode: five processes over a real Kafka broker', (brokers) => {
  let suite: Deployment;

  beforeAll(async () => {
    suite = new Deployment(brokers.join(','), await mkdtemp(join(tmpdir(), 'mrw-distributed-')));
    await suite.start();
  });

  afterAll(async () => {
    await suite?.stop();
  });

  it('delivers a version registered over HTTP to all four consumer groups', async () => {
    const before = await suite.received('ModelVersionRegistered');
    expect((await suite.api('POST', '/models', { name: 'fanout' })).status).toBe(201);
    expect((await suite.api('POST', '/models/fanout/versions', version('fanout'))).status).toBe(201);
    const after = await eventually(
      async () => {
        const now = await suite.received('ModelVersionRegistered');
        return now.every((n, i) => n === (before[i] ?? 0) + 1) && now;
      },
      { what: 'ModelVersionRegistered in mrw-evaluator, mrw-approvals, mrw-archival and mrw-deployer' },
    );
    expect(after).toEqual(before.map((n) => n + 1));
  });

  it('serves the ops console from the registry process, whose live stream carries the events', async () => {
    const page = await fetch(`${suite.registry.url}/`, { headers: { accept: 'text/html' } });
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('<div id="app">');
    // The stream opens from the head: a version registered now arrives on it.
    const abort = new AbortController();
    const stream = await fetch(`${suite.registry.url}/api/v1/events/stream?model=console-live`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: abort.signal });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    const arrived = (async () => {
      while (!seen.includes('event: ModelVersionRegistered')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
    })();
    expect((await suite.api('POST', '/models', { name: 'console-live' })).status).toBe(201);
    expect((await suite.api('POST', '/models/console-live/versions', version('console-live'))).status).toBe(201);
    await arrived;
    abort.abort();
    expect(seen).toContain('event: ModelVersionRegistered');
  });

  it('evaluates a version in the separate evaluator process, over Kafka, with its seeded service token', async () => {
    const fixture = (name: string) => new Blob([readFileSync(join(FIXTURES, name))]);
    const set = await suite.upload(suite.service('evaluator'), '/evaluation-sets/bc-holdout/versions', {
      file: fixture('breast-cancer-holdout.csv'),
      manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
    });
    expect(set.status).toBe(201);
    expect((await suite.api('POST', '/models', { name: 'bc' })).status).toBe(201);
    await suite.api('PUT', '/models/bc/policy', { evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 } } } });
    const artifact = await suite.upload(suite.registry, '/artifacts', { file: fixture('breast-cancer-logreg.onnx') });
    expect((await suite.api('POST', '/models/bc/versions', { source: artifact.body.uri })).status).toBe(201);
    expect((await suite.api('POST', '/models/bc/versions/1/transitions', { toStage: 'Staging' })).status).toBe(202);

    const evaluation = await eventually(
      async () => {
        const state = await suite.api('GET', '/models/bc/versions/1');
        const last = state.body.evaluations?.[0];
        return last && last.status !== 'running' ? last : undefined;
      },
      { timeoutMs: 60_000, what: 'the evaluator process recording its result' },
    );
    expect(evaluation).toMatchObject({ status: 'completed', set: { name: 'bc-holdout', digest: set.body.digest }, verdict: { passed: true } });
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.9);
    const audit = await suite.api('GET', '/models/bc/versions/1/audit');
    const completed = audit.body.events.filter((e: { type: string }) => e.type === 'EvaluationCompleted');
    expect(completed).toHaveLength(1);
    expect(completed[0].actor).toEqual({ kind: 'service', id: 'evaluator' });
    // The service token signed the commands; its secret never reached a log of the suite.
    for (const name of ['registry', ...SERVICE_NAMES]) {
      const log = await readFile(join(suite.dir, `${name}.log`), 'utf8');
      expect(log).not.toContain(suite.serviceTokens['evaluator']);
    }
  });

  // Hand-made commands check the wire protocol (signatures, duplicates, poison); they archive
  // versions, which nothing else in this suite does to them.
  const archive = (model: string, detail: string) =>
    JSON.stringify({ commandId: randomUUID(), type: 'ArchiveModelVersion', model, version: 1, data: { rule: 'staleAfter', detail } });

  it("appends a service's command from Kafka as that service, once, however often it is delivered", async () => {
    await suite.api('POST', '/models', { name: 'stale' });
    await suite.api('POST', '/models/stale/versions', version('stale'));
    const archival = await suite.api('POST', '/tokens', { subject: 'archival', kind: 'service', roles: ['service'] });
    const command = archive('stale', 'left in None for P90D');
    const headers = { [HEADERS.authorization]: signed(archival.body, command) };
    await suite.sendCommand(command, headers, 'modelVersion-stale@1');
    await suite.sendCommand(command, headers, 'modelVersion-stale@1');
    await eventually(
      async () =>
        (await suite.registry.metric('mrw_consumer_messages_total', { group: 'mrw-registry', type: 'ArchiveModelVersion', outcome: 'handled' })) === 2,
      { what: 'the registry consuming both deliveries' },
    );
    const audit = await suite.api('GET', '/models/stale/versions/1/audit');
    const archived = audit.body.events.filter((e: { type: string; data: { toStage?: string } }) => e.type === 'StageTransitioned' && e.data.toStage === 'Archived');
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({ actor: { kind: 'service', id: 'archival' } });
    expect((await suite.api('GET', '/models/stale/versions/1')).body.stage).toBe('Archived');
  });

  it('dead-letters poison, unsigned, bearer-carrying and refused commands with their reasons, and the partition keeps flowing', async () => {
    for (const name of ['poisoned', 'refusing']) {
      await suite.api('POST', '/models', { name });
      await suite.api('POST', `/models/${name}/versions`, version(name));
    }
    const archival = await suite.api('POST', '/tokens', { subject: 'archival', kind: 'service', roles: ['service'] });
    const key = 'modelVersion-poisoned@1';
    const poison = '{"type": "ArchiveModelVersion", "data": ';
    await suite.sendCommand(poison, { [HEADERS.authorization]: signed(archival.body, poison) }, key);
    await suite.sendCommand(archive('poisoned', 'unsigned'), {}, key);
    await suite.sendCommand(archive('poisoned', 'bearer'), { [HEADERS.authorization]: `Bearer ${archival.body.token}` }, key);
    const refusedOnce = archive('refusing', 'first');
    await suite.sendCommand(refusedOnce, { [HEADERS.authorization]: signed(archival.body, refusedOnce) }, 'modelVersion-refusing@1');
    const refusedTwice = archive('refusing', 'already archived');
    await suite.sendCommand(refusedTwice, { [HEADERS.authorization]: signed(archival.body, refusedTwice) }, 'modelVersion-refusing@1');
    const valid = archive('poisoned', 'valid');
    await suite.sendCommand(valid, { [HEADERS.authorization]: signed(archival.body, valid) }, key);

    await eventually(async () => (await suite.api('GET', '/models/poisoned/versions/1')).body.stage === 'Archived', {
      what: 'the valid command after the poison ones',
    });
    const letters = await suite.deadLetters(TOPICS.commands, 4);
    const reasons = letters.map((l) => l.headers[HEADERS.dlqReason]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PoisonMessageError: command is not JSON/),
        'PoisonMessageError: unauthenticated: the command is not signed by a live service token',
        expect.stringMatching(/^PoisonMessageError: refused: the service token itself was sent/),
        expect.stringMatching(/^PoisonMessageError: refused: ALREADY_IN_STAGE/),
      ]),
    );
    expect(letters.every((l) => l.headers[HEADERS.dlqGroup] === 'mrw-registry')).toBe(true);
    // A secret sent by mistake does not live on in the DLQ.
    expect(JSON.stringify(letters)).not.toContain(archival.body.token);

    // The registry indexes the Kafka DLQ into the log; an admin sees the letters and can redrive them.
    const listed = await eventually(
      async () => {
        const open = await suite.api('GET', '/dead-letters?group=mrw-registry');
        return open.body.total >= 4 && open.body;
      },
      { what: 'the DLQ indexed for admins' },
    );
    const refused = listed.items.find((l: { reason: string }) => l.reason.includes('ALREADY_IN_STAGE'));
    expect(refused).toMatchObject({ topic: TOPICS.commands, type: 'ArchiveModelVersion', key: 'modelVersion-refusing@1' });
  });

  it('redrives a dead-lettered command over Kafka once its cause is fixed, and it is recorded once', async () => {
    await suite.api('POST', '/models', { name: 'early' });
    const archival = await suite.api('POST', '/tokens', { subject: 'archival', kind: 'service', roles: ['service'] });
    // Sent before the version exists: refused, dead-lettered, indexed.
    const command = archive('early', 'arrived before its version');
    await suite.sendCommand(command, { [HEADERS.authorization]: signed(archival.body, command) }, 'modelVersion-early@1');
    const letter = await eventually(
      async () => (await suite.api('GET', '/dead-letters')).body.items.find((l: { key: string }) => l.key === 'modelVersion-early@1'),
      { what: "early's dead letter indexed" },
    );
    expect(letter.reason).toMatch(/VERSION_NOT_FOUND/);
    await suite.api('POST', '/models/early/versions', version('early'));
    const redriven = await suite.api('POST', `/dead-letters/${letter.id}/redrive`);
    expect(redriven.status).toBe(202);
    await eventually(async () => (await suite.api('GET', '/models/early/versions/1')).body.stage === 'Archived', {
      what: 'the redriven command archiving early@1',
    });
    const audit = await suite.api('GET', '/models/early/versions/1/audit');
    expect(audit.body.events.filter((e: { data: { toStage?: string } }) => e.data.toStage === 'Archived')).toHaveLength(1);
    expect((await suite.api('GET', '/dead-letters?status=redriven')).body.items.map((l: { id: string }) => l.id)).toContain(letter.id);
  });

  it.each([
    ['before', 'never published: it is published once after the restart'],
    ['after', 'published but not checkpointed: it is published again and every group skips the duplicate'],
  ])('kill -9 of the registry %s publishing an event loses nothing (%s)', async (point) => {
    const model = `crash-${point}`;
    await suite.restartRegistry({ MRW_CRASH_AT: `forwarder:${point}-publish:ModelVersionRegistered` });
    const received = await suite.received('ModelVersionRegistered');
    const handled = await suite.counts('ModelVersionRegistered');
    const duplicates = await suite.counts('ModelVersionRegistered', 'duplicate');
    expect((await suite.api('POST', '/models', { name: model })).status).toBe(201);
    // The process may die before or after answering: the append is durable either way.
    await suite.api('POST', `/models/${model}/versions`, version(model)).catch(() => undefined);
    expect(await suite.registry.waitForExit()).toBe('SIGKILL');

    await suite.restartRegistry();
    expect((await suite.api('GET', `/models/${model}/versions/1`)).status).toBe(200);
    // Published once, or twice when the kill came after publishing: every group receives each copy.
    const copies = point === 'after' ? 2 : 1;
    await eventually(async () => JSON.stringify(await suite.received('ModelVersionRegistered')) === JSON.stringify(received.map((n) => n + copies)), {
      what: `every group receiving ${model}'s registration ${copies === 1 ? 'once' : 'twice'}`,
    });
    // A group that acts on it (archival) acts once and skips the second copy; the others have nothing to do.
    const now = await suite.counts('ModelVersionRegistered');
    const nowDuplicates = await suite.counts('ModelVersionRegistered', 'duplicate');
    const acted = now.map((n, i) => n - (handled[i] ?? 0));
    expect(acted.every((n) => n <= 1) && acted.some((n) => n === 1)).toBe(true);
    expect(nowDuplicates.map((n, i) => n - (duplicates[i] ?? 0))).toEqual(acted.map((n) => (point === 'after' ? n : 0)));
  });
});

const localBroker = existsSync(resolve(__dirname, '../kafka/.cache/libs.stamp'));
const RESTART_SKIP = 'SKIPPED: needs the local broker script with its jars fetched (run `npm run infra:up` once)';
if (!localBroker) console.warn(`broker restart test — ${RESTART_SKIP}`);

(localBroker ? describe : describe.skip)(
  localBroker ? 'distributed mode across a Kafka broker restart' : `distributed mode across a Kafka broker restart — ${RESTART_SKIP}`,
  () => {
    const port = '19092';
    const kafka = (...args: string[]) =>
      run('bash', [KAFKA_SCRIPT, ...args], { env: { ...process.env, KAFKA_PORT: port }, timeout: 120_000 });
    let suite: Deployment;

    beforeAll(async () => {
      await kafka('up');
      suite = new Deployment(`127.0.0.1:${port}`, await mkdtemp(join(tmpdir(), 'mrw-restart-')));
      await suite.start();
    });

    afterAll(async () => {
      await suite?.stop();
      // With its data: a broker that keeps every run's groups and topics takes longer to come
      // back at each restart, and this test restarts it.
      await kafka('down', '--purge');
    });

    it('loses nothing while the broker is down, and every service reconnects by itself', async () => {
      await suite.api('POST', '/models', { name: 'outage' });
      await suite.api('POST', '/models/outage/versions', version('outage'));
      await eventually(async () => (await suite.received('ModelVersionRegistered')).every((n) => n === 1), {
        what: 'the first version everywhere',
      });

      await kafka('down');
      // The registry keeps accepting work: the log is the outbox.
      for (let i = 0; i < 3; i += 1) {
        expect((await suite.api('POST', '/models/outage/versions', version(`outage-${i}`))).status).toBe(201);
      }
      await kafka('up');

      await eventually(async () => (await suite.received('ModelVersionRegistered')).every((n) => n === 4), {
        timeoutMs: 120_000,
        what: 'all four versions in every consumer group after the broker came back',
      });
      expect(await suite.received('ModelVersionRegistered')).toEqual([4, 4, 4, 4]);
    });
  },
);
