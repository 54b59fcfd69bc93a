import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployerModule } from '@mrw/deployer';
import { eventually } from '@mrw/messaging/testing';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');

/** The first rows of the breast-cancer holdout, as an OIP FP32 input of shape [n, 30]. */
const holdoutRows = (n: number): number[][] =>
  readFileSync(join(FIXTURES, 'breast-cancer-holdout.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, n + 1)
    .map((line) => line.split(',').slice(0, 30).map(Number));

interface InferAnswer {
  readonly model_version: string;
  readonly outputs: Array<{ name: string; data: number[] }>;
}

/**
 * The deployer's `local` target end to end: an approved version serves on its Open Inference
 * Protocol endpoint; the next one takes over with no failed request under a steady stream of
 * infer calls; a rollback serves the first one again.
 */
describe('serving on the local runtime', () => {
  let suite: RegistryHarness;
  let carol: string;
  let dora: string;

  beforeAll(async () => {
    suite = await startRegistry({ modules: [DeployerModule], env: { MRW_EVALUATOR_THREADS: '1' } });
    carol = await suite.token('carol', ['contributor']);
    dora = await suite.token('dora', ['contributor', 'deployer']);
  });

  afterAll(async () => {
    await suite?.close();
  });

  const upload = async (fixture: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(FIXTURES, fixture))]), fixture);
    const response = await fetch(`${suite.baseUrl}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${carol}` }, body: form });
    return ((await response.json()) as { uri: string }).uri;
  };

  const promote = async (version: number) => {
    await suite.http('POST', `/api/v1/models/served/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
    const requested = await suite.http('POST', `/api/v1/models/served/versions/${version}/transitions`, { token: carol, body: { toStage: 'Production' } });
    expect(requested.body.request.status).toBe('deploying');
  };

  const servingOn = (version: number) =>
    eventually(
      async () => {
        const model = await suite.http('GET', '/api/v1/models/served');
        if (model.body.servingVersion !== version) return undefined;
        const state = await suite.http('GET', `/api/v1/models/served/versions/${version}`);
        return (state.body.deployments.at(-1) as { endpoint: string | null }).endpoint ?? undefined;
      },
      { timeoutMs: 60_000, what: `v${version} serving` },
    );

  const infer = async (endpoint: string, rows: number[][], inputName: string): Promise<{ status: number; body: InferAnswer }> => {
    const response = await fetch(`${endpoint}/v2/models/served/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: inputName, shape: [rows.length, 30], datatype: 'FP32', data: rows.flat() }] }),
    });
    return { status: response.status, body: (await response.json()) as InferAnswer };
  };

  it('serves v1, switches to v2 with no failed request, and serves v1 again after a rollback', async () => {
    await suite.http('POST', '/api/v1/models', { token: carol, body: { name: 'served' } });
    await suite.http('PUT', '/api/v1/models/served/policy', {
      body: {
        approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
        deployment: { targets: [{ kind: 'local', environment: 'production' }] },
        rollback: { allowEmergency: true },
      },
    });
    for (const fixture of ['breast-cancer-logreg.onnx', 'breast-cancer-gbt.onnx']) {
      await suite.http('POST', '/api/v1/models/served/versions', { token: carol, body: { source: await upload(fixture) } });
    }

    await promote(1);
    const endpoint = await servingOn(1);
    const metadata = (await (await fetch(`${endpoint}/v2/models/served`)).json()) as { inputs: Array<{ name: string }> };
    const input = metadata.inputs[0]!.name;
    const rows = holdoutRows(8);
    const first = await infer(endpoint, rows, input);
    expect(first.status).toBe(200);
    expect(first.body.model_version).toBe('1');
    expect(first.body.outputs.find((o) => o.name === 'label')?.data).toHaveLength(8);

    // Four clients call without pause while v2 is approved and takes over.
    let stop = false;
    const seen: string[] = [];
    const failures: number[] = [];
    const client = async () => {
      while (!stop) {
        const answer = await infer(endpoint, rows, input).catch(() => ({ status: 0, body: { model_version: 'none', outputs: [] } }));
        if (answer.status !== 200) failures.push(answer.status);
        else if (seen.at(-1) !== answer.body.model_version) seen.push(answer.body.model_version);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await promote(2);
    expect(await servingOn(2)).toBe(endpoint);
    await eventually(async () => seen.includes('2'), { what: 'the clients seeing v2' });
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect((await infer(endpoint, rows, input)).body.model_version).toBe('2');

    // One click: an emergency rollback by a deployer serves v1 again, through the same pipeline.
    const rollback = await suite.http('POST', '/api/v1/models/served/rollback', { token: dora, body: { reason: 'v2 disagrees with v1 on the enterprise slice', emergency: true } });
    expect(rollback.body.rollback).toMatchObject({ fromVersion: 2, toVersion: 1, status: 'deploying' });
    await servingOn(1);
    const after = await infer(endpoint, rows, input);
    expect(after.body.model_version).toBe('1');
    expect(after.body.outputs.find((o) => o.name === 'label')?.data).toEqual(first.body.outputs.find((o) => o.name === 'label')?.data);

    const deployments = await suite.http('GET', '/api/v1/deployments?model=served');
    expect(deployments.body.items.map((d: { version: number; status: string }) => [d.version, d.status])).toEqual([
      [1, 'succeeded'],
      [2, 'succeeded'],
      [1, 'succeeded'],
    ]);
  });
});
