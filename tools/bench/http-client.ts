import { Agent, request } from 'node:http';

export interface Response {
  status: number;
  body: string;
}

/** A request body: JSON, or raw bytes with their content type (multipart uploads). */
export type RequestBody = { json: unknown } | { contentType: string; bytes: Buffer };

/**
 * A keep-alive HTTP/1.1 client for one loopback server. Benchmarks that compare servers drive
 * each through one of these with the same settings, so the client costs every side the same.
 */
export class KeepAliveClient {
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    maxSockets: number,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** One request; the status and the body as text. */
  call(method: string, path: string, body?: RequestBody, headers: Readonly<Record<string, string>> = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : 'json' in body ? Buffer.from(JSON.stringify(body.json)) : body.bytes;
      const contentType = body === undefined ? undefined : 'json' in body ? 'application/json' : body.contentType;
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: { ...this.headers, ...headers, ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes the idle connections. */
  close(): void {
    this.agent.destroy();
  }
}
