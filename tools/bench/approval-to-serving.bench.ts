import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { line, ms, percentile, section } from './report';
import { SuiteProcess } from './suite-process';

// From dist/tools/bench when built, from tools/bench when run as TypeScript.
const FIXTURES = join(__dirname, extname(__filename) === '.ts' ? '../..' : '../../..', 'libs/evaluator/fixtures');
const TOKEN = 'bench-admin-token-0123456789abcdef';
const MODELS = ['breast-cancer-logreg.onnx', 'breast-cancer-gbt.onnx'];

/** Polls `probe` every 2 ms until it answers true: how long that took (the figure is the latency, so the poll is tight). */
const timeUntil = async (start: number, probe: () => Promise<boolean>, what: string): Promise<number> => {
  const deadline = start + 60_000;
  while (performance.now() < deadline) {
    if (await probe()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${what} did not happen within 60 s`);
};

/**
 * The whole approval-to-serving path in the built suite (embedded mode, `local` target): a
 * reviewer approves, the registry requests the deployment, the deployer's local runtime loads the
 * new version beside the serving one, health-checks it and switches, the outcome comes back, and
 * the serving pointer moves. Measured to the moment the OIP endpoint answers an infer request
 * with the new version, and to the moment `GET /models/{name}` shows it serving.
 */
export const benchApprovalToServing = async (dir: string, rounds = 10): Promise<void> => {
  section(`Approval to serving (built suite, local target, ${rounds} promotions, alternating two models)`);
  const suite = await SuiteProcess.start(dir, TOKEN);
  try {
    const { token: rita } = await suite.json<{ token: string }>('POST', '/api/v1/tokens', 201, { subject: 'rita', roles: ['reviewer'] });
    await suite.json('POST', '/api/v1/models', 201, { name: 'timed' });
    await suite.json('PUT', '/api/v1/models/timed/policy', 200, {
      approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
      deployment: { targets: [{ kind: 'local', environment: 'production' }] },
    });
    const uris: string[] = [];
    for (const name of MODELS) {
      const boundary = `----mrw-bench-${name}`;
      const bytes = Buffer.concat([
        Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: application/octet-stream\r\n\r\n`),
        readFileSync(join(FIXTURES, name)),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const uploaded = await suite.call('POST', '/api/v1/artifacts', undefined, TOKEN, { contentType: `multipart/form-data; boundary=${boundary}`, bytes });
      uris.push((JSON.parse(uploaded.body) as { uri: string }).uri);
    }
    const input = Array.from({ length: 30 }, (_, i) => i / 30);
    const toPointer: number[] = [];
    const toInfer: number[] = [];
    let endpoint: string | undefined;
    let inputName: string | undefined;
    for (let round = 0; round < rounds; round += 1) {
      const { version } = await suite.json<{ version: number }>('POST', '/api/v1/models/timed/versions', 201, { source: uris[round % uris.length] });
      await suite.json('POST', `/api/v1/models/timed/versions/${version}/transitions`, 202, { toStage: 'Staging' });
      const requested = await suite.json<{ request: { approvalId: string } }>('POST', `/api/v1/models/timed/versions/${version}/transitions`, 202, { toStage: 'Production' });
      const start = performance.now();
      await suite.json('POST', `/api/v1/approvals/${requested.request.approvalId}/approve`, 200, { comment: 'bench' }, rita);
      const served = async (): Promise<boolean> => {
        if (!endpoint) {
          const state = JSON.parse((await suite.call('GET', `/api/v1/models/timed/versions/${version}`)).body) as { deployments: Array<{ endpoint?: string | null }> };
          endpoint = state.deployments.at(-1)?.endpoint ?? undefined;
          if (!endpoint) return false;
        }
        if (!inputName) {
          const metadata = (await fetch(`${endpoint}/v2/models/timed`).then((r) => r.json(), () => ({}))) as { inputs?: Array<{ name: string }> };
          inputName = metadata.inputs?.[0]?.name;
          if (!inputName) return false;
        }
        const answer = await fetch(`${endpoint}/v2/models/timed/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: inputName, shape: [1, 30], datatype: 'FP32', data: input }] }),
        }).then((r) => (r.ok ? (r.json() as Promise<{ model_version: string }>) : undefined), () => undefined);
        return answer?.model_version === String(version);
      };
      toInfer.push(await timeUntil(start, served, `v${version} answering infer requests`));
      toPointer.push(
        await timeUntil(
          start,
          async () => (JSON.parse((await suite.call('GET', '/api/v1/models/timed')).body) as { servingVersion?: number }).servingVersion === version,
          `v${version} as the serving version`,
        ),
      );
    }
    const figure = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}  max ${ms(sorted.at(-1) as number)}`;
    };
    line('approve → the OIP endpoint answers with the new version', figure(toInfer));
    line('approve → GET /models/{name} shows it serving', figure(toPointer));
  } finally {
    await suite.stop();
  }
};
