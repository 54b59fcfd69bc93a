import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServiceProcess } from './service-process';

interface Answer {
  readonly status: number;
  readonly body: any;
}

/** The processes `pid` started (its readers), from /proc. */
const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .split(' ')
    .filter((p) => p.trim() !== '')
    .map(Number);

/**
 * The embedded suite with MRW_SERVING_PROCESSES=2: the suite deals connections in turn to
 * itself and to a reader it started, which serves the catalog reads from the suite's files and
 * passes everything else on. Every request here opens a connection of its own, so consecutive
 * requests land on both processes.
 */
describe('the embedded suite served by two processes', () => {
  const admin = randomBytes(32).toString('base64url');
  let dir: string;
  let suite: ServiceProcess;

  /** One request on a connection of its own (`Connection: close`), JSON in and out. */
  const call = (method: string, path: string, body?: unknown, token = admin): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port: suite.port,
          method,
          path,
          agent: false,
          headers: { authorization: `Bearer ${token}`, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) },
        },
        (res) => {
          let raw = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (raw += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: raw && res.headers['content-type']?.includes('json') ? JSON.parse(raw) : raw }));
        },
      );
      req.on('error', reject);
      // A connection nobody serves fails the test here, not at the test's own timeout.
      req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
      req.end(text);
    });

  /** How many version reads a process answered, by the suite's /metrics: its own series, and each reader's labelled with its name. */
  const versionReadsBy = (process: 'suite' | 'reader-1') =>
    suite.metric('mrw_http_request_duration_seconds_count', {
      method: 'GET',
      route: '/api/v1/models/:name/versions/:version',
      status: '200',
      serving_process: process === 'suite' ? '' : process,
    });
  const versionReadsBySuite = () => versionReadsBy('suite');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-serving-'));
    suite = new ServiceProcess('suite', await freePort(), { MRW_DATA_DIR: join(dir, 'data'), MRW_ADMIN_TOKEN: admin, MRW_SERVING_PROCESSES: '2', MRW_LOG_LEVEL: 'error' }, dir);
    await suite.start();
    await suite.ready();
    expect((await call('POST', '/api/v1/models', { name: 'churn' })).status).toBe(201);
  });

  afterAll(async () => {
    await suite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('says at /readyz that both processes serve', async () => {
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual({ name: 'serving-processes', ready: true, detail: '2 processes serve' });
    expect(childrenOf(suite.pid as number)).toHaveLength(1);
  });

  it('answers reads on both processes, each seeing the write made just before through either', async () => {
    const before = await versionReadsBySuite();
    const beforeReader = await versionReadsBy('reader-1');
    for (let i = 1; i <= 6; i += 1) {
      const registered = await call('POST', '/api/v1/models/churn/versions', { source: `https://models.example.com/churn-${i}.onnx` });
      expect(registered.status).toBe(201);
      // Read at once, on connections dealt to one process and then the other.
      for (let k = 0; k < 2; k += 1) {
        const read = await call('GET', `/api/v1/models/churn/versions/${registered.body.version}`);
        expect([read.status, read.body.source]).toEqual([200, `https://models.example.com/churn-${i}.onnx`]);
        const listed = await call('GET', '/api/v1/models/churn/versions?limit=1000');
        expect(listed.body.items.map((v: { version: number }) => v.version)).toContain(registered.body.version);
      }
    }
    // 12 version reads in all: the suite answered some, the reader the rest, and /metrics counts both.
    const bySuite = (await versionReadsBySuite()) - before;
    const byReader = (await versionReadsBy('reader-1')) - beforeReader;
    expect(bySuite).toBeGreaterThan(0);
    expect(bySuite).toBeLessThan(12);
    expect(bySuite + byReader).toBe(12);
  });

  it('refuses a revoked token at once on both processes', async () => {
    const issued = await call('POST', '/api/v1/tokens', { subject: 'ci', roles: ['viewer'] });
    expect(issued.status).toBe(201);
    const token = issued.body.token as string;
    for (let k = 0; k < 4; k += 1) expect((await call('GET', '/api/v1/models/churn', undefined, token)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/tokens/${issued.body.id}`)).status).toBe(204);
    for (let k = 0; k < 4; k += 1) expect((await call('GET', '/api/v1/models/churn', undefined, token)).status).toBe(401);
  });

  it('passes a live event stream through, whichever process a client was dealt', async () => {
    const streams = await Promise.all([0, 1].map(() => openStream(suite.port, admin)));
    try {
      const registered = await call('POST', '/api/v1/models/churn/versions', { source: 'https://models.example.com/churn-live.onnx' });
      expect(registered.status).toBe(201);
      await Promise.all(streams.map((s) => s.until((text) => text.includes('churn-live.onnx'))));
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('starts a reader again when one dies, and serves meanwhile', async () => {
    const [reader] = childrenOf(suite.pid as number);
    process.kill(reader as number, 'SIGKILL');
    // A connection dealt in the moment before the suite hears of the death is closed (its client
    // reconnects); once it has heard, the suite serves every connection until a new reader is up.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && childrenOf(suite.pid as number).includes(reader as number)) await new Promise((r) => setTimeout(r, 20));
    for (let k = 0; k < 4; k += 1) expect((await call('GET', '/api/v1/models/churn/versions/1')).status).toBe(200);
    let replaced: number | undefined;
    while (Date.now() < deadline && replaced === undefined) {
      replaced = childrenOf(suite.pid as number).find((pid) => pid !== reader);
      if (replaced === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(replaced).toBeDefined();
    // Once the new reader serves, reads land on it again.
    const before = await versionReadsBySuite();
    let made = 0;
    let byReader = 0;
    while (Date.now() < deadline && byReader === 0) {
      for (let k = 0; k < 4; k += 1, made += 1) expect((await call('GET', '/api/v1/models/churn/versions/1')).status).toBe(200);
      byReader = made - ((await versionReadsBySuite()) - before);
    }
    expect(byReader).toBeGreaterThan(0);
  });

  it('answers the requests in flight as it stops, whichever process has them, then stops its readers', async () => {
    const readers = childrenOf(suite.pid as number);
    expect(readers.length).toBeGreaterThan(0);
    // Two uploads on connections of their own (one per process), each stopped halfway: the
    // server has its headers (it sent 100 Continue), the body comes after the stop is asked for.
    const uploads = await Promise.all([0, 1].map(() => halfwayUpload(suite.port, admin)));
    const stopping = suite.stop();
    const answers = await Promise.all(uploads.map((upload) => upload.finish()));
    expect(answers.map((a) => a.status)).toEqual([201, 201]);
    await stopping;
    for (const pid of readers) expect(() => process.kill(pid, 0)).toThrow();
  });
});

/** A live event stream on a connection of its own, its text as it arrives. */
const openStream = (port: number, token: string): Promise<{ until(seen: (text: string) => boolean): Promise<void>; close(): void }> =>
  new Promise((resolve, reject) => {
    let text = '';
    const waiting: Array<() => void> = [];
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/events/stream', agent: false, headers: { authorization: `Bearer ${token}` } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) return reject(new Error(`event stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const wake of waiting.splice(0)) wake();
      });
      resolve({
        until: async (seen) => {
          while (!seen(text)) await new Promise<void>((wake) => waiting.push(wake));
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });

/** An artifact upload whose headers are in (the server answered 100 Continue) and whose body waits for `finish`. */
const halfwayUpload = (port: number, token: string): Promise<{ finish(): Promise<Answer> }> =>
  new Promise((resolve, reject) => {
    const boundary = 'mrw-halfway';
    const body = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="m.onnx"\r\ncontent-type: application/octet-stream\r\n\r\n` +
        `${randomBytes(16).toString('hex')}\r\n--${boundary}--\r\n`,
    );
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/artifacts',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length, expect: '100-continue' },
    });
    const answered = new Promise<Answer>((done, fail) => {
      req.on('response', (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (raw += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: raw }));
      });
      req.on('error', fail);
    });
    req.on('error', reject);
    req.on('continue', () => resolve({ finish: () => (req.end(body), answered) }));
    req.flushHeaders();
  });
