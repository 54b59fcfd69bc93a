import { join } from 'node:path';
import { costed, load, reportLoad as report, type CostedLoad } from './load';
import { section } from './report';
import { SuiteProcess, type Response } from './suite-process';

const TOKEN = 'bench-admin-token-0123456789abcdef';

/** 32 keep-alive clients in a closed loop for `seconds`, with what the suite's process spent per answer. */
const closedLoop =
  (suite: SuiteProcess, seconds: number) =>
  (next: (client: number, i: number) => Promise<Response>, expected: number): Promise<CostedLoad> =>
    costed(suite.pid, () => load(32, seconds, next, expected));

/** Registry HTTP throughput under 32 concurrent keep-alive clients, against the built suite in its own process. */
export const benchRegistryHttp = async (dir: string, seconds = 5): Promise<void> => {
  section('Registry HTTP API (suite in its own process, 32 concurrent keep-alive clients)');
  const suite = await SuiteProcess.start(dir, TOKEN);
  const call = (method: string, path: string, body?: unknown) => suite.call(method, path, body);
  const run = closedLoop(suite, seconds);
  try {
    const models = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
    for (const name of models) await call('POST', '/api/v1/models', { name });
    // An uploaded artifact, as a training job registers one (https sources are measured below).
    const uri = await suite.upload('m.onnx', Buffer.from('not a real model'));
    const body = (client: number, i: number) => ({ source: uri, metrics: { auc: 0.9 }, tags: { client: String(client), run: String(i) } });
    report(
      'POST register-version, all clients on one model',
      await run((c, i) => call('POST', '/api/v1/models/bench-0/versions', body(c, i)), 201),
    );
    const registered = new Array<number>(32).fill(0);
    report(
      'POST register-version, one model per client',
      await run(async (c, i) => {
        const response = await call('POST', `/api/v1/models/${models[c]}/versions`, body(c, i));
        if (response.status === 201) registered[c] = (registered[c] ?? 0) + 1;
        return response;
      }, 201),
    );
    // As training platforms register most often: an https source, every registration naming the
    // same artifact host. Its name is looked up at registration (refused if it resolves only to
    // addresses the outbound policy refuses), one lookup at a time for the process.
    await call('POST', '/api/v1/models', { name: 'bench-https' });
    report(
      'POST register-version, https sources on one host',
      await run((c, i) => call('POST', '/api/v1/models/bench-https/versions', { source: `https://artifacts.example.com/bench/${c}-${i}.onnx`, metrics: { auc: 0.9 } }), 201),
    );
    report(
      'GET version (folded from its stream)',
      await run((c, i) => call('GET', `/api/v1/models/${models[c]}/versions/${(i % (registered[c] || 1)) + 1}`), 200),
    );
  } finally {
    await suite.stop();
  }
};

/**
 * The read endpoints a dashboard polls, on a catalog of 4 models with 25 versions each (a board
 * of 100 versions), under the same 32 clients: one version, a version list, the model list and
 * the stage board.
 */
export const benchRegistryReads = async (dir: string, seconds = 5): Promise<void> => {
  section('Registry read endpoints (4 models x 25 versions, 32 concurrent keep-alive clients)');
  const suite = await SuiteProcess.start(join(dir, 'reads'), TOKEN);
  const call = (method: string, path: string, body?: unknown) => suite.call(method, path, body);
  try {
    const uri = await suite.upload('m.onnx', Buffer.from('not a real model'));
    for (let m = 0; m < 4; m += 1) {
      await call('POST', '/api/v1/models', { name: `reads-${m}` });
      for (let v = 0; v < 25; v += 1) await call('POST', `/api/v1/models/reads-${m}/versions`, { source: uri, metrics: { auc: 0.9 } });
    }
    // A few versions in Staging and Production, so every column of the board has rows.
    for (let m = 0; m < 4; m += 1) {
      await call('POST', `/api/v1/models/reads-${m}/versions/1/transitions`, { toStage: 'Staging' });
    }
    const reads: Array<[string, (client: number, i: number) => string]> = [
      ['GET version', (c, i) => `/api/v1/models/reads-${c % 4}/versions/${(i % 25) + 1}`],
      ['GET version list (25 versions)', (c) => `/api/v1/models/reads-${c % 4}/versions`],
      ['GET model list', () => '/api/v1/models'],
      ['GET stage board (100 versions)', () => '/api/v1/board'],
    ];
    const run = closedLoop(suite, seconds);
    for (const [label, path] of reads) report(label, await run((c, i) => call('GET', path(c, i)), 200));
  } finally {
    await suite.stop();
  }
};
