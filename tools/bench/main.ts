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
import { benchRegistryHttp } from './registry-http.bench';
import { benchRegistryReplicas } from './registry-replicas.bench';
import { machine } from './report';
import { benchWebhooks } from './webhooks.bench';
import { benchWorkflowOverhead } from './workflow-overhead.bench';

/** `npm run bench`: prints the suite's performance figures. Not a test: nothing here asserts. */
const main = async (): Promise<void> => {
  process.stdout.write(`model-registry-workflows benchmarks\n${machine()}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'mrw-bench-'));
  try {
    await benchEventStore(dir);
    await benchRegistryHttp(dir);
    await benchRegistryReplicas(dir);
    await benchProjectionRebuild(dir);
    await benchBus(dir);
    await benchEvaluator();
    await benchLocalRuntime();
    await benchApprovalToServing(dir);
    await benchWorkflowOverhead(dir);
    await benchWebhooks(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
