import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

const upload = async (registry: RegistryHarness, bytes: Buffer, token = registry.adminToken) => {
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'model.onnx');
  const response = await fetch(`${registry.baseUrl}/api/v1/artifacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as any };
};

describe('registry lifecycle', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-lifecycle-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores uploads by content and pins the digest on the version', async () => {
    const registry = await startRegistry({ dataDir });
    try {
      const bytes = Buffer.from('onnx model bytes for a content-addressed upload');
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const first = await upload(registry, bytes);
      const again = await upload(registry, bytes);
      expect(first).toEqual({ status: 201, body: { uri: `artifacts://sha256/${digest.slice(7)}`, digest, size: bytes.length } });
      expect(again.body).toEqual(first.body);

      await registry.http('POST', '/api/v1/models', { body: { name: 'uploaded' } });
      const mismatch = await registry.http('POST', '/api/v1/models/uploaded/versions', {
        body: { source: first.body.uri, artifactDigest: `sha256:${'1'.repeat(64)}` },
      });
      expect([mismatch.status, mismatch.body.code]).toEqual([422, 'DIGEST_MISMATCH']);
      const version = await registry.http('POST', '/api/v1/models/uploaded/versions', { body: { source: first.body.uri } });
      expect(version.status).toBe(201);
      expect(version.body).toMatchObject({ version: 1, source: first.body.uri, digest });

      const missingPart = await fetch(`${registry.baseUrl}/api/v1/artifacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${registry.adminToken}` },
        body: new FormData(),
      });
      expect(missingPart.status).toBe(400);
    } finally {
      await registry.close();
    }
  });

  it('hashes file:// sources where the operator allows them', async () => {
    const registry = await startRegistry({ dataDir, env: { MRW_ALLOW_FILE_SOURCES: 'true', MRW_FILE_SOURCE_ROOTS: __dirname } });
    try {
      const file = join(__dirname, 'registry-lifecycle.e2e.spec.ts');
      const digest = `sha256:${createHash('sha256').update(await readFile(file)).digest('hex')}`;
      await registry.http('POST', '/api/v1/models', { body: { name: 'local' } });
      const version = await registry.http('POST', '/api/v1/models/local/versions', { body: { source: `file://${file}` } });
      expect(version.body.digest).toBe(digest);
      const missing = await registry.http('POST', '/api/v1/models/local/versions', { body: { source: `file://${join(__dirname, 'no-such-model.onnx')}` } });
      expect([missing.status, missing.body.code]).toEqual([422, 'INVALID_SOURCE']);
    } finally {
      await registry.close();
    }
  });

  it('requests an evaluation on entering Staging and audits a refused promotion with its reasons', async () => {
    const registry = await startRegistry({ dataDir });
    try {
      await registry.http('POST', '/api/v1/models', { body: { name: 'gated' } });
      const policy = await registry.http('PUT', '/api/v1/models/gated/policy', {
        body: {
          evaluation: { set: 'churn-holdout', thresholds: { accuracy: { threshold: 0.85 } } },
          approval: { Production: { required: 2, reviewers: ['role:reviewer'], expiresIn: 'P3D' } },
        },
      });
      expect(policy.status).toBe(200);
      expect(policy.body.approval.Production.required).toBe(2);
      await registry.http('POST', '/api/v1/models/gated/versions', { body: { source: 'https://models.example.com/g.onnx' } });

      const staging = await registry.http('POST', '/api/v1/models/gated/versions/1/transitions', { body: { toStage: 'Staging' } });
      expect(staging.status).toBe(202);
      expect(staging.body.request).toMatchObject({ status: 'evaluating', evaluationId: expect.any(String) });

      const production = await registry.http('POST', '/api/v1/models/gated/versions/1/transitions', {
        body: { toStage: 'Production' },
      });
      expect(production.status).toBe(202);
      expect(production.body.stage).toBe('Staging');
      expect(production.body.request.status).toBe('refused');
      expect(production.body.request.reasons).toEqual([expect.stringContaining('still running')]);

      const version = await registry.http('GET', '/api/v1/models/gated/versions/1');
      expect(version.body.evaluations).toEqual([
        expect.objectContaining({ status: 'running', set: { name: 'churn-holdout', digest: null }, championVersion: null }),
      ]);
      const audit = await registry.http('GET', '/api/v1/models/gated/versions/1/audit');
      expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual([
        'ModelVersionRegistered',
        'StageTransitionRequested',
        'StageTransitioned',
        'EvaluationRequested',
        'StageTransitionRequested',
        'PromotionRefused',
      ]);
      // What the evaluator needs travels in the event: it never reads the registry's streams.
      expect(audit.body.events[3].data).toMatchObject({
        set: { name: 'churn-holdout', digest: null },
        candidate: { source: 'https://models.example.com/g.onnx', digest: null },
        championVersion: null,
        champion: null,
      });
    } finally {
      await registry.close();
    }
  });

  it('keeps everything across a restart and rebuilds a lost read model from the log', async () => {
    const first = await startRegistry({ dataDir });
    await first.http('POST', '/api/v1/models', { body: { name: 'durable', tags: { team: 'risk' } } });
    for (let i = 0; i < 3; i += 1) {
      await first.http('POST', '/api/v1/models/durable/versions', { body: { source: `https://models.example.com/d${i}.onnx` } });
    }
    await first.http('POST', '/api/v1/models/durable/versions/2/transitions', { body: { toStage: 'Staging' } });
    const listedBefore = await first.http('GET', '/api/v1/models/durable/versions');
    const auditBefore = await first.http('GET', '/api/v1/audit?model=durable');
    await first.close({ keepData: true });

    // The read model and the audit index next to it, with their WAL and shared-memory files.
    const readModelFiles = (await readdir(dataDir)).filter((file) => file.startsWith('registry-read-model.'));
    expect(readModelFiles).toEqual(expect.arrayContaining(['registry-read-model.sqlite', 'registry-read-model.audit-index.sqlite']));
    for (const file of readModelFiles) await rm(join(dataDir, file), { force: true });
    const second = await startRegistry({ dataDir });
    try {
      const ready = await second.http('GET', '/readyz', { token: null });
      expect(ready.status).toBe(200);
      expect((await second.http('GET', '/api/v1/models/durable/versions')).body).toEqual(listedBefore.body);
      expect((await second.http('GET', '/api/v1/audit?model=durable')).body).toEqual(auditBefore.body);
      expect((await second.http('GET', '/api/v1/models?tag=team:risk')).body.items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('creates an admin token on the first start only, prints it once and keeps it private', async () => {
    const printed: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      const first = await startRegistry({ dataDir, env: { MRW_ADMIN_TOKEN: '' } });
      const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
      expect(token).toMatch(/^mrw_[A-Za-z0-9_-]{43}$/);
      expect((await stat(join(dataDir, 'admin-token'))).mode & 0o777).toBe(0o600);
      expect(printed.join('')).toContain(token);
      expect((await first.http('GET', '/api/v1/tokens', { token })).status).toBe(200);
      await first.close({ keepData: true });

      printed.length = 0;
      const second = await startRegistry({ dataDir, env: { MRW_ADMIN_TOKEN: '' } });
      expect(printed.join('')).not.toContain(token);
      expect((await second.http('GET', '/api/v1/tokens', { token })).status).toBe(200);
      await second.close({ keepData: true });
    } finally {
      write.mockRestore();
    }
  });
});
