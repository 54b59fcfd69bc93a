import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express, Response } from 'express';

/** An object or array a handler returns, as `JSON.stringify` writes it (no class, no stream, no buffer). */
const isPlainJson = (body: unknown): body is object => {
  if (typeof body !== 'object' || body === null) return false;
  if (Array.isArray(body)) return true;
  const prototype = Object.getPrototypeOf(body) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/**
 * Nest's Express adapter, tuned for a service that answers JSON on every request.
 *
 * **Requests and responses are born with Express's prototypes.** Express gives every request
 * and response its methods (`req.get`, `res.json`…) by swapping their prototypes
 * (`Object.setPrototypeOf`) as it receives them. V8 then treats both objects as having a new
 * shape, and every property access on them, in Node's HTTP code as in ours, misses its inline
 * cache. Measured here on a one-route Nest app with a guard and the validation pipe: 118 µs of
 * server CPU per request, against 41 µs when the server constructs its requests and responses
 * from classes whose prototypes are Express's own, so that the swap is setting a prototype to
 * the one already there, which V8 skips.
 *
 * **A handler's object or array is written as JSON directly.** Express's `res.json` then
 * `res.send` parse and format the content type again to add its charset, look the type up,
 * and hash every body with SHA-1 for a weak `ETag`. Here the same bytes and the same
 * `Content-Type`, `Content-Length` and status are written with `res.end`: a version read went
 * from 118 to 94 µs of server CPU. Nothing in the suite or its clients sent `If-None-Match`,
 * so JSON answers no longer carry an `ETag` (docs/decisions.md, "Performance (issue 16, sixth
 * pass)"). Anything else a handler returns (a string, a stream, a class instance), a response
 * whose content type the handler set, and a 204, 205 or 304 go through Express as before.
 */
export class LeanExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    const app = this.getInstance<Express>();
    // Which framework answers is nobody's business (and one header less on every answer).
    app.disable('x-powered-by');
    if (options.httpsOptions !== undefined || options.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    class ExpressRequest extends IncomingMessage {}
    class ExpressResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
    // The classes' prototypes take Express's place: what Express sets is what they already have.
    Object.setPrototypeOf(ExpressRequest.prototype, app.request);
    Object.setPrototypeOf(ExpressResponse.prototype, app.response);
    app.request = ExpressRequest.prototype as unknown as Express['request'];
    app.response = ExpressResponse.prototype as unknown as Express['response'];
    this.setHttpServer(createServer({ IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse }, app));
  }

  override reply(response: Response, body: unknown, statusCode?: number): unknown {
    const status = statusCode ?? response.statusCode;
    if (!isPlainJson(body) || status === 204 || status === 205 || status === 304 || response.hasHeader('Content-Type')) {
      return super.reply(response, body, statusCode);
    }
    const text = JSON.stringify(body);
    response.statusCode = status;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', Buffer.byteLength(text));
    // Node writes no body for HEAD; the length says what GET would send, as Express does.
    response.end(response.req.method === 'HEAD' ? undefined : text);
    return undefined;
  }
}
