import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { API_PREFIX, API_ROUTES, MrwApiError, MrwClient, MrwConnectionError, type ApiRoute, type UploadProgress } from '@mrw/client';
import { DeployerModule } from '@mrw/deployer';
import { EvaluatorModule } from '@mrw/evaluator';
import { startRegistry, type RegistryHarness } from '@mrw/registry/testing';
import { WebhooksModule } from '@mrw/webhooks';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');

/** A port nothing listens on: one the system just handed out and took back. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

interface OpenApiOperation {
  readonly parameters?: ReadonlyArray<{ readonly name: string; readonly in: string }>;
}
type OpenApiDocument = { readonly paths: Record<string, Record<string, OpenApiOperation>> };

/** Placeholders' names do not matter to a client, their places do. */
const shape = (path: string): string => path.replace(/\{[^}]+\}/g, '{}');

const operationOf = (document: OpenApiDocument, route: ApiRoute): OpenApiOperation | undefined => {
  const path = Object.keys(document.paths).find((p) => shape(p) === shape(`${API_PREFIX}${route.path}`));
  return path ? document.paths[path]?.[route.method.toLowerCase()] : undefined;
};

/**
 * `@mrw/client` checked against the registry's own OpenAPI document: every operation the client
 * can call (API_ROUTES, the only way it builds a request) exists with its method, path and query
 * parameters; and the client's behaviour on the wire — streamed upload with the digest computed
 * on the way, typed problems, unreachable registries.
 */
describe('@mrw/client against the registry', () => {
  let suite: RegistryHarness;
  let document: OpenApiDocument;
  let client: MrwClient;

  beforeAll(async () => {
    // The suite's services that serve parts of the public API the client calls (the deployer's deployments).
    suite = await startRegistry({ modules: [EvaluatorModule, WebhooksModule, DeployerModule], env: { MRW_EVALUATOR_THREADS: '1' } });
    document = (await suite.http<OpenApiDocument>('GET', '/api/docs/openapi.json', { token: null })).body;
    client = new MrwClient({ url: suite.baseUrl, token: suite.adminToken });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it.each(Object.entries(API_ROUTES))('calls %s as the OpenAPI document declares it', (_, route: ApiRoute) => {
    const operation = operationOf(document, route);
    expect(operation).toBeDefined();
    const declared = (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(declared).toEqual(expect.arrayContaining([...route.query]));
  });

  it('would notice a renamed route or query parameter', () => {
    expect(operationOf(document, { method: 'GET', path: '/models/{name}/version-list', query: [] })).toBeUndefined();
    expect(operationOf(document, { method: 'PATCH', path: '/models/{name}/stage', query: [] })).toBeUndefined();
    const getModel = operationOf(document, API_ROUTES.getModel);
    expect((getModel?.parameters ?? []).map((p) => p.name)).not.toContain('as_of');
  });

  it('streams an artifact with progress and the sha256 computed on the way, equal to what the registry stored', async () => {
    const path = join(FIXTURES, 'breast-cancer-logreg.onnx');
    const bytes = readFileSync(path);
    const expected = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const seen: UploadProgress[] = [];
    await client.createModel({ name: 'sdk-model' });
    const { artifact, version } = await client.registerVersionFromFile('sdk-model', path, { metrics: { val_auc: 0.97 } }, { onProgress: (p) => seen.push(p) });
    expect(artifact).toEqual({ uri: `artifacts://sha256/${expected.slice(7)}`, digest: expected, size: bytes.length });
    expect(version).toMatchObject({ model: 'sdk-model', version: 1, digest: expected, metrics: { val_auc: 0.97 } });
    expect(seen[0]).toEqual({ sent: 0, total: bytes.length });
    expect(seen.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
  });

  it('turns problem documents into MrwApiError with the status, code, detail and field errors', async () => {
    const invalid = await client.createModel({ name: 'no spaces allowed' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(MrwApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'name' })] });
    const missing = await client.getVersion('sdk-model', 99).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: expect.stringMatching(/_NOT_FOUND$/), detail: expect.any(String) });
    const anonymous = await new MrwClient({ url: `${suite.baseUrl}/api/v1/` }).listModels().catch((e: unknown) => e);
    expect(anonymous).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('says when the registry cannot be reached at all', async () => {
    const closed = await closedPort();
    const error = await new MrwClient({ url: `http://127.0.0.1:${closed}` }).listModels().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MrwConnectionError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', url: `http://127.0.0.1:${closed}` });
  });
});
