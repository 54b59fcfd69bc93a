import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { AddressPolicy, type AddressRefusal } from '../address-policy/address-policy';
import { describeUrl, OutboundError } from '../outbound-error';
import { sharedLookups, type ResolvedAddress, type Resolver } from './shared-lookups';

export type { ResolvedAddress, Resolver } from './shared-lookups';

export interface OutboundTimeouts {
  /** From the start of a request until the connection (and TLS) is up, name resolution included. */
  readonly connectMs?: number;
  /** The longest silence once connected: waiting for the response headers, and between body chunks. */
  readonly responseMs?: number;
}

export interface OutboundRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The most body bytes accepted; the call fails with OUTBOUND_TOO_LARGE as soon as more arrive. */
  readonly maxBytes?: number;
  readonly timeouts?: OutboundTimeouts;
  /** Redirects followed (default 5 for GET and HEAD, 0 for others: their 3xx is returned as is). */
  readonly maxRedirects?: number;
  /** The certificate authorities (PEM) an https server's certificate must chain to, instead of the system's: a cluster's own CA. */
  readonly ca?: string;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** The body as it arrives, failing with an OutboundError past `maxBytes` or on a timeout; destroy it to hang up. */
  readonly body: Readable;
  /** The whole body (bounded by `maxBytes`). */
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
}

export interface OutboundHttpOptions {
  readonly policy: AddressPolicy;
  readonly resolve?: Resolver;
  readonly timeouts?: OutboundTimeouts;
  /** The default body limit of a request that names none. */
  readonly maxBytes?: number;
  readonly userAgent?: string;
  /**
   * Keep connections open for the next request to the same host and port (webhooks: many small
   * POSTs to the same receivers). A pooled connection was checked by the address policy when it
   * was made; a new one is checked again.
   */
  readonly keepAlive?: boolean;
}

const DEFAULT_CONNECT_MS = 10_000;
const DEFAULT_RESPONSE_MS = 30_000;
const DEFAULT_MAX_BYTES = 16 * 1024 ** 2;
const DEFAULT_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Sent to the origin that was asked, not to wherever it redirects.
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const ignore = (): void => undefined;

/** The system's resolver, one lookup per name at a time for the whole process (see sharedLookups). */
const systemResolver: Resolver = sharedLookups(async (hostname) => dnsLookup(hostname, { all: true, verbatim: true }), {
  keepMs: 5_000,
  maxHosts: 1_000,
});

const refused = (url: URL, refusal: AddressRefusal): OutboundError =>
  new OutboundError('OUTBOUND_ADDRESS_REFUSED', `${describeUrl(url)}: ${refusal.message}`, {
    host: refusal.host,
    address: refusal.address,
    range: refusal.range,
    setting: refusal.setting,
  });

const portOf = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Counts body bytes and fails the stream the moment there are more than allowed. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly url: URL,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(new OutboundError('OUTBOUND_TOO_LARGE', `${describeUrl(this.url)} sent more than the ${this.limit}-byte limit`, { limit: this.limit }));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * The one HTTP client for calls made on a user's behalf (model sources, and later webhooks,
 * chat and CD triggers). Every address it connects to, redirects included, is checked against
 * the address policy at connect time, so a name that resolves elsewhere later (DNS rebinding)
 * is caught; connects and silences are timed out; bodies are bounded while they stream.
 */
export class OutboundHttp {
  private readonly resolveHost: Resolver;
  private readonly connectMs: number;
  private readonly responseMs: number;
  private readonly maxBytes: number;
  private readonly agents: { readonly http: http.Agent; readonly https: https.Agent } | undefined;

  constructor(private readonly options: OutboundHttpOptions) {
    this.agents = options.keepAlive
      ? { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) }
      : undefined;
    this.resolveHost = options.resolve ?? systemResolver;
    this.connectMs = options.timeouts?.connectMs ?? DEFAULT_CONNECT_MS;
    this.responseMs = options.timeouts?.responseMs ?? DEFAULT_RESPONSE_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Closes the connections kept open (with `keepAlive`); the client makes new ones if used again. */
  close(): void {
    this.agents?.http.destroy();
    this.agents?.https.destroy();
  }

  /** Parses a URL the client would call; throws OUTBOUND_URL_REFUSED for anything but http(s). */
  static parseUrl(input: string | URL): URL {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new OutboundError('OUTBOUND_URL_REFUSED', `${String(input).slice(0, 200)} is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OutboundError('OUTBOUND_URL_REFUSED', `${url.protocol} URLs are not called: only http: and https:`);
    }
    return url;
  }

  /**
   * Checks, without connecting, what can be known now: the scheme, a literal address, and what the
   * name resolves to at the moment. A name that does not resolve here passes (it may resolve
   * where the call is made); the check at connect time is the one that counts.
   */
  async check(input: string | URL): Promise<void> {
    const url = OutboundHttp.parseUrl(input);
    const host = hostOf(url);
    if (isIP(host)) {
      this.checkAddress(url, host);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const addresses = await Promise.race([
      this.resolveHost(host).catch(() => []),
      new Promise<readonly ResolvedAddress[]>((resolve) => (timer = setTimeout(() => resolve([]), this.connectMs))),
    ]).finally(() => clearTimeout(timer));
    if (addresses.length === 0) return;
    const refusals = addresses.map((a) => this.options.policy.check(host, portOf(url), a.address));
    const first = refusals[0];
    if (first && refusals.every((r) => r !== undefined)) throw refused(url, first);
  }

  /** Calls a URL; resolves once the response headers are in, with the body still to read. */
  async request(input: string | URL, init: OutboundRequest = {}): Promise<OutboundResponse> {
    let url = OutboundHttp.parseUrl(input);
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'mrw-outbound', ...lowerCased(init.headers) };
    const maxRedirects = init.maxRedirects ?? (method === 'GET' || method === 'HEAD' ? DEFAULT_REDIRECTS : 0);
    const maxBytes = init.maxBytes ?? this.maxBytes;
    for (let redirects = 0; ; redirects++) {
      const { response, fail } = await this.once(url, method, headers, body, init.timeouts, init.ca);
      const location = response.headers.location;
      if (maxRedirects === 0 || !REDIRECTS.has(response.statusCode ?? 0) || !location) {
        return this.wrap(url, response, fail, maxBytes);
      }
      response.destroy();
      if (redirects >= maxRedirects) {
        throw new OutboundError('OUTBOUND_TOO_MANY_REDIRECTS', `${describeUrl(url)}: more than ${maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = OutboundHttp.parseUrl(new URL(location, url));
      } catch (error) {
        throw new OutboundError('OUTBOUND_URL_REFUSED', `${describeUrl(url)} redirects to a URL that is not called: ${(error as Error).message}`);
      }
      if (next.origin !== url.origin) for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
      const status = response.statusCode ?? 0;
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      url = next;
    }
  }

  private checkAddress(url: URL, address: string): void {
    const refusal = this.options.policy.check(hostOf(url), portOf(url), address);
    if (refusal) throw refused(url, refusal);
  }

  /** One exchange, up to the response headers; `fail` ends it later with a typed error. */
  private once(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    timeouts: OutboundTimeouts | undefined,
    ca: string | undefined,
  ): Promise<{ response: IncomingMessage; fail: (error: OutboundError) => void }> {
    const connectMs = timeouts?.connectMs ?? this.connectMs;
    const responseMs = timeouts?.responseMs ?? this.responseMs;
    const host = hostOf(url);
    const port = portOf(url);
    // Node does not call `lookup` for a literal address, so a literal is checked here.
    if (isIP(host)) this.checkAddress(url, host);
    const lookup: LookupFunction = (hostname, options, callback) => {
      this.resolveHost(hostname).then(
        (addresses) => {
          const family = typeof options.family === 'number' && options.family !== 0 ? options.family : undefined;
          const candidates = addresses.filter((a) => family === undefined || a.family === family);
          const refusals = candidates.map((a) => this.options.policy.check(hostname, port, a.address));
          const allowed = candidates.filter((_, i) => refusals[i] === undefined);
          const first = allowed[0];
          if (!first) {
            const refusal = refusals[0];
            const error = refusal
              ? refused(url, refusal)
              : new OutboundError('OUTBOUND_FAILED', `${describeUrl(url)}: ${hostname} has no address`);
            callback(error as unknown as NodeJS.ErrnoException, '', 0);
            return;
          }
          if (options.all) callback(null, allowed.map((a) => ({ address: a.address, family: a.family })));
          else callback(null, first.address, first.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      );
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let failure: OutboundError | undefined;
      let response: IncomingMessage | undefined;
      // A pool only where asked for, and never for a request with its own CA (its connections are not like the others).
      const agent = this.agents && ca === undefined ? (url.protocol === 'https:' ? this.agents.https : this.agents.http) : false;
      const request = client.request(url, { method, headers, lookup, agent, ...(ca !== undefined && url.protocol === 'https:' ? { ca } : {}) });
      const fail = (error: OutboundError): void => {
        failure ??= error;
        clearTimeout(connectTimer);
        request.destroy(failure);
        response?.destroy(failure);
      };
      const connectTimer = setTimeout(
        () => fail(new OutboundError('OUTBOUND_TIMEOUT', `${describeUrl(url)}: no connection within ${connectMs} ms`, { phase: 'connect', timeoutMs: connectMs })),
        connectMs,
      );
      request.on('socket', (socket: Socket) => {
        const silent = (): void =>
          fail(new OutboundError('OUTBOUND_TIMEOUT', `${describeUrl(url)}: nothing received for ${responseMs} ms`, { phase: 'response', timeoutMs: responseMs }));
        const connected = (): void => {
          clearTimeout(connectTimer);
          socket.setTimeout(responseMs);
          socket.on('timeout', silent);
        };
        // This exchange's silence timer ends with it: a pooled socket serves the next one with its own.
        request.once('close', () => socket.off('timeout', silent));
        // A pooled socket is connected already.
        if (socket.connecting) socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
        else connected();
      });
      request.on('response', (incoming) => {
        response = incoming;
        // Failures reach the reader through the body stream; this keeps one without a reader from crashing the process.
        incoming.on('error', ignore);
        resolve({ response: incoming, fail });
      });
      request.on('error', (error) => {
        clearTimeout(connectTimer);
        if (response) return; // the body stream reports it
        reject(
          failure ?? (error instanceof OutboundError ? error : new OutboundError('OUTBOUND_FAILED', `${describeUrl(url)}: ${error.message}`)),
        );
      });
      request.end(body);
    });
  }

  private wrap(url: URL, response: IncomingMessage, fail: (error: OutboundError) => void, maxBytes: number): OutboundResponse {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      const error = new OutboundError('OUTBOUND_TOO_LARGE', `${describeUrl(url)} is ${declared} bytes, above the ${maxBytes}-byte limit`, {
        limit: maxBytes,
      });
      fail(error);
      throw error;
    }
    const limited = new ByteLimit(maxBytes, url);
    limited.on('error', ignore);
    pipeline(response, limited, (error) => {
      if (!error) return;
      // The socket is closed at once; the reader sees why, in our terms.
      const reason =
        error instanceof OutboundError ? error : new OutboundError('OUTBOUND_FAILED', `${describeUrl(url)}: the body broke off (${error.message})`);
      fail(reason);
      limited.destroy(reason);
    });
    const bytes = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const chunk of limited) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    return {
      status: response.statusCode ?? 0,
      headers: response.headers,
      url,
      body: limited,
      bytes,
      text: async () => (await bytes()).toString('utf8'),
    };
  }
}

const lowerCased = (headers: Readonly<Record<string, string>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
