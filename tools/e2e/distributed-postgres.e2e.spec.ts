import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@mrw/approvals/testing';
import { PUBLISHED_STREAM_PREFIXES, SERVICE_NAMES } from '@mrw/contracts';
import { PostgresEventStore, verifyChain } from '@mrw/event-store';
import { describeWithPostgres, dropTestSchema, uniqueSchema } from '@mrw/event-store/testing';
import { describeWithKafka, eventually, uniqueNamespace } from '@mrw/messaging/testing';
import { freePort, ServiceProcess } from './service-process';
import { callApi, consumerReceipts, FIXTURES, seedServiceTokens, uploadTo, type ApiAnswer } from './suite-processes';

const ADMIN = 'e2e-postgres-admin-token-0123456789abcdef';
const SECRET_KEY = randomBytes(32).toString('base64url');
const DEPLOY_SECRET_ENV = 'MRW_E2E_CD_SECRET';
const DEPLOY_SECRET = 'whsec_Y2QtcmVjZWl2ZXItc2VjcmV0';
/** The second replica dies, like `kill -9`, the first time it is about to publish a DeploymentRequested (only ever as the leader). */
const CRASH_AT = 'forwarder:before-publish:DeploymentRequested';

/**
 * Distributed mode on PostgreSQL: two registry replicas (`a`, `b`: separate processes and data
 * directories, sharing only the artifacts volume and the database) and the evaluator,
 * approvals, archival and deployer, over a real Kafka broker and a real PostgreSQL server, in
 * a schema of their own. Each run's directory (one log per process) stays in the temp dir for
 * inspection after a failure.
 */
class ReplicatedSuite {
  readonly registries: ServiceProcess[] = [];
  readonly services: ServiceProcess[] = [];
  readonly namespace = uniqueNamespace();
  readonly schema = uniqueSchema();
  /** The test's own view of the log: what any process of the suite reads. */
  log!: PostgresEventStore;

  constructor(
    private readonly brokers: string,
    private readonly postgresUrl: string,
    readonly dir: string,
  ) {}

  private env(name: string, label: string, seeds: { tokens: Record<string, string>; file: string }): Record<string, string> {
    return {
      ...(name === 'registry' ? { MRW_SEED_TOKENS_FILE: seeds.file } : { MRW_SERVICE_TOKEN: seeds.tokens[name] as string }),
      MRW_STORE: 'postgres',
      MRW_POSTGRES_URL: this.postgresUrl,
      MRW_POSTGRES_SCHEMA: this.schema,
      MRW_BUS: 'kafka',
      KAFKA_BROKERS: this.brokers,
      KAFKA_NAMESPACE: this.namespace,
      // The one volume the registry replicas share, with the evaluator: uploaded models.
      MRW_ARTIFACTS_DIR: join(this.dir, 'artifacts'),
      MRW_DATA_DIR: join(this.dir, label),
      MRW_ADMIN_TOKEN: ADMIN,
      MRW_SECRET_KEY: SECRET_KEY,
      // The webhook and CD receivers run on loopback.
      MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
      [DEPLOY_SECRET_ENV]: DEPLOY_SECRET,
      MRW_EVALUATOR_THREADS: '1',
      MRW_LOG_LEVEL: 'info',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
  }

  /** `a` first, so it leads; then `b` (armed to crash as a leader) and the four services. */
  async start(): Promise<void> {
    const seeds = await seedServiceTokens(this.dir);
    for (const label of ['a', 'b']) {
      this.registries.push(new ServiceProcess('registry', await freePort(), this.env('registry', `registry-${label}`, seeds), this.dir, `registry-${label}`));
    }
    await this.a.start();
    await this.a.ready();
    await this.b.start({ MRW_CRASH_AT: CRASH_AT });
    for (const name of SERVICE_NAMES) this.services.push(new ServiceProcess(name, await freePort(), this.env(name, name, seeds), this.dir));
    await Promise.all(this.services.map((s) => s.start()));
    await Promise.all([this.b, ...this.services].map((s) => s.ready()));
    this.log = await PostgresEventStore.open({ connectionString: this.postgresUrl, schema: this.schema, poolSize: 2 });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.registries, ...this.services].map((p) => p.stop()));
    await this.log?.close();
    await dropTestSchema(this.postgresUrl, this.schema);
  }

  get a(): ServiceProcess {
    return this.registries[0] as ServiceProcess;
  }

  get b(): ServiceProcess {
    return this.registries[1] as ServiceProcess;
  }

  service(name: string): ServiceProcess {
    return this.services.find((s) => s.name === name) as ServiceProcess;
  }

  api(replica: ServiceProcess, method: string, path: string, body?: unknown, token = ADMIN): Promise<ApiAnswer> {
    return callApi(replica.url, method, path, body, token);
  }

  /** What a replica's `/readyz` says of the lease. */
  async lease(replica: ServiceProcess): Promise<string | undefined> {
    const report = (await (await fetch(`${replica.url}/readyz`)).json()) as { checks: Array<{ name: string; detail?: string }> };
    return report.checks.find((c) => c.name === 'leadership')?.detail;
  }

  /** Events published to Kafka by both replicas' forwarders together, since they started. */
  async forwarded(): Promise<number> {
    const counts = await Promise.all(this.registries.map((r) => r.metric('mrw_events_forwarded_total')));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Events of the log that are published (the forwarders' filter). */
  async publishable(): Promise<number> {
    return (await this.log.readAll({ filter: { streamPrefixes: PUBLISHED_STREAM_PREFIXES } })).length;
  }
}

const fixture = (name: string): Blob => new Blob([readFileSync(join(FIXTURES, name))]);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('distributed mode on PostgreSQL: two registry replicas', (brokers) => {
  describeWithPostgres('two registry replicas and four services over Kafka, one PostgreSQL store', (postgresUrl) => {
    let suite: ReplicatedSuite;
    let hooks: HttpReceiver;
    let cd: HttpReceiver;
    let carol: string;
    let rita: string;
    let webhookId: string;

    beforeAll(async () => {
      hooks = await startHttpReceiver((_request, res) => res.writeHead(204).end());
      cd = await startHttpReceiver((_request, res) => res.writeHead(202).end());
      suite = new ReplicatedSuite(brokers.join(','), postgresUrl, await mkdtemp(join(tmpdir(), 'mrw-distributed-postgres-')));
      await suite.start();
      // Issued through one replica, used at once through the other: a replica reads the log's
      // newest tokens before refusing one it does not know.
      carol = (await suite.api(suite.a, 'POST', '/tokens', { subject: 'carol', roles: ['contributor'] })).body.token;
      rita = (await suite.api(suite.a, 'POST', '/tokens', { subject: 'rita', roles: ['reviewer'] })).body.token;
      expect((await suite.api(suite.b, 'GET', '/models', undefined, carol)).status).toBe(200);
      const webhook = await suite.api(suite.b, 'POST', '/webhooks', { url: `${hooks.base}/registry`, events: ['MODEL_VERSION_TRANSITIONED_STAGE'] });
      expect(webhook.status).toBe(201);
      webhookId = webhook.body.id;
    });

    afterAll(async () => {
      await suite?.stop();
      await hooks?.close();
      await cd?.close();
    });

    const hookIds = (requests: readonly ReceivedRequest[] = hooks.received): string[] => requests.map((r) => r.headers['webhook-id'] as string);

    it('leads with one replica: the other stands by, ready, and every event reaches Kafka once', async () => {
      expect(await suite.lease(suite.a)).toMatch(/^leader of registry: runs (log-forwarder, webhook-deliveries|webhook-deliveries, log-forwarder)$/);
      expect(await suite.lease(suite.b)).toBe('standby: another registry process holds the lease');
      const before = await consumerReceipts(suite.services, 'ModelVersionRegistered');
      expect((await suite.api(suite.b, 'POST', '/models', { name: 'fanout' })).status).toBe(201);
      expect((await suite.api(suite.b, 'POST', '/models/fanout/versions', { source: 'https://models.example.com/fanout.onnx' })).status).toBe(201);
      await eventually(async () => (await consumerReceipts(suite.services, 'ModelVersionRegistered')).every((n, i) => n === (before[i] ?? 0) + 1), {
        what: 'the registration in mrw-evaluator, mrw-approvals, mrw-archival and mrw-deployer',
      });
      // Both forwarders together have published the log exactly once (two forwarders: twice).
      await eventually(async () => (await suite.forwarded()) === (await suite.publishable()), { what: 'the published events counted once' });
      expect(await consumerReceipts(suite.services, 'ModelVersionRegistered')).toEqual(before.map((n) => n + 1));
    });

    it('keeps every stream consistent under concurrent commands on both replicas', async () => {
      expect((await suite.api(suite.a, 'POST', '/models', { name: 'churn' }, carol)).status).toBe(201);
      const register = (i: number) =>
        suite.api(i % 2 === 0 ? suite.a : suite.b, 'POST', '/models/churn/versions', { source: `https://models.example.com/churn-${i}.onnx` }, carol);
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => register(i)));
      expect(first.map((r) => r.status)).toEqual(Array(20).fill(201));
      expect(first.map((r) => r.body.version as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

      // Ten more registrations while every one of the first twenty is sent to Staging through both replicas at once.
      const toStaging = (replica: ServiceProcess, v: number) => suite.api(replica, 'POST', `/models/churn/versions/${v}/transitions`, { toStage: 'Staging' }, carol);
      const [more, transitions] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, (_, i) => register(20 + i))),
        Promise.all(Array.from({ length: 20 }, (_, i) => Promise.all([toStaging(suite.a, i + 1), toStaging(suite.b, i + 1)]))),
      ]);
      expect(more.map((r) => r.status)).toEqual(Array(10).fill(201));
      // One of each pair moved the version; the other found it there already.
      for (const pair of transitions) expect(pair.map((r) => r.status).sort()).toEqual([202, 409]);
      for (const pair of transitions) expect(pair.find((r) => r.status === 409)?.body.code).toBe('ALREADY_IN_STAGE');

      // Version numbers 1..30, each reserved once, in order, on the model's stream.
      const reservations = (await suite.log.readStream('model-churn')).filter((e) => e.type === 'ModelVersionNumberReserved');
      expect(reservations.map((e) => (e.data as { version: number }).version)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(verifyChain(await suite.log.readStream('model-churn'))).toMatchObject({ valid: true });
      for (let v = 1; v <= 30; v += 1) {
        const replica = v % 2 === 0 ? suite.a : suite.b;
        const verdict = await suite.api(replica, 'GET', `/models/churn/versions/${v}/audit/verify`, undefined, carol);
        expect(verdict.body).toMatchObject({ stream: `modelVersion-churn@${v}`, valid: true });
        const events = await suite.log.readStream(`modelVersion-churn@${v}`);
        expect(events.filter((e) => e.type === 'StageTransitioned')).toHaveLength(v <= 20 ? 1 : 0);
      }
      // Either replica answers with every write acknowledged before the request, whichever replica took it.
      const listed = async (replica: ServiceProcess) =>
        ((await suite.api(replica, 'GET', '/models/churn/versions?limit=100', undefined, carol)).body.items as Array<{ version: number; stage: string }>)
          .map((v) => `${v.version}:${v.stage}`)
          .sort();
      const expected = Array.from({ length: 30 }, (_, i) => `${i + 1}:${i < 20 ? 'Staging' : 'None'}`).sort();
      expect(await listed(suite.a)).toEqual(expected);
      expect(await listed(suite.b)).toEqual(expected);

      // Each transition reached the webhook once, from the leader, and each replica shows the same history.
      const stagingMessages = () => hooks.received.filter((r) => (JSON.parse(r.body) as { model_name: string }).model_name === 'churn');
      await eventually(async () => stagingMessages().length >= 20, { what: "20 webhook messages of churn's transitions" });
      await eventually(async () => (await suite.api(suite.a, 'GET', `/webhooks/${webhookId}/deliveries?status=delivered&limit=1`)).body.total >= 20, {
        what: 'the deliveries settled',
      });
      expect(new Set(hookIds(stagingMessages())).size).toBe(20);
      expect(stagingMessages().length).toBe(20);
      const histories = await Promise.all(suite.registries.map((r) => suite.api(r, 'GET', `/webhooks/${webhookId}/deliveries?limit=100`)));
      expect(histories[1]!.body).toEqual(histories[0]!.body);
      expect(histories[0]!.body.items.map((d: { webhookId: string }) => d.webhookId).sort()).toEqual(hookIds().sort());
    });

    it('runs a whole promotion with each request sent to either replica: evaluation, approval, deployment', async () => {
      const set = await uploadTo(suite.service('evaluator').url, '/evaluation-sets/bc-holdout/versions', {
        file: fixture('breast-cancer-holdout.csv'),
        manifest: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json'), 'utf8'),
      }, ADMIN);
      expect(set.status).toBe(201);
      expect((await suite.api(suite.b, 'POST', '/models', { name: 'bc' }, carol)).status).toBe(201);
      const policy = await suite.api(suite.a, 'PUT', '/models/bc/policy', {
        evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.9 } } },
        approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
        deployment: { targets: [{ kind: 'webhook', environment: 'production', settings: { url: `${cd.base}/deploy`, secretEnv: DEPLOY_SECRET_ENV } }] },
      });
      expect(policy.status).toBe(200);
      const artifact = await uploadTo(suite.a.url, '/artifacts', { file: fixture('breast-cancer-logreg.onnx') }, carol);
      expect(artifact.status).toBe(201);
      expect((await suite.api(suite.b, 'POST', '/models/bc/versions', { source: artifact.body.uri }, carol)).status).toBe(201);
      expect((await suite.api(suite.a, 'POST', '/models/bc/versions/1/transitions', { toStage: 'Staging' }, carol)).status).toBe(202);

      const evaluation = await eventually(
        async () => {
          const last = (await suite.api(suite.b, 'GET', '/models/bc/versions/1', undefined, carol)).body.evaluations?.[0];
          return last && last.status !== 'running' ? last : undefined;
        },
        { timeoutMs: 60_000, what: 'the evaluator recording its result' },
      );
      expect(evaluation).toMatchObject({ status: 'completed', set: { name: 'bc-holdout', digest: set.body.digest }, verdict: { passed: true } });

      const requested = await suite.api(suite.b, 'POST', '/models/bc/versions/1/transitions', { toStage: 'Production' }, carol);
      expect(requested.body.request).toMatchObject({ status: 'awaiting-approval', approvalId: expect.any(String) });
      const approved = await suite.api(suite.a, 'POST', `/approvals/${requested.body.request.approvalId}/approve`, { comment: 'accuracy holds' }, rita);
      expect(approved.status).toBe(200);

      const [trigger] = await cd.waitFor(1);
      const { data } = JSON.parse(trigger!.body) as { data: { model: string; version: number; callbackUrl: string } };
      expect([data.model, data.version]).toEqual(['bc', 1]);
      const callback = new URL(data.callbackUrl);
      const reported = await fetch(`${suite.service('deployer').url}${callback.pathname}${callback.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'succeeded' }),
      });
      expect(reported.status).toBe(202);
      for (const replica of suite.registries) {
        await eventually(async () => (await suite.api(replica, 'GET', '/models/bc', undefined, carol)).body.servingVersion === 1, { what: `bc v1 serving, says ${replica.label}` });
        expect((await suite.api(replica, 'GET', '/models/bc/versions/1', undefined, carol)).body.stage).toBe('Production');
      }
      expect(cd.received.filter((r) => r.url === '/deploy')).toHaveLength(1);
    });

    it("serves through either replica what one replica's MLflow artifact proxy took", async () => {
      const path = '3/run-x/artifacts/model/model.onnx';
      const bytes = Buffer.from('onnx bytes logged through a');
      const put = await fetch(`${suite.a.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(put.status).toBe(200);
      const artifacts = `/api/2.0/mlflow-artifacts/artifacts`;
      for (const replica of suite.registries) {
        const listed = await fetch(`${replica.url}${artifacts}?path=${encodeURIComponent('3/run-x/artifacts/model')}`, { headers: { authorization: `Bearer ${carol}` } });
        expect({ replica: replica.label, body: await listed.json() }).toEqual({
          replica: replica.label,
          body: { files: [{ path: 'model.onnx', is_dir: false, file_size: bytes.length }] },
        });
        const got = await fetch(`${replica.url}${artifacts}/${path}`, { headers: { authorization: `Bearer ${carol}` } });
        expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
      }
    });

    it('loses nothing when the leading replica is killed mid-flow: the other completes it, and the killed one catches up after its restart', async () => {
      expect((await suite.api(suite.a, 'POST', '/models', { name: 'failover' }, carol)).status).toBe(201);
      await suite.api(suite.b, 'PUT', '/models/failover/policy', {
        approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
        deployment: { targets: [{ kind: 'webhook', environment: 'production', settings: { url: `${cd.base}/deploy`, secretEnv: DEPLOY_SECRET_ENV } }] },
      });
      expect((await suite.api(suite.a, 'POST', '/models/failover/versions', { source: 'https://models.example.com/failover.onnx', artifactDigest: `sha256:${'f'.repeat(64)}` }, carol)).status).toBe(201);
      expect((await suite.api(suite.b, 'POST', '/models/failover/versions/1/transitions', { toStage: 'Staging' }, carol)).status).toBe(202);
      const failoverMessages = () => hooks.received.filter((r) => (JSON.parse(r.body) as { model_name: string }).model_name === 'failover');
      await eventually(async () => failoverMessages().length === 1, { what: "failover's move to Staging at the webhook" });

      // What the webhook has had so far, once every delivery is settled: after two handovers, none of it comes again.
      await eventually(async () => (await suite.api(suite.a, 'GET', `/webhooks/${webhookId}/deliveries?status=pending&limit=1`)).body.total === 0, {
        what: 'no webhook delivery pending',
      });
      const delivered = hookIds();
      expect(new Set(delivered).size).toBe(delivered.length);

      // A rolling restart of a: b takes the lease over (armed to crash as a leader), a comes back as the standby.
      await suite.a.stop();
      await eventually(async () => (await suite.lease(suite.b))?.startsWith('leader of registry'), { what: 'b leading' });
      await suite.a.start();
      await suite.a.ready();
      expect(await suite.lease(suite.a)).toBe('standby: another registry process holds the lease');
      const requested = await suite.api(suite.a, 'POST', '/models/failover/versions/1/transitions', { toStage: 'Production' }, carol);
      expect(requested.body.request.status).toBe('awaiting-approval');

      // Approved through b (the request for it went through a), which appends the deployment request and dies before publishing it.
      const approving = suite.api(suite.b, 'POST', `/approvals/${requested.body.request.approvalId}/approve`, {}, rita).catch(() => undefined);
      const died = await Promise.race([suite.b.waitForExit(), approving.then(async (answer) => (await delay(10_000), answer))]);
      expect(died).toBe('SIGKILL');
      await eventually(async () => (await suite.lease(suite.a))?.startsWith('leader of registry'), { what: 'a leading after b died' });

      // a publishes what b could not: the deployer triggers the pipeline, which reports success.
      const trigger = await eventually(
        async () => cd.received.find((r) => (JSON.parse(r.body) as { data: { model: string } }).data.model === 'failover'),
        { timeoutMs: 60_000, what: "failover's deployment triggered" },
      );
      const callback = new URL((JSON.parse(trigger.body) as { data: { callbackUrl: string } }).data.callbackUrl);
      const reported = await fetch(`${suite.service('deployer').url}${callback.pathname}${callback.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'succeeded' }),
      });
      expect(reported.status).toBe(202);
      await eventually(async () => (await suite.api(suite.a, 'GET', '/models/failover', undefined, carol)).body.servingVersion === 1, {
        timeoutMs: 60_000,
        what: 'failover v1 serving after the failover',
      });
      const audit = (await suite.api(suite.a, 'GET', '/models/failover/versions/1/audit', undefined, carol)).body.events as Array<{ type: string }>;
      expect(audit.filter((e) => e.type === 'ApprovalGranted')).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'DeploymentRequested')).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'DeploymentSucceeded')).toHaveLength(1);
      expect(cd.received.filter((r) => (JSON.parse(r.body) as { data: { model: string } }).data.model === 'failover')).toHaveLength(1);

      // The webhook went on from where the shared cursor stood: nothing delivered before the handovers came again.
      await eventually(async () => new Set(hookIds(failoverMessages())).size === 2, { what: "failover's two transitions at the webhook" });
      expect(hookIds().filter((id) => delivered.includes(id))).toEqual(delivered);

      // b comes back and catches up: its read model says what a's says.
      await suite.b.start();
      await suite.b.ready();
      expect(await suite.lease(suite.b)).toBe('standby: another registry process holds the lease');
      for (const path of ['/models/failover', '/models/failover/versions/1', '/models/churn/versions?limit=100']) {
        const [onA, onB] = await Promise.all(suite.registries.map((r) => suite.api(r, 'GET', path, undefined, carol)));
        expect(onB!.body).toEqual(onA!.body);
      }
    });
  });
});
