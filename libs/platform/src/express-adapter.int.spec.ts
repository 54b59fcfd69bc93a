import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';
import { ExpressAdapterWithStablePrototypes } from './express-adapter';

describe('the Express adapter with stable prototypes', () => {
  let server: Server;
  let app: Express;
  let seen: object | null = null;

  beforeAll(async () => {
    const adapter = new ExpressAdapterWithStablePrototypes();
    adapter.initHttpServer({});
    app = adapter.getInstance<Express>();
    app.get('/things/:id', (request: Request, response: Response) => {
      response.json({ id: request.params['id'], accept: request.get('accept'), path: request.path });
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
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/things/42`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42', accept: 'application/json', path: '/things/42' });
    expect(seen).toBe(app.request);
  });
});
