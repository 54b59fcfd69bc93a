import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AddressPolicy } from '../address-policy/address-policy';
import { OutboundError } from '../outbound-error';
import { OutboundHttp, type Resolver } from './outbound-http';

/** A real HTTP server on 127.0.0.1 that records what reached it. */
interface TestServer {
  readonly port: number;
  readonly base: string;
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

const serve = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> => {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const test: TestServer = {
    port,
    base: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  servers.push(test);
  return test;
};

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const client = (allowed = '', options: { resolve?: Resolver; connectMs?: number; responseMs?: number } = {}) =>
  new OutboundHttp({
    policy: AddressPolicy.fromSetting(allowed),
    ...(options.resolve ? { resolve: options.resolve } : {}),
    timeouts: { connectMs: options.connectMs ?? 5_000, responseMs: options.responseMs ?? 5_000 },
  });

const failure = async (promise: Promise<unknown>): Promise<OutboundError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OutboundError)) throw new Error(`expected an OutboundError, got ${String(error)}`);
  return error;
};

const ok = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');

describe('OutboundHttp', () => {
  describe('the address guard', () => {
    it('refuses loopback without an allow-list, before anything is sent', async () => {
      const server = await serve(ok);
      const error = await failure(client().request(`${server.base}/m.onnx`));
      expect(error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { address: '127.0.0.1', range: 'loopback', setting: 'MRW_OUTBOUND_ALLOWED_HOSTS' } });
      expect(error.message).toMatch(/127\.0\.0\.1 \(loopback\).*MRW_OUTBOUND_ALLOWED_HOSTS/);
      expect(server.requests).toHaveLength(0);
    });

    it('refuses a hostname that resolves to loopback (the system resolver, at connect time)', async () => {
      const server = await serve(ok);
      const error = await failure(client().request(`http://localhost:${server.port}/`));
      expect(error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { host: 'localhost', range: 'loopback' } });
      expect(server.requests).toHaveLength(0);
    });

    it('refuses IPv6 loopback and IPv4-mapped loopback literals', async () => {
      expect(await failure(client().request('http://[::1]:9/'))).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { range: 'loopback' } });
      expect(await failure(client().request('http://[::ffff:127.0.0.1]:9/'))).toMatchObject({
        code: 'OUTBOUND_ADDRESS_REFUSED',
        details: { address: '127.0.0.1' },
      });
      expect(await failure(client().request('http://169.254.169.254/latest/meta-data/'))).toMatchObject({
        details: { range: 'linkLocal' },
      });
    });

    it.each([
      ['its address', (port: number) => '127.0.0.1'],
      ['its host:port', (port: number) => `127.0.0.1:${port}`],
      ['a CIDR', (port: number) => '127.0.0.0/8'],
    ])('calls loopback when the operator allows %s', async (_, allowed) => {
      const server = await serve(ok);
      const response = await client(allowed(server.port)).request(`${server.base}/m.onnx`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('hello');
      expect(server.requests).toHaveLength(1);
    });

    it('calls a hostname the operator allows by name, and only that name', async () => {
      const server = await serve(ok);
      const response = await client('localhost').request(`http://localhost:${server.port}/`);
      expect(await response.text()).toBe('hello');
      expect(await failure(client('models.internal').request(`http://localhost:${server.port}/`))).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED' });
    });

    it('refuses a host:port entry on another port', async () => {
      const server = await serve(ok);
      const error = await failure(client(`127.0.0.1:${server.port + 1}`).request(`${server.base}/`));
      expect(error.code).toBe('OUTBOUND_ADDRESS_REFUSED');
      expect(server.requests).toHaveLength(0);
    });

    it('checks the address at connect time, so a name that rebinds to loopback after a check is refused', async () => {
      const server = await serve(ok);
      let answers = 0;
      const rebinding: Resolver = async () => [{ address: answers++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
      const http = client('', { resolve: rebinding });
      await expect(http.check(`http://models.example.com:${server.port}/m.onnx`)).resolves.toBeUndefined();
      const error = await failure(http.request(`http://models.example.com:${server.port}/m.onnx`));
      expect(error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { host: 'models.example.com', address: '127.0.0.1' } });
      expect(server.requests).toHaveLength(0);
    });

    it('connects only to the allowed addresses of a name with several', async () => {
      const server = await serve(ok);
      const mixed: Resolver = async () => [
        { address: '10.0.0.1', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
      const response = await client('127.0.0.1', { resolve: mixed }).request(`http://models.internal:${server.port}/`);
      expect(await response.text()).toBe('hello');
    });

    it('check() refuses a literal address or a name whose every address is refused, and passes a name that does not resolve', async () => {
      const http = client('', { resolve: async (name) => (name === 'inside.example' ? [{ address: '10.1.1.1', family: 4 }] : []) });
      expect(await failure(http.check('http://127.0.0.1/m'))).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED' });
      expect(await failure(http.check('https://inside.example/m'))).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { address: '10.1.1.1' } });
      await expect(http.check('https://nowhere.example/m')).resolves.toBeUndefined();
      expect(await failure(http.check('ftp://models.example.com/m'))).toMatchObject({ code: 'OUTBOUND_URL_REFUSED' });
    });
  });

  describe('redirects', () => {
    it('re-checks every hop: a redirect from an allowed host to a refused address is refused', async () => {
      const inside = await serve(ok);
      const outside = await serve((_req, res) => res.writeHead(302, { location: `${inside.base}/secret` }).end());
      const error = await failure(client(`127.0.0.1:${outside.port}`).request(`${outside.base}/m.onnx`));
      expect(error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', details: { address: '127.0.0.1' } });
      expect(outside.requests).toHaveLength(1);
      expect(inside.requests).toHaveLength(0);
    });

    it('follows allowed redirects, and does not carry credentials to another origin', async () => {
      const target = await serve(ok);
      const start = await serve((_req, res) => res.writeHead(301, { location: `${target.base}/final` }).end());
      const response = await client('127.0.0.0/8').request(`${start.base}/m.onnx`, { headers: { Authorization: 'Bearer s3cret' } });
      expect([response.status, response.url.href, await response.text()]).toEqual([200, `${target.base}/final`, 'hello']);
      expect(start.requests[0]?.headers.authorization).toBe('Bearer s3cret');
      expect(target.requests[0]?.headers.authorization).toBeUndefined();
    });

    it('refuses a redirect to another scheme', async () => {
      const server = await serve((_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
      expect(await failure(client('127.0.0.1').request(`${server.base}/`))).toMatchObject({ code: 'OUTBOUND_URL_REFUSED' });
    });

    it('stops after five redirects', async () => {
      const server = await serve((req, res) => res.writeHead(302, { location: `/hop${req.url}` }).end());
      expect(await failure(client('127.0.0.1').request(`${server.base}/`))).toMatchObject({ code: 'OUTBOUND_TOO_MANY_REDIRECTS' });
      expect(server.requests).toHaveLength(6);
    });
  });

  describe('limits', () => {
    it('aborts a never-ending body as soon as it crosses the limit, and hangs up', async () => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      let written = 0;
      let hungUp!: () => void;
      const closed = new Promise<void>((resolve) => (hungUp = resolve));
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.on('close', hungUp);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
      const limit = 1024 * 1024;
      const response = await client('127.0.0.1').request(`${server.base}/endless`, { maxBytes: limit });
      let received = 0;
      const error = await failure(
        (async () => {
          for await (const part of response.body) received += (part as Buffer).length;
        })(),
      );
      expect(error).toMatchObject({ code: 'OUTBOUND_TOO_LARGE', details: { limit } });
      expect(received).toBeLessThanOrEqual(limit);
      await closed;
      // What the server got out before the hang-up: the limit plus what sockets buffer, not an endless stream.
      expect(written).toBeLessThan(limit + 16 * 1024 * 1024);
    });

    it('refuses a declared Content-Length above the limit before reading the body', async () => {
      const server = await serve((_req, res) => res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).write('x'));
      expect(await failure(client('127.0.0.1').request(`${server.base}/big`, { maxBytes: 1024 }))).toMatchObject({ code: 'OUTBOUND_TOO_LARGE' });
    });

    it('times out a server that never answers', async () => {
      const server = await serve(() => undefined);
      const started = Date.now();
      const error = await failure(client('127.0.0.1', { responseMs: 300 }).request(`${server.base}/silent`));
      expect(error).toMatchObject({ code: 'OUTBOUND_TIMEOUT', details: { phase: 'response', timeoutMs: 300 } });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(server.requests).toHaveLength(1);
    });

    it('times out a body that stalls half-way', async () => {
      const server = await serve((_req, res) => res.writeHead(200, { 'content-length': '100' }).write('only some'));
      const response = await client('127.0.0.1', { responseMs: 300 }).request(`${server.base}/stalls`);
      expect(await failure(response.bytes())).toMatchObject({ code: 'OUTBOUND_TIMEOUT', details: { phase: 'response' } });
    });

    it('times out a connection that is never made', async () => {
      const neverAnswers: Resolver = () => new Promise(() => undefined);
      const started = Date.now();
      const error = await failure(client('', { resolve: neverAnswers, connectMs: 300 }).request('http://models.example.com/m.onnx'));
      expect(error).toMatchObject({ code: 'OUTBOUND_TIMEOUT', details: { phase: 'connect', timeoutMs: 300 } });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('reports a refused connection as OUTBOUND_FAILED', async () => {
      const server = await serve(ok);
      const port = server.port;
      await server.close();
      servers.splice(0);
      expect(await failure(client('127.0.0.1').request(`http://127.0.0.1:${port}/`))).toMatchObject({ code: 'OUTBOUND_FAILED' });
    });
  });
});
