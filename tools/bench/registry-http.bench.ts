import { load, reportLoad as report } from './load';
import { section } from './report';
import { SuiteProcess } from './suite-process';

const TOKEN = 'bench-admin-token-0123456789abcdef';

/** Registry HTTP throughput under 32 concurrent keep-alive clients, against the built suite in its own process. */
export const benchRegistryHttp = async (dir: string, seconds = 5): Promise<void> => {
  section('Registry HTTP API (suite in its own process, 32 concurrent keep-alive clients)');
  const suite = await SuiteProcess.start(dir, TOKEN);
  const call = (method: string, path: string, body?: unknown) => suite.call(method, path, body);
  try {
    const models = Array.from({ length: 32 }, (_, i) => `bench-${i}`);
    for (const name of models) await call('POST', '/api/v1/models', { name });
    // An uploaded artifact, as a training job registers one: an http(s) source would time the resolver (checked at registration), not the registry.
    const uri = await suite.upload('m.onnx', Buffer.from('not a real model'));
    const body = (client: number, i: number) => ({ source: uri, metrics: { auc: 0.9 }, tags: { client: String(client), run: String(i) } });
    report(
      'POST register-version, all clients on one model',
      await load(32, seconds, (c, i) => call('POST', '/api/v1/models/bench-0/versions', body(c, i)), 201),
    );
    const registered = new Array<number>(32).fill(0);
    report(
      'POST register-version, one model per client',
      await load(
        32,
        seconds,
        async (c, i) => {
          const response = await call('POST', `/api/v1/models/${models[c]}/versions`, body(c, i));
          if (response.status === 201) registered[c] = (registered[c] ?? 0) + 1;
          return response;
        },
        201,
      ),
    );
    report(
      'GET version (folded from its stream)',
      await load(32, seconds, (c, i) => call('GET', `/api/v1/models/${models[c]}/versions/${(i % (registered[c] || 1)) + 1}`), 200),
    );
  } finally {
    await suite.stop();
  }
};
