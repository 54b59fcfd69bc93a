import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/**
 * A version's source is stored in the immutable log, shown to every viewer and published on
 * Kafka, and later fetched by the evaluator: what may not be stored or fetched is refused at
 * registration, with a problem that says which setting decides, and nothing is appended.
 */
describe('what a version source may be', () => {
  let dir: string;
  let roots: string;
  let strict: RegistryHarness;
  let open: RegistryHarness;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-sources-'));
    roots = join(dir, 'models');
    await mkdir(roots);
    await writeFile(join(roots, 'inside.onnx'), 'inside');
    await writeFile(join(dir, 'outside.onnx'), 'outside');
    await symlink(join(dir, 'outside.onnx'), join(roots, 'link-out.onnx'));
    await symlink('/proc/self/environ', join(dir, 'environ.onnx'));
    strict = await startRegistry({ env: { MRW_ALLOW_FILE_SOURCES: 'true', MRW_FILE_SOURCE_ROOTS: roots } });
    open = await startRegistry({ env: { MRW_ALLOW_FILE_SOURCES: 'true', MRW_FILE_SOURCE_ROOTS: '/', MRW_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    for (const registry of [strict, open]) await registry.http('POST', '/api/v1/models', { body: { name: 'm' } });
  });

  afterAll(async () => {
    await Promise.all([strict.close(), open.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const head = (registry: RegistryHarness): Promise<bigint> => registry.app.get<EventStore>(EVENT_STORE).headPosition();

  /** Registers `source` and checks that a refusal appended nothing. */
  const register = async (registry: RegistryHarness, source: string) => {
    const before = await head(registry);
    const response = await registry.http('POST', '/api/v1/models/m/versions', { body: { source } });
    if (response.status !== 201) {
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await head(registry)).toBe(before);
    }
    return response;
  };

  describe('credentials in the URL', () => {
    it.each([
      ['user info', 'https://u:p4ssw0rd@models.example.com/m.onnx'],
      ['an S3 signature', 'https://b.s3.amazonaws.com/m.onnx?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=f00d'],
      ['a GCS signature', 'https://storage.googleapis.com/b/m.onnx?X-Goog-Signature=f00d'],
      ['an Azure SAS', 'https://a.blob.core.windows.net/c/m.onnx?sv=2022-11-02&sp=r&sig=f00d'],
      ['an access token', 'https://models.example.com/m.onnx?access_token=f00d'],
      ['an API key', 'https://models.example.com/m.onnx?api_key=f00d'],
    ])('refuses %s with 422, says what to do instead, and does not echo the secret', async (_, source) => {
      const response = await register(strict, source);
      expect([response.status, response.body.code]).toEqual([422, 'SOURCE_HAS_CREDENTIALS']);
      expect(response.body.detail).toContain('POST /api/v1/artifacts');
      expect(JSON.stringify(response.body)).not.toMatch(/p4ssw0rd|f00d|AKIAEXAMPLE/);
    });

    it('accepts a plain URL', async () => {
      const response = await register(strict, 'https://models.example.com/m.onnx?version=3');
      expect(response.status).toBe(201);
    });
  });

  describe('addresses outbound calls may not reach', () => {
    it.each([
      ['loopback', 'http://127.0.0.1:8080/m.onnx', 'loopback'],
      ['IPv6 loopback', 'http://[::1]:8080/m.onnx', 'loopback'],
      ['a name for loopback', 'http://localhost:8080/m.onnx', 'loopback'],
      ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/iam/', 'linkLocal'],
      ['a private network', 'https://10.0.0.8/m.onnx', 'private'],
      ['an IPv4-mapped private address', 'https://[::ffff:192.168.0.8]/m.onnx', 'private'],
    ])('refuses %s with 422 naming MRW_OUTBOUND_ALLOWED_HOSTS', async (_, source, range) => {
      const response = await register(strict, source);
      expect([response.status, response.body.code]).toEqual([422, 'OUTBOUND_ADDRESS_REFUSED']);
      expect(response.body).toMatchObject({ range, setting: 'MRW_OUTBOUND_ALLOWED_HOSTS' });
      expect(response.body.detail).toContain('MRW_OUTBOUND_ALLOWED_HOSTS');
    });

    it('accepts what the operator allows', async () => {
      const response = await register(open, 'http://127.0.0.1:8080/m.onnx');
      expect(response.status).toBe(201);
    });
  });

  describe('file:// sources', () => {
    it('hashes a file under MRW_FILE_SOURCE_ROOTS', async () => {
      const response = await register(strict, `file://${join(roots, 'inside.onnx')}`);
      expect(response.status).toBe(201);
      expect(response.body.digest).toBe(`sha256:${createHash('sha256').update('inside').digest('hex')}`);
    });

    it.each([
      ['a file outside the roots', () => `file://${join(dir, 'outside.onnx')}`],
      ['a path that climbs out of a root', () => `file://${roots}/../outside.onnx`],
      ['a symlink under a root to a file outside it', () => `file://${join(roots, 'link-out.onnx')}`],
      ['a missing file outside the roots (no probing)', () => 'file:///no/such/model.onnx'],
    ])('refuses %s with 403 naming MRW_FILE_SOURCE_ROOTS', async (_, source) => {
      const response = await register(strict, source());
      expect([response.status, response.body.code]).toEqual([403, 'FILE_SOURCE_NOT_ALLOWED']);
      expect(response.body.detail).toContain('MRW_FILE_SOURCE_ROOTS');
    });

    it('refuses a missing file under a root as an invalid source', async () => {
      const response = await register(strict, `file://${join(roots, 'missing.onnx')}`);
      expect([response.status, response.body.code]).toEqual([422, 'INVALID_SOURCE']);
    });

    it.each([
      ['/proc/self/environ', () => 'file:///proc/self/environ', '/proc'],
      ['/proc through a symlink', () => `file://${join(dir, 'environ.onnx')}`, '/proc'],
      ['/sys', () => 'file:///sys/kernel/mm/transparent_hugepage/enabled', '/sys'],
      ['/dev/zero', () => 'file:///dev/zero', '/dev'],
    ])('never reads %s, even when the roots include /', async (_, source, where) => {
      const response = await register(open, source());
      expect([response.status, response.body.code]).toEqual([403, 'FILE_SOURCE_NOT_ALLOWED']);
      expect(response.body.detail).toContain(`under ${where}`);
    });
  });
});
