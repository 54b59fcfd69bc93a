import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { followRegistryEvents } from '@mrw/client';
import { reachable } from './reachable';
import { line, ms, percentile, section } from './report';
import { distributedEnv, SuiteProcess } from './suite-process';

// From dist/tools/bench when built, from tools/bench when run as TypeScript.
const FIXTURES = join(__dirname, extname(__filename) === '.ts' ? '../..' : '../../..', 'libs/evaluator/fixtures');
const TOKEN = 'bench-admin-token-0123456789abcdef';

/** A multipart body of named parts (a file part when a filename is given). */
const multipart = (parts: ReadonlyArray<{ name: string; filename?: string; bytes: Buffer }>): { contentType: string; bytes: Buffer } => {
  const boundary = `----mrw-bench-${randomUUID()}`;
  const chunks = parts.flatMap(({ name, filename, bytes }) => [
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n` +
        `content-type: ${filename ? 'application/octet-stream' : 'application/json'}\r\n\r\n`,
    ),
    bytes,
    Buffer.from('\r\n'),
  ]);
  return { contentType: `multipart/form-data; boundary=${boundary}`, bytes: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]) };
};

/** The evaluator's own work so far (seconds, summed over evaluations), from its Prometheus histogram. */
const evaluatorWork = async (suite: SuiteProcess): Promise<number> => {
  const text = (await suite.call('GET', '/metrics')).body;
  const found = /^mrw_evaluation_work_seconds_sum\{outcome="measured"\} (\S+)$/m.exec(text);
  return found ? Number(found[1]) : 0;
};

/** Where the registry's API and the evaluator's answer: one process embedded, two over Kafka. */
interface Deployment {
  readonly registry: SuiteProcess;
  readonly evaluator: SuiteProcess;
  stop(): Promise<void>;
}

/**
 * `rounds` promotions to Staging one after the other: from the request to the moment the live
 * event stream shows `EvaluationCompleted`. The evaluator's own work on each one (set and models
 * loaded, both scored, metrics measured: its `mrw_evaluation_work_seconds`) is subtracted, which
 * leaves what the workflow adds: the registry deciding and appending, the event reaching the
 * evaluator, its result coming back as a command, the registry recording it, the stream telling.
 */
const measure = async (label: string, deployment: Deployment, rounds: number): Promise<void> => {
  const { registry, evaluator } = deployment;
  const stop = new AbortController();
  try {
    const set = multipart([
      { name: 'file', filename: 'breast-cancer-holdout.csv', bytes: readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv')) },
      { name: 'manifest', bytes: readFileSync(join(FIXTURES, 'breast-cancer-holdout.manifest.json')) },
    ]);
    const uploadedSet = await evaluator.call('POST', '/api/v1/evaluation-sets/bc-holdout/versions', undefined, TOKEN, set);
    if (uploadedSet.status !== 201) throw new Error(`evaluation set upload: ${uploadedSet.status} ${uploadedSet.body}`);
    await registry.json('POST', '/api/v1/models', 201, { name: 'timed' });
    await registry.json('PUT', '/api/v1/models/timed/policy', 200, { evaluation: { set: 'bc-holdout', thresholds: { accuracy: { threshold: 0.5 } } } });
    const source = await registry.upload('breast-cancer-logreg.onnx', readFileSync(join(FIXTURES, 'breast-cancer-logreg.onnx')));

    // Every completed evaluation, by version, the moment the live stream delivers it.
    const completed = new Map<number, () => void>();
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const following = (async () => {
      const url = `http://127.0.0.1:${registry.port}`;
      for await (const event of followRegistryEvents({ url, token: TOKEN, model: 'timed', signal: stop.signal, onOpen: () => opened() })) {
        if (event.type === 'EvaluationCompleted' || event.type === 'EvaluationFailed') completed.get(event.entry.version ?? -1)?.();
      }
    })().catch((error: unknown) => {
      if (!stop.signal.aborted) throw error;
    });

    await open;
    const endToEnd: number[] = [];
    const overhead: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const { version } = await registry.json<{ version: number }>('POST', '/api/v1/models/timed/versions', 201, { source });
      const seen = new Promise<void>((resolve) => completed.set(version, resolve));
      const workBefore = await evaluatorWork(evaluator);
      const start = performance.now();
      await registry.json('POST', `/api/v1/models/timed/versions/${version}/transitions`, 202, { toStage: 'Staging' });
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error(`v${version}: no evaluation within 60 s`)), 60_000))]);
      const elapsed = performance.now() - start;
      const work = ((await evaluatorWork(evaluator)) - workBefore) * 1_000;
      // Round 0 warms up (first model load, the stream's first delivery, Kafka groups settling).
      if (round === 0) continue;
      endToEnd.push(elapsed);
      overhead.push(elapsed - work);
    }
    stop.abort();
    await following;
    const sortedEnd = [...endToEnd].sort((a, b) => a - b);
    const sortedOverhead = [...overhead].sort((a, b) => a - b);
    line(`${label}: request → EvaluationCompleted seen`, `p50 ${ms(percentile(sortedEnd, 50))}  p99 ${ms(percentile(sortedEnd, 99))}`);
    line(`${label}: minus the evaluator's own work`, `p50 ${ms(percentile(sortedOverhead, 50))}  p99 ${ms(percentile(sortedOverhead, 99))}  (${rounds} promotions)`);
  } finally {
    stop.abort();
    await deployment.stop();
  }
};

/** The workflow's own latency around an evaluation, embedded and over Kafka (issue 16's target: p99 < 50 ms / < 250 ms). */
export const benchWorkflowOverhead = async (dir: string, rounds = 50): Promise<void> => {
  section(`Workflow overhead: Staging request → evaluation recorded (${rounds} promotions one after another, 171-row set, logistic regression)`);
  const suite = await SuiteProcess.start(join(dir, 'workflow-embedded'), TOKEN, { MRW_EVALUATOR_THREADS: '1' });
  await measure('embedded (the suite)', { registry: suite, evaluator: suite, stop: () => suite.stop() }, rounds);
  const brokers = process.env['KAFKA_BROKERS']?.split(',')[0] ?? '127.0.0.1:9092';
  if (!(await reachable(brokers))) {
    line('Kafka', `SKIPPED: no broker at ${brokers} (npm run infra:up, or set KAFKA_BROKERS)`);
    return;
  }
  // Distributed mode: the registry and the evaluator in processes of their own, on one broker,
  // sharing the event store file and the artifacts folder (a volume). The evaluator signs its
  // commands with its service token, seeded into the registry as an operator would.
  const shared = join(dir, 'workflow-kafka');
  await mkdir(shared, { recursive: true });
  const serviceToken = randomBytes(32).toString('base64url');
  const seeds = join(shared, 'seed-tokens.json');
  await writeFile(seeds, JSON.stringify([{ subject: 'evaluator', kind: 'service', roles: ['service'], token: serviceToken }]), { mode: 0o600 });
  const common = { ...distributedEnv(brokers, shared), MRW_SQLITE_FILE: join(shared, 'events.sqlite'), MRW_EVALUATOR_THREADS: '1' };
  const registry = await SuiteProcess.start(shared, TOKEN, { ...common, MRW_SEED_TOKENS_FILE: seeds }, 'registry');
  const evaluator = await SuiteProcess.start(shared, TOKEN, { ...common, MRW_SERVICE_TOKEN: serviceToken }, 'evaluator').catch(async (error: unknown) => {
    await registry.stop();
    throw error;
  });
  await measure('Kafka (registry and evaluator processes)', { registry, evaluator, stop: async () => void (await Promise.all([evaluator.stop(), registry.stop()])) }, rounds);
};
