import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { load, reportLoad as report } from './load';
import { reachable } from './reachable';
import { line, section } from './report';
import { distributedEnv, SuiteProcess } from './suite-process';

const TOKEN = 'bench-admin-token-0123456789abcdef';

/**
 * Registry HTTP throughput in distributed mode on PostgreSQL: one registry process, then two
 * replicas on the same log (no shared memory, each its own read model), 32 clients split
 * between them. Needs PostgreSQL (MRW_POSTGRES_URL, else `npm run infra:up`'s on 127.0.0.1:15432)
 * and Kafka (KAFKA_BROKERS, else 127.0.0.1:9092); says SKIPPED without them.
 */
export const benchRegistryReplicas = async (dir: string, seconds = 5): Promise<void> => {
  section('Registry replicas on PostgreSQL (distributed mode, 32 keep-alive clients, register-version on 32 models)');
  const url = process.env['MRW_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:15432/mrw';
  const { hostname, port } = new URL(url);
  const brokers = process.env['KAFKA_BROKERS']?.split(',')[0] ?? '127.0.0.1:9092';
  if (!(await reachable(`${hostname}:${port || 5432}`)) || !(await reachable(brokers))) {
    line('replicas', `SKIPPED: needs PostgreSQL at ${hostname}:${port || 5432} and Kafka at ${brokers} (npm run infra:up)`);
    return;
  }
  for (const replicas of [1, 2]) {
    const schema = `bench_${randomBytes(6).toString('hex')}`;
    const root = join(dir, `replicas-${replicas}`);
    await mkdir(root, { recursive: true });
    const common = {
      MRW_STORE: 'postgres',
      MRW_POSTGRES_URL: url,
      MRW_POSTGRES_SCHEMA: schema,
      ...distributedEnv(brokers, root),
    };
    const processes: SuiteProcess[] = [];
    try {
      for (let r = 0; r < replicas; r += 1) processes.push(await SuiteProcess.start(join(root, `replica-${r}`), TOKEN, common, 'registry'));
      const first = processes[0] as SuiteProcess;
      const models = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
      for (const name of models) await first.json('POST', '/api/v1/models', 201, { name });
      const uri = await first.upload('m.onnx', Buffer.from('not a real model'));
      const result = await load(
        32,
        seconds,
        (c, i) => (processes[c % replicas] as SuiteProcess).call('POST', `/api/v1/models/${models[c]}/versions`, { source: uri, tags: { run: String(i) } }),
        201,
      );
      report(`POST register-version, ${replicas === 1 ? 'one registry' : `${replicas} replicas, clients split between them`}`, result);
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }
};
