import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { ProblemException } from '../problem/problem';

/** Headers about one connection, not the request: each hop has its own (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

/** The headers to pass on: not the hop-by-hop ones, nor those the message's `Connection` names. */
const endToEnd = (raw: readonly string[], hopByHop: ReadonlySet<string>): string[] => {
  const drop = new Set(hopByHop);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const name of (raw[i + 1] as string).split(',')) drop.add(name.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!drop.has(name.toLowerCase())) kept.push(name, raw[i + 1] as string);
  }
  return kept;
};

/** Response headers a hop sets itself: Node frames the body again for the client. */
const RESPONSE_HOP_BY_HOP = new Set([...HOP_BY_HOP, 'transfer-encoding']);

/**
 * A reader's way to the suite: every request the reader does not serve goes to the suite's
 * private socket as it came (method, target, headers, body streamed both ways), and the
 * suite's answer comes back as it was given, a live event stream included. The suite logs and
 * counts it as any request. Only if the suite cannot be reached before it answers is the
 * client told so, with a 502 problem document; a failure mid-answer cuts the connection, as
 * the suite's own would.
 */
export const forwardToLeader = (socketPath: string) => {
  // Idle connections to the suite are dropped before its keep-alive timeout (5 s) would close them
  // under a request just sent.
  const agent = new Agent({ keepAlive: true, timeout: 4_000 });
  return (request: IncomingMessage, response: ServerResponse): void => {
    const upstream = httpRequest(
      { socketPath, agent, method: request.method, path: request.url, headers: endToEnd(request.rawHeaders, HOP_BY_HOP) },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders, RESPONSE_HOP_BY_HOP));
        answer.pipe(response);
        answer.once('error', () => response.destroy());
      },
    );
    upstream.once('error', () => {
      if (response.headersSent) return void response.destroy();
      const problem = new ProblemException('SUITE_UNAVAILABLE', 'the suite process behind this reader is not answering; retry', {}, 502);
      const body = JSON.stringify(problem.toDocument());
      response.writeHead(502, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
    // The client gone before the answer is complete: the suite's request is abandoned with it.
    response.once('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  };
};
