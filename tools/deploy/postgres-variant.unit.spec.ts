import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The PostgreSQL variant of deploy/ (compose and Kubernetes) says what the distributed e2e
 * test runs: PostgreSQL as the store, two registry replicas with data of their own and the
 * artifacts volume shared with the evaluator and the deployer, no password in a URL.
 */
const DEPLOY = resolve(__dirname, '../../deploy');
const SUITE = ['registry-a', 'registry-b', 'evaluator', 'approvals', 'archival', 'deployer'];

interface ComposeService {
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

describe('deploy/compose/compose.postgres.yaml', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'compose/compose.postgres.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const service = (name: string): ComposeService => compose.services[name] as ComposeService;

  it('runs PostgreSQL with a volume and a health check the suite waits for', () => {
    expect(service('postgres').volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(service('postgres').healthcheck?.test.join(' ')).toContain('pg_isready');
    for (const name of SUITE) expect(service(name).depends_on?.['postgres']).toEqual({ condition: 'service_healthy' });
  });

  it('points every suite service at PostgreSQL over Kafka, the password apart from the URL', () => {
    for (const name of SUITE) {
      const env = service(name).environment ?? {};
      expect([name, env['MRW_STORE'], env['MRW_BUS'], env['MRW_POSTGRES_URL']]).toEqual([name, 'postgres', 'kafka', 'postgres://mrw@postgres:5432/mrw']);
      expect(env['PGPASSWORD']).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    }
  });

  it('runs two registry replicas, each with its own data and port, sharing the artifacts with the evaluator and the deployer', () => {
    const [a, b] = [service('registry-a'), service('registry-b')];
    expect(a.volumes).toEqual(['registry-a-data:/data', 'artifacts:/artifacts']);
    expect(b.volumes).toEqual(['registry-b-data:/data', 'artifacts:/artifacts']);
    expect(a.ports).not.toEqual(b.ports);
    for (const name of ['registry-a', 'registry-b', 'evaluator', 'deployer']) {
      expect(service(name).environment?.['MRW_ARTIFACTS_DIR']).toBe('/artifacts');
      expect(service(name).volumes).toContain('artifacts:/artifacts');
    }
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['postgres-data', 'artifacts', 'registry-a-data', 'registry-b-data']));
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const KUBECTL_SKIP = 'SKIPPED: needs kubectl (its kustomize) to render deploy/k8s-postgres';
if (!kubectl) console.warn(`deploy/k8s-postgres rendered — ${KUBECTL_SKIP}`);

describe('deploy/k8s-postgres', () => {
  it('holds only well-formed YAML', () => {
    for (const file of readdirSync(join(DEPLOY, 'k8s-postgres')).filter((f) => f.endsWith('.yaml'))) {
      const errors = parseAllDocuments(readFileSync(join(DEPLOY, 'k8s-postgres', file), 'utf8')).flatMap((doc) => doc.errors);
      expect([file, errors]).toEqual([file, []]);
    }
  });

  (kubectl ? it : it.skip)(kubectl ? 'renders with kustomize: PostgreSQL, no EventStoreDB, two registry replicas that roll' : `renders with kustomize — ${KUBECTL_SKIP}`, () => {
    const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(DEPLOY, 'k8s-postgres')], { encoding: 'utf8' })).map((doc) => doc.toJS() as any);
    const find = (kind: string, name: string) => rendered.find((r) => r.kind === kind && r.metadata.name === name);
    expect(rendered.filter((r) => JSON.stringify(r).includes('eventstoredb:2113'))).toEqual([]);
    expect(find('StatefulSet', 'eventstoredb')).toBeUndefined();
    expect(find('StatefulSet', 'postgres').spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(find('ConfigMap', 'mrw-config').data).toMatchObject({ MRW_STORE: 'postgres', MRW_POSTGRES_URL: 'postgres://mrw@postgres:5432/mrw' });

    const registry = find('Deployment', 'registry');
    expect(registry.spec.replicas).toBe(2);
    expect(registry.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const container = registry.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(registry.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data')).toEqual({ name: 'data', emptyDir: { sizeLimit: '2Gi' } });
    expect(find('PersistentVolumeClaim', 'registry-data')).toBeUndefined();
    expect(find('PersistentVolumeClaim', 'mrw-artifacts').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(find('PodDisruptionBudget', 'registry').spec.minAvailable).toBe(1);
    // The database password reaches every suite container (and its preflight) from the Secret, as PGPASSWORD.
    for (const deployment of rendered.filter((r) => r.kind === 'Deployment')) {
      for (const c of [...deployment.spec.template.spec.initContainers, ...deployment.spec.template.spec.containers]) {
        expect([deployment.metadata.name, c.envFrom]).toEqual([deployment.metadata.name, expect.arrayContaining([{ secretRef: { name: 'mrw-postgres' } }])]);
      }
    }
    for (const name of ['registry', 'evaluator', 'deployer']) {
      const spec = find('Deployment', name).spec.template.spec;
      expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'artifacts', mountPath: '/artifacts' });
      expect(spec.volumes).toContainEqual({ name: 'artifacts', persistentVolumeClaim: { claimName: 'mrw-artifacts' } });
    }
  });
});
