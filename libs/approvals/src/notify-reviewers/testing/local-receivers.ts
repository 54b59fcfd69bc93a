import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One request as it reached a receiver: the raw body exactly as sent, for signature checks. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP server on 127.0.0.1 standing in for Slack, Teams or a webhook receiver. */
export interface HttpReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly received: ReceivedRequest[];
  /** Resolves once `count` requests have arrived (no sleeping). */
  waitFor(count: number): Promise<readonly ReceivedRequest[]>;
  close(): Promise<void>;
}

export type Answer = (request: ReceivedRequest, res: ServerResponse) => void;

/** Starts a receiver answering each request with `answer` (default 200 `ok`, as Slack does). */
export const startHttpReceiver = async (answer: Answer = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')): Promise<HttpReceiver> => {
  const received: ReceivedRequest[] = [];
  const waiters: Array<{ count: number; resolve: (r: readonly ReceivedRequest[]) => void }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve(received);
      answer(request, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    received,
    waitFor: (count) => (received.length >= count ? Promise.resolve(received) : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

/** A message as it reached the SMTP server: its envelope and the parsed message. */
export interface ReceivedMail {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly mail: ParsedMail;
  readonly raw: string;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly received: ReceivedMail[];
  waitFor(count: number): Promise<readonly ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpReceiverOptions {
  /** The only credentials accepted (AUTH PLAIN/LOGIN without TLS, as a local relay would allow). */
  readonly user: string;
  readonly password: string;
  /** Refuse a recipient with this SMTP reply code (e.g. 550, 451). */
  readonly refuseRecipient?: (address: string) => number | undefined;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps every message it accepts. */
export const startSmtpReceiver = async (options: SmtpReceiverOptions): Promise<SmtpReceiver> => {
  const received: ReceivedMail[] = [];
  const waiters: Array<{ count: number; resolve: (r: readonly ReceivedMail[]) => void }> = [];
  const settings: SMTPServerOptions = {
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const code = options.refuseRecipient?.(address.address);
      if (code !== undefined) callback(Object.assign(new Error(`${address.address}: refused for this test`), { responseCode: code }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (mail) => {
            const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
            received.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, mail, raw: raw.toString('utf8') });
            for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve(received);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  };
  const server = new SMTPServer(settings);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    waitFor: (count) => (received.length >= count ? Promise.resolve(received) : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
