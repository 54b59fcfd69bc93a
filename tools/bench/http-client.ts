import { Pool } from 'undici';

export interface Response {
  status: number;
  body: string;
}

/** A request body: JSON, or raw bytes with their content type (multipart uploads). */
export type RequestBody = { json: unknown } | { contentType: string; bytes: Buffer };

/**
 * A keep-alive HTTP/1.1 client for one loopback server: a pool of `connections`, one request at
 * a time on each. Benchmarks that compare servers drive each through one of these with the same
 * settings, so the client costs every side the same.
 *
 * It is undici's pool rather than `node:http`: on this 2-core machine the load generator shares
 * the cores with the server it measures, and `http.request` cost ~100 µs of CPU per request (as
 * much as a version read costs the suite), undici's pool ~35 µs (docs/decisions.md,
 * "Performance (issue 16, sixth pass)").
 */
export class KeepAliveClient {
  private readonly pool: Pool;

  constructor(
    readonly port: number,
    connections: number,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {
    this.pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  }

  /** One request; the status and the body as text. */
  async call(method: string, path: string, body?: RequestBody, headers: Readonly<Record<string, string>> = {}): Promise<Response> {
    const payload = body === undefined ? undefined : 'json' in body ? Buffer.from(JSON.stringify(body.json)) : body.bytes;
    const contentType = body === undefined ? undefined : 'json' in body ? 'application/json' : body.contentType;
    const response = await this.pool.request({
      method: method as 'GET',
      path,
      headers: { ...this.headers, ...headers, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      body: payload,
    });
    return { status: response.statusCode, body: await response.body.text() };
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
