/**
 * The MLflow artifact index's two adapters, held to the same behaviour: a SQLite file (one
 * registry process) and a table in the event store's PostgreSQL schema (shared by registry
 * replicas; the server from MRW_POSTGRES_URL, see tools/jest/global-setup.js, else reported
 * SKIPPED).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres, dropTestSchema, uniqueSchema } from '@mrw/event-store/testing';
import { describeAdapterContract, type AdapterFixture } from '@mrw/testing';
import { PostgresArtifactIndex, SqliteArtifactIndex, type IndexedArtifact, type MlflowArtifactIndex } from './mlflow-artifact-index';

const file = (path: string, n = 1): IndexedArtifact => ({ path, digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: n * 10 });

const describeIndex = (name: string, fixture: () => Promise<AdapterFixture<MlflowArtifactIndex>>): void =>
  describeAdapterContract(`${name} MLflow artifact index`, fixture, (open) => {
    it('names a path, renames it to the last file put there, and finds nothing at an unknown path', async () => {
      const index = await open();
      await index.name('1/run/artifacts/model.onnx', file('', 1));
      await index.name('1/run/artifacts/model.onnx', file('', 2));
      expect(await index.find('1/run/artifacts/model.onnx')).toEqual({ digest: file('', 2).digest, size: 20 });
      expect(await index.find('1/run/artifacts/other.onnx')).toBeUndefined();
    });

    it('names paths once: what a path names already stays, the rest is added together', async () => {
      const index = await open();
      await index.name('_registry/churn/1/model.onnx', file('', 1));
      await index.nameOnce([
        { ...file('_registry/churn/1/model.onnx', 3) },
        { ...file('_registry/churn/1/MLmodel', 4) },
      ]);
      expect(await index.under('_registry/churn/1')).toEqual([
        { path: '_registry/churn/1/MLmodel', digest: file('', 4).digest, size: 40 },
        { path: '_registry/churn/1/model.onnx', digest: file('', 1).digest, size: 10 },
      ]);
      await index.nameOnce([]);
    });

    it('lists exactly the files under a folder, at any depth, in code point order', async () => {
      const index = await open();
      // Neighbours a careless prefix match or a locale's collation would get wrong.
      const paths = ['a/b', 'a/b/c', 'a/b/d/e', 'a/bc', 'a0', 'a.b/x', 'a', 'ab/x', 'a/B', 'a/é', 'a/z', 'b/a'];
      for (const [n, path] of paths.entries()) await index.name(path, file('', n + 1));
      expect((await index.under('a')).map((f) => f.path)).toEqual(['a/B', 'a/b', 'a/b/c', 'a/b/d/e', 'a/bc', 'a/z', 'a/é']);
      expect((await index.under('a/b')).map((f) => f.path)).toEqual(['a/b/c', 'a/b/d/e']);
      expect((await index.under('')).map((f) => f.path)).toEqual([...paths].sort());
      expect(await index.under('nothing/here')).toEqual([]);
    });

    it('keeps everything for the next handle on the same index', async () => {
      const index = await open();
      await index.name('7/run/artifacts/model/model.onnx', file('', 5));
      const other = await open();
      expect(await other.find('7/run/artifacts/model/model.onnx')).toEqual({ digest: file('', 5).digest, size: 50 });
      expect((await other.under('7/run/artifacts')).map((f) => f.path)).toEqual(['7/run/artifacts/model/model.onnx']);
    });
  });

describeIndex('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mrw-artifact-index-'));
  return { open: async () => new SqliteArtifactIndex(join(dir, 'mlflow-artifacts.sqlite')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeWithPostgres('shared by registry replicas', (url) => {
  describeIndex('PostgreSQL', async () => {
    const schema = uniqueSchema();
    return {
      open: () => PostgresArtifactIndex.open({ connectionString: url, schema }),
      cleanup: () => dropTestSchema(url, schema),
    };
  });
});
