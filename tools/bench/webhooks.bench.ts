import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { line, ms, percentile, section } from './report';
import { SuiteProcess } from './suite-process';

const TOKEN = 'bench-admin-token-0123456789abcdef';
const SUBSCRIBERS = 100;
const DEAD = 10;
const EVENTS = 80;
const WRITERS = 8;

/** A loopback receiver for every subscriber (path `/s/<n>`): counts what arrives and how long after the event it does; `/dead/<n>` never answers. */
const startReceivers = async (): Promise<{ server: Server; base: string; arrivals: Map<string, number[]>; waitFor: (count: number) => Promise<void> }> => {
  const arrivals = new Map<string, number[]>();
  let total = 0;
  let waiter: { count: number; resolve: () => void } | undefined;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/dead/')) return; // accepts, never answers: the sender's response timeout ends it
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { occurred_at: occurredAt } = JSON.parse(body) as { occurred_at: string };
      const list = arrivals.get(req.url ?? '') ?? [];
      list.push(Date.now() - Date.parse(occurredAt));
      arrivals.set(req.url ?? '', list);
      total += 1;
      res.writeHead(204).end();
      if (waiter && total >= waiter.count) waiter.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    waitFor: (count) => (total >= count ? Promise.resolve() : new Promise((resolve) => (waiter = { count, resolve }))),
  };
};

/**
 * Webhook deliveries from the built suite to 100 subscribers on loopback: throughput, and the
 * delay from an event to its arrival at healthy receivers — alone, then while 10 other
 * subscribers' receivers accept connections and never answer.
 */
export const benchWebhooks = async (dir: string): Promise<void> => {
  section(`Webhooks (built suite, ${SUBSCRIBERS} subscribers on loopback, ${EVENTS} events each run)`);
  const receivers = await startReceivers();
  const suite = await SuiteProcess.start(dir, TOKEN, { MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  try {
    await suite.json('POST', '/api/v1/models', 201, { name: 'hooked' });
    // Events come from 8 writers at once, each on its own version (one stream each, so no write conflicts).
    const versions: number[] = [];
    for (let w = 0; w < WRITERS; w += 1) {
      versions.push((await suite.json<{ version: number }>('POST', '/api/v1/models/hooked/versions', 201, { source: `${receivers.base}/model.onnx` })).version);
    }
    const ids: string[] = [];
    for (let n = 0; n < SUBSCRIBERS; n += 1) {
      const created = await suite.json<{ id: string }>('POST', '/api/v1/webhooks', 201, { url: `${receivers.base}/s/${n}`, events: ['MODEL_VERSION_TAG_SET'], model: 'hooked' });
      ids.push(created.id);
    }
    const run = async (label: string, runIndex: number, healthyFrom: number): Promise<void> => {
      const expected = (SUBSCRIBERS - healthyFrom) * EVENTS;
      const before = [...receivers.arrivals.values()].reduce((sum, list) => sum + list.length, 0);
      const started = performance.now();
      await Promise.all(
        versions.map(async (version, w) => {
          for (let i = w; i < EVENTS; i += WRITERS) await suite.json('PUT', `/api/v1/models/hooked/versions/${version}/tags/k${i}`, 200, { value: `run${runIndex}-${i}` });
        }),
      );
      await receivers.waitFor(before + expected);
      const elapsed = performance.now() - started;
      const healthy = [...receivers.arrivals.entries()].filter(([path]) => path.startsWith('/s/') && Number(path.slice(3)) >= healthyFrom).flatMap(([, list]) => list.slice(-EVENTS));
      healthy.sort((a, b) => a - b);
      line(`${label}: deliveries/s`, `${Math.round((expected / elapsed) * 1000).toLocaleString('en-US')} (${expected.toLocaleString('en-US')} in ${ms(elapsed)})`);
      line(`${label}: event → healthy receiver`, `p50 ${ms(percentile(healthy, 50))}  p99 ${ms(percentile(healthy, 99))}`);
    };
    await run(`${SUBSCRIBERS} healthy`, 1, 0);
    // Ten subscribers now point at receivers that never answer.
    for (const id of ids.slice(0, DEAD)) await suite.json('PATCH', `/api/v1/webhooks/${id}`, 200, { url: `${receivers.base}/dead/${id}` });
    await run(`${SUBSCRIBERS - DEAD} healthy + ${DEAD} silent`, 2, DEAD);
  } finally {
    await suite.stop();
    receivers.server.closeAllConnections();
    receivers.server.close();
  }
};
