import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressPolicy, OutboundHttp } from '@mrw/outbound';
import { ContentAddressedStore } from './content-addressed-store';
import { ArtifactError, fetchArtifact, type FetchOptions } from './fetch-artifact';

const MODEL = Buffer.from('pretend this is an onnx model');
const DIGEST = `sha256:${createHash('sha256').update(MODEL).digest('hex')}`;

describe('fetchArtifact', () => {
  let dir: string;
  let store: ContentAddressedStore;
  let server: Server;
  let base: string;
  let requests: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-fetch-'));
    store = new ContentAddressedStore(join(dir, 'store'));
    requests = [];
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push(req.url ?? '');
      if (req.url === '/model.onnx') res.writeHead(200).end(MODEL);
      else if (req.url === '/endless') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      } else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const options = (overrides: Partial<FetchOptions> & { allowed?: string } = {}): FetchOptions => ({
    store,
    http: new OutboundHttp({ policy: AddressPolicy.fromSetting(overrides.allowed ?? '127.0.0.1') }),
    fileSources: { allowed: false, roots: [] },
    maxBytes: 1024 * 1024,
    ...overrides,
  });

  const refusal = async (promise: Promise<unknown>): Promise<ArtifactError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof ArtifactError)) throw new Error(`expected an ArtifactError, got ${String(error)}`);
    return error;
  };

  describe('http(s) sources, through the guarded client', () => {
    it('fetches and verifies a model, keeps it in the store, and does not fetch it again', async () => {
      const first = await fetchArtifact(`${base}/model.onnx`, DIGEST, options());
      expect(Buffer.from(first)).toEqual(MODEL);
      expect(await store.has(DIGEST)).toBe(true);
      const again = await fetchArtifact(`${base}/model.onnx`, DIGEST, options());
      expect(Buffer.from(again)).toEqual(MODEL);
      expect(requests).toEqual(['/model.onnx']);
    });

    it('refuses an address the policy refuses, naming the setting', async () => {
      const error = await refusal(fetchArtifact(`${base}/model.onnx`, DIGEST, options({ allowed: '' })));
      expect(error.code).toBe('SOURCE_NOT_ALLOWED');
      expect(error.message).toContain('MRW_OUTBOUND_ALLOWED_HOSTS');
      expect(requests).toEqual([]);
    });

    it('stops reading at the size limit and leaves no scratch file behind', async () => {
      const error = await refusal(fetchArtifact(`${base}/endless`, null, options({ maxBytes: 256 * 1024 })));
      expect(error.code).toBe('ARTIFACT_TOO_LARGE');
      expect(error.message).toContain('MRW_MAX_ARTIFACT_BYTES');
      expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
    });

    it('refuses bytes that do not match the recorded digest, and does not store them', async () => {
      const recorded = `sha256:${'0'.repeat(64)}`;
      const error = await refusal(fetchArtifact(`${base}/model.onnx`, recorded, options()));
      expect(error.code).toBe('DIGEST_MISMATCH');
      expect(await store.has(DIGEST)).toBe(false);
      expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
    });

    it('reports an HTTP error as FETCH_FAILED', async () => {
      expect(await refusal(fetchArtifact(`${base}/gone.onnx`, null, options()))).toMatchObject({ code: 'FETCH_FAILED' });
    });
  });

  describe('file:// sources', () => {
    it('reads a file under a root, and refuses one outside, naming the setting', async () => {
      const roots = join(dir, 'models');
      await mkdir(roots);
      await writeFile(join(roots, 'm.onnx'), MODEL);
      await writeFile(join(dir, 'other.onnx'), MODEL);
      const fileSources = { allowed: true, roots: [roots] };
      expect(Buffer.from(await fetchArtifact(`file://${join(roots, 'm.onnx')}`, DIGEST, options({ fileSources })))).toEqual(MODEL);
      const outside = await refusal(fetchArtifact(`file://${join(dir, 'other.onnx')}`, DIGEST, options({ fileSources })));
      expect(outside.code).toBe('SOURCE_NOT_ALLOWED');
      expect(outside.message).toContain('MRW_FILE_SOURCE_ROOTS');
      const large = await refusal(fetchArtifact(`file://${join(roots, 'm.onnx')}`, DIGEST, options({ fileSources, maxBytes: 4 })));
      expect(large.code).toBe('ARTIFACT_TOO_LARGE');
    });

    it('refuses file sources when they are switched off, and /proc whatever the roots', async () => {
      const off = await refusal(fetchArtifact('file:///etc/hostname', null, options()));
      expect([off.code, off.message]).toEqual(['SOURCE_NOT_ALLOWED', expect.stringContaining('MRW_ALLOW_FILE_SOURCES')]);
      const proc = await refusal(fetchArtifact('file:///proc/self/environ', null, options({ fileSources: { allowed: true, roots: ['/'] } })));
      expect([proc.code, proc.message]).toEqual(['SOURCE_NOT_ALLOWED', expect.stringContaining('under /proc')]);
    });
  });
});
