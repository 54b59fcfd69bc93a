import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';
import { LeanExpressAdapter } from './express-adapter';

describe('the lean Express adapter', () => {
  let server: Server;
  let app: Express;
  let seen: object | null = null;
  const url = (path: string): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

  beforeAll(async () => {
    const adapter = new LeanExpressAdapter();
    adapter.initHttpServer({});
    app = adapter.getInstance<Express>();
    app.get('/things/:id', (request: Request, response: Response) => {
      response.json({ id: request.params['id'], accept: request.get('accept'), path: request.path });
    });
    // What Nest does with a handler's result: the adapter's reply.
    const replies: Record<string, [unknown, number | undefined]> = {
      object: [{ name: 'fraud', 'ünïcode': 'ok', nested: { at: [1, 2] } }, undefined],
      created: [{ id: 7 }, 201],
      array: [[{ a: 1 }, null], undefined],
      text: ['plain words', undefined],
      none: [undefined, 204],
      reset: [{ ignored: true }, 205],
      dated: [new Date(0), undefined],
    };
    app.all('/reply/:kind', (request: Request, response: Response) => {
      if (request.query['yaml'] !== undefined) response.setHeader('Content-Type', 'application/yaml; charset=utf-8');
      const [body, status] = replies[request.params['kind'] as string] ?? [undefined, 404];
      adapter.reply(response, body, status);
    });
    server = adapter.getHttpServer() as Server;
    // Before Express sees the request: what the server itself constructed.
    server.prependListener('request', (request: object) => {
      seen = Object.getPrototypeOf(request) as object;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('receives requests already carrying the prototype Express would set (so its swap changes nothing)', async () => {
    const response = await fetch(url('/things/42'), { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42', accept: 'application/json', path: '/things/42' });
    expect(seen).toBe(app.request);
  });

  it('writes an object or an array as JSON itself: the type, the length in bytes, the status, no ETag', async () => {
    const object = await fetch(url('/reply/object'));
    const text = await object.text();
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(text).toBe(JSON.stringify({ name: 'fraud', 'ünïcode': 'ok', nested: { at: [1, 2] } }));
    expect(Number(object.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(object.headers.get('etag')).toBeNull();
    expect(object.headers.get('x-powered-by')).toBeNull();
    const created = await fetch(url('/reply/created'), { method: 'POST' });
    expect([created.status, await created.json()]).toEqual([201, { id: 7 }]);
    const array = await fetch(url('/reply/array'));
    expect(await array.json()).toEqual([{ a: 1 }, null]);
  });

  it('answers HEAD with the length GET would send and no body', async () => {
    const head = await fetch(url('/reply/object'), { method: 'HEAD' });
    const get = await fetch(url('/reply/object'));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });

  it('leaves everything else to Express: text, no body, a reset, a class instance, a type the handler set', async () => {
    const text = await fetch(url('/reply/text'));
    expect(text.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await text.text()).toBe('plain words');
    const none = await fetch(url('/reply/none'));
    expect([none.status, await none.text()]).toEqual([204, '']);
    const reset = await fetch(url('/reply/reset'));
    expect([reset.status, await reset.text()]).toEqual([205, '']);
    const dated = await fetch(url('/reply/dated'));
    expect([dated.headers.get('content-type'), await dated.json()]).toEqual(['application/json; charset=utf-8', new Date(0).toISOString()]);
    const yaml = await fetch(url('/reply/object?yaml'));
    expect(yaml.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
  });
});
