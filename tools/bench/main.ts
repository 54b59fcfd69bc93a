import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApprovalToServing } from './approval-to-serving.bench';
import { benchBus } from './bus.bench';
import { benchEventStore } from './event-store.bench';
import { benchEvaluator } from './evaluator.bench';
import { benchLocalRuntime } from './local-runtime.bench';
import { benchProjectionRebuild } from './projection-rebuild.bench';
import { benchRegistryHttp, benchRegistryReads } from './registry-http.bench';
import { benchRegistryReplicas } from './registry-replicas.bench';
import { machine } from './report';
import { benchWebhooks } from './webhooks.bench';
import { benchWorkflowOverhead } from './workflow-overhead.bench';

/** Every benchmark by name, in the order `npm run bench` runs them. */
const BENCHMARKS: ReadonlyArray<readonly [string, (dir: string) => Promise<void>]> = [
  ['event-store', benchEventStore],
  ['registry-http', benchRegistryHttp],
  ['registry-reads', benchRegistryReads],
  ['registry-replicas', benchRegistryReplicas],
  ['projection-rebuild', benchProjectionRebuild],
  ['bus', benchBus],
  ['evaluator', () => benchEvaluator()],
  ['local-runtime', () => benchLocalRuntime()],
  ['approval-to-serving', benchApprovalToServing],
  ['workflow-overhead', benchWorkflowOverhead],
  ['webhooks', benchWebhooks],
];

/**
 * `npm run bench`: prints the suite's performance figures. Not a test: nothing here asserts.
 * `npm run bench -- registry-reads event-store` runs only the benchmarks named.
 */
const main = async (): Promise<void> => {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !BENCHMARKS.some(([known]) => known === name));
  if (unknown.length > 0) {
    process.stderr.write(`no benchmark named ${unknown.join(', ')}; name one or more of: ${BENCHMARKS.map(([name]) => name).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`model-registry-workflows benchmarks\n${machine()}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'mrw-bench-'));
  try {
    for (const [name, run] of BENCHMARKS) if (names.length === 0 || names.includes(name)) await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
