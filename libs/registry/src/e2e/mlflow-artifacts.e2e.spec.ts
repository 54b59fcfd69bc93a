import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlflowArtifacts } from '../mlflow-compat/mlflow-artifacts';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

const ONNX_FIXTURE = join(__dirname, '../../../evaluator/fixtures/breast-cancer-logreg.onnx');
const RUN = '1/0a1b2c3d/artifacts';

/**
 * MLflow's artifact proxy over our content-addressed store, driven as MLflow's HTTP artifact
 * repository drives it: PUT each file's raw bytes with its guessed media type, list folders,
 * GET files back; errors in MLflow's `{error_code, message}` shape.
 */
describe('mlflow-artifacts endpoints', () => {
  let registry: RegistryHarness;
  let contributor: string;
  let viewer: string;
  let onnx: Buffer;

  const put = (path: string, body: Buffer | string, token: string, contentType = 'application/octet-stream') =>
    fetch(`${registry.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body,
    });

  const download = (path: string, token: string) =>
    fetch(`${registry.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    registry = await startRegistry({ env: { MRW_MAX_ARTIFACT_BYTES: String(64 * 1024) } });
    contributor = await registry.token('carol', ['contributor']);
    viewer = await registry.token('victor', ['viewer']);
    onnx = await readFile(ONNX_FIXTURE);
  });

  afterAll(async () => {
    await registry.close();
  });

  it('stores a file PUT as raw bytes and serves it back byte-identical', async () => {
    const stored = await put(`${RUN}/model/model.onnx`, onnx, contributor);
    expect([stored.status, await stored.json()]).toEqual([200, {}]);

    const fetched = await download(`${RUN}/model/model.onnx`, viewer);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(onnx)).toBe(true);
  });

  it('takes a file of any media type unparsed, JSON included (MLflow sends each file\'s guessed type)', async () => {
    // An array is not a body any JSON route takes; here it is just a file's bytes.
    const example = '[{"x": 1}]';
    expect((await put(`${RUN}/model/input_example.json`, example, contributor, 'application/json')).status).toBe(200);
    expect((await put(`${RUN}/model/MLmodel`, 'flavors: {}\n', contributor, 'text/plain')).status).toBe(200);
    expect(await (await download(`${RUN}/model/input_example.json`, viewer)).text()).toBe(example);
  });

  it('lists a folder\'s files and sub-folders by name, as MLflow does', async () => {
    const root = await registry.http('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(RUN)}`, { token: viewer });
    expect(root).toMatchObject({ status: 200, body: { files: [{ path: 'model', is_dir: true }] } });

    const model = await registry.http('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${RUN}/model`)}`, { token: viewer });
    expect(model.body).toEqual({
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'input_example.json', is_dir: false, file_size: 10 },
        { path: 'model.onnx', is_dir: false, file_size: onnx.length },
      ],
    });
  });

  it('answers an unknown path with 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const missing = await download(`${RUN}/model/nothing.onnx`, viewer);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('nothing.onnx') });
  });

  it('refuses a viewer\'s upload with 403 PERMISSION_DENIED, storing nothing', async () => {
    const refused = await put(`${RUN}/model/sneaky.onnx`, onnx, viewer);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    expect((await download(`${RUN}/model/sneaky.onnx`, viewer)).status).toBe(404);
  });

  it('refuses a file larger than MRW_MAX_ARTIFACT_BYTES and a path that climbs out of its folder', async () => {
    const large = await put(`${RUN}/big.bin`, Buffer.alloc(64 * 1024 + 1), contributor);
    expect([large.status, ((await large.json()) as { error_code: string }).error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect((await download(`${RUN}/big.bin`, viewer)).status).toBe(404);

    // Encoded slashes: a client's URL parser would resolve a literal `..` before sending.
    const climbing = await put(`${RUN}/model%2F..%2F..%2F..%2Fescape.bin`, 'x', contributor);
    expect(climbing.status).toBe(400);
    expect(await climbing.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('resolves an mlflow-artifacts: source (file, or model folder) to the artifacts:// URI a version registers with', async () => {
    const resolver = registry.app.get(MlflowArtifacts);
    const expected = `artifacts://sha256/${createHash('sha256').update(onnx).digest('hex')}`;
    expect(await resolver.resolveSource(`mlflow-artifacts:/${RUN}/model/model.onnx`)).toBe(expected);
    expect(await resolver.resolveSource(`mlflow-artifacts://tracking.example.com:5000/${RUN}/model`)).toBe(expected);
    expect(await resolver.resolveSource(`mlflow-artifacts:/${RUN}/elsewhere`)).toBeUndefined();
    expect(await resolver.resolveSource('s3://bucket/model.onnx')).toBeUndefined();

    await registry.http('POST', '/api/v1/models', { body: { name: 'mlflow-logged' } });
    const version = await registry.http('POST', '/api/v1/models/mlflow-logged/versions', { token: contributor, body: { source: expected } });
    expect(version.status).toBe(201);
    expect(version.body).toMatchObject({ version: 1, source: expected, digest: `sha256:${expected.slice('artifacts://sha256/'.length)}` });
  });

  it('registers an mlflow-artifacts: source through MLflow\'s model-versions/create as the bytes it stored', async () => {
    const expected = `artifacts://sha256/${createHash('sha256').update(onnx).digest('hex')}`;
    await registry.http('POST', '/api/2.0/mlflow/registered-models/create', { token: contributor, body: { name: 'mlflow-proxied' } });
    const created = await registry.http('POST', '/api/2.0/mlflow/model-versions/create', { token: contributor, body: { name: 'mlflow-proxied', source: `mlflow-artifacts:/${RUN}/model` } });
    expect(created.status).toBe(200);
    expect(created.body.model_version).toMatchObject({ version: '1', source: expected, status: 'READY' });
    const missing = await registry.http('POST', '/api/2.0/mlflow/model-versions/create', { token: contributor, body: { name: 'mlflow-proxied', source: `mlflow-artifacts:/${RUN}/nothing-here` } });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('gives MLflow clients the registered folder, frozen by digest, to download a version from (models:/name@alias)', async () => {
    const uri = await registry.http('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=mlflow-proxied&version=1', { token: viewer });
    expect(uri.body).toEqual({ artifact_uri: 'mlflow-artifacts:/_registry/mlflow-proxied/1' });
    // Uploading over the run's files afterwards changes nothing a registered version downloads.
    expect((await put(`${RUN}/model/MLmodel`, 'flavors: {changed: true}\n', contributor, 'text/plain')).status).toBe(200);
    const listed = await registry.http('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent('_registry/mlflow-proxied/1')}`, { token: viewer });
    expect(listed.body.files).toEqual([
      { path: 'MLmodel', is_dir: false, file_size: 12 },
      { path: 'input_example.json', is_dir: false, file_size: 10 },
      { path: 'model.onnx', is_dir: false, file_size: onnx.length },
    ]);
    expect(await (await download('_registry/mlflow-proxied/1/MLmodel', viewer)).text()).toBe('flavors: {}\n');
    expect(Buffer.from(await (await download('_registry/mlflow-proxied/1/model.onnx', viewer)).arrayBuffer()).equals(onnx)).toBe(true);

    // A version registered over /api/v1 from an upload downloads as its one file.
    const single = await registry.http('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=mlflow-logged&version=1', { token: viewer });
    expect(single.body).toEqual({ artifact_uri: 'mlflow-artifacts:/_registry/mlflow-logged/1' });
    const files = await registry.http('GET', '/api/2.0/mlflow-artifacts/artifacts?path=_registry/mlflow-logged/1', { token: viewer });
    expect(files.body.files).toEqual([{ path: 'model.onnx', is_dir: false, file_size: onnx.length }]);

    // Nobody writes into the registry's folder.
    const forged = await put('_registry/mlflow-logged/1/model.onnx', 'not a model', contributor);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(Buffer.from(await (await download('_registry/mlflow-logged/1/model.onnx', viewer)).arrayBuffer()).equals(onnx)).toBe(true);
  });
});
