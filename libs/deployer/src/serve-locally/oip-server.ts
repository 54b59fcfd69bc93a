import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InferRequestError, oipDatatype, parseInferRequest, tensorMetadata } from './oip-protocol';
import { ServedVersion, type VersionSpec } from './served-version';

export interface OipServerOptions {
  /** Largest request body accepted; larger ones are answered 413 without being read. */
  readonly bodyLimitBytes: number;
  /** How long a switch waits for the old version's requests before unloading it anyway. */
  readonly drainTimeoutMs: number;
  /** onnxruntime intra-op threads per served version. */
  readonly threads: number;
}

/** A model's versions in this process: the one that answers unversioned requests, and any loaded beside it. */
interface ModelSlot {
  serving: ServedVersion | undefined;
  readonly loaded: Map<string, ServedVersion>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

/**
 * An Open Inference Protocol v2 REST server for one environment. A switch loads the new version
 * beside the serving one, flips the pointer (one assignment, between two requests), then waits
 * for the old version's in-flight requests before unloading it: no request sees neither.
 */
export class OipServer {
  private readonly models = new Map<string, ModelSlot>();
  private readonly server: Server;

  constructor(private readonly options: OipServerOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : error instanceof InferRequestError ? 400 : 500;
        this.reply(response, status, { error: error instanceof Error ? error.message : String(error) });
      });
    });
    // Clients keep connections open across a switch; idle ones are closed only on shutdown.
    this.server.keepAliveTimeout = 30_000;
  }

  /** Listens on loopback; resolves with the port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Loads a version beside whatever serves; it answers only requests that name its version until promoted. */
  async load(spec: VersionSpec): Promise<void> {
    const slot = this.slot(spec.model);
    if (slot.loaded.has(spec.version)) return;
    const version = await ServedVersion.load(spec, this.options.threads);
    slot.loaded.set(spec.version, version);
  }

  /**
   * Makes a loaded version the one that serves, then drains and unloads the one it replaces.
   * Resolves with the version retired, if any.
   */
  async promote(model: string, version: string): Promise<string | null> {
    const slot = this.slot(model);
    const next = slot.loaded.get(version);
    if (!next) throw new Error(`${model} version ${version} is not loaded`);
    const previous = slot.serving;
    if (previous === next) return null;
    slot.serving = next;
    if (!previous) return null;
    // Requests naming the old version by number are refused from now on (404), so draining ends.
    slot.loaded.delete(previous.version);
    await previous.drain(this.options.drainTimeoutMs);
    await previous.close();
    return previous.version;
  }

  /** Drops a loaded version that does not serve (a deployment that failed its health check). */
  async unload(model: string, version: string): Promise<void> {
    const slot = this.models.get(model);
    const loaded = slot?.loaded.get(version);
    if (!slot || !loaded || slot.serving === loaded) return;
    slot.loaded.delete(version);
    await loaded.drain(this.options.drainTimeoutMs);
    await loaded.close();
  }

  /** Which version serves each model. */
  serving(): Array<{ model: string; version: string }> {
    return [...this.models].flatMap(([model, slot]) => (slot.serving ? [{ model, version: slot.serving.version }] : []));
  }

  /** Stops accepting connections, lets requests in flight finish, unloads every version. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    for (const slot of this.models.values()) for (const version of slot.loaded.values()) await version.close();
    this.models.clear();
  }

  private slot(model: string): ModelSlot {
    let slot = this.models.get(model);
    if (!slot) {
      slot = { serving: undefined, loaded: new Map() };
      this.models.set(model, slot);
    }
    return slot;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const method = request.method ?? 'GET';
    if (path === '/v2/health/live') return this.expect(method, 'GET', () => this.reply(response, 200, { live: true }));
    if (path === '/v2/health/ready') {
      // Ready when every model asked for serves a version, and there is at least one.
      const ready = this.models.size > 0 && [...this.models.values()].every((s) => s.serving !== undefined);
      return this.expect(method, 'GET', () => this.reply(response, ready ? 200 : 503, { ready }));
    }
    if (path === '/v2') {
      return this.expect(method, 'GET', () => this.reply(response, 200, { name: 'mrw-local-runtime', version: '1', extensions: [] }));
    }
    const match = ROUTE.exec(path);
    if (!match) throw new HttpError(404, `no route ${method} ${path}`);
    const model = decodeURIComponent(match[1] as string);
    const versionName = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const action = match[3];
    if (action === '/infer') {
      if (method !== 'POST') throw new HttpError(405, `${path} takes POST`);
      const body = await this.readJson(request);
      // Lookup and acquire in one tick: a switch cannot retire this version between them.
      const version = this.find(model, versionName);
      const release = version.acquire();
      try {
        const parsed = parseInferRequest(body, version.inputs, version.outputs);
        const result = await version.infer(parsed.feeds, parsed.outputs);
        return this.reply(response, 200, {
          model_name: model,
          model_version: version.version,
          ...(parsed.id !== undefined ? { id: parsed.id } : {}),
          outputs: parsed.outputs.map((name) => {
            const tensor = result[name];
            if (!tensor) throw new Error(`the model returned no ${name}`);
            return { name, datatype: oipDatatype(tensor.type), shape: tensor.dims, data: Array.from(tensor.data as ArrayLike<number>) };
          }),
        });
      } finally {
        release();
      }
    }
    if (method !== 'GET') throw new HttpError(405, `${path} takes GET`);
    if (action === '/ready') {
      const slot = this.models.get(model);
      if (!slot) throw new HttpError(404, `model '${model}' is not served here`);
      // A named version is ready once loaded; the model is ready once a version serves.
      if (versionName !== undefined) this.find(model, versionName);
      const ready = versionName !== undefined || slot.serving !== undefined;
      return this.reply(response, ready ? 200 : 503, { name: model, ready });
    }
    const version = this.find(model, versionName);
    const slot = this.models.get(model) as ModelSlot;
    return this.reply(response, 200, {
      name: model,
      versions: [...slot.loaded.keys()],
      platform: 'onnxruntime',
      inputs: version.inputs.map(tensorMetadata),
      outputs: version.outputs.map(tensorMetadata),
    });
  }

  /** The version a request addresses: the serving one, or a loaded one by name; 404/503 otherwise. */
  private find(model: string, version: string | undefined): ServedVersion {
    const slot = this.models.get(model);
    if (!slot) throw new HttpError(404, `model '${model}' is not served here`);
    if (version !== undefined) {
      const named = slot.loaded.get(version);
      if (!named) throw new HttpError(404, `model '${model}' version '${version}' is not served here`);
      return named;
    }
    if (!slot.serving) throw new HttpError(503, `model '${model}' has no serving version yet`);
    return slot.serving;
  }

  private expect(method: string, allowed: string, then: () => void): void {
    if (method !== allowed) throw new HttpError(405, `takes ${allowed}`);
    then();
  }

  private readJson(request: IncomingMessage): Promise<unknown> {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.options.bodyLimitBytes) {
      request.resume();
      return Promise.reject(new HttpError(413, `the request body is larger than ${this.options.bodyLimitBytes} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.options.bodyLimitBytes) {
          request.removeAllListeners('data');
          request.resume();
          reject(new HttpError(413, `the request body is larger than ${this.options.bodyLimitBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      request.once('error', reject);
      request.once('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(new HttpError(400, `the request body is not JSON: ${(error as Error).message}`));
        }
      });
    });
  }

  private reply(response: ServerResponse, status: number, body: unknown): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }
}
