import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * Nest's Express adapter, with an HTTP server whose requests and responses are born with
 * Express's prototypes.
 *
 * Express gives every request and response its methods (`req.get`, `res.json`…) by swapping
 * their prototypes (`Object.setPrototypeOf`) as it receives them. V8 then treats both objects
 * as having a new shape, and every property access on them, in Node's HTTP code as in ours,
 * misses its inline cache. Measured here on a one-route Nest app with a guard and the
 * validation pipe: 118 µs of server CPU per request, against 41 µs when the server constructs
 * its requests and responses from classes whose prototypes are Express's own, so that the swap
 * is setting a prototype to the one already there, which V8 skips (docs/decisions.md,
 * "Performance (issue 16, fourth pass)").
 */
export class ExpressAdapterWithStablePrototypes extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions !== undefined || options.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<Express>();
    class ExpressRequest extends IncomingMessage {}
    class ExpressResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
    // The classes' prototypes take Express's place: what Express sets is what they already have.
    Object.setPrototypeOf(ExpressRequest.prototype, app.request);
    Object.setPrototypeOf(ExpressResponse.prototype, app.response);
    app.request = ExpressRequest.prototype as unknown as Express['request'];
    app.response = ExpressResponse.prototype as unknown as Express['response'];
    this.setHttpServer(createServer({ IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse }, app));
  }
}
