import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/** MLflow's model-registry REST API over real HTTP: its wire shapes, its error codes, our rules underneath. */
describe('MLflow-compatible registry API', () => {
  let registry: RegistryHarness;
  let contributor: string;
  let viewer: string;
  const api = '/api/2.0/mlflow';

  beforeAll(async () => {
    registry = await startRegistry();
    contributor = await registry.token('carol', ['contributor']);
    viewer = await registry.token('victor', ['viewer']);
  });

  afterAll(async () => {
    await registry.close();
  });

  const post = (path: string, body: unknown, token: string | null = contributor) => registry.http('POST', `${api}/${path}`, { token, body });
  const get = (path: string, query: Record<string, string>, token: string | null = viewer) =>
    registry.http('GET', `${api}/${path}?${new URLSearchParams(query).toString()}`, { token });

  it('creates and gets a registered model in MLflow shape; a duplicate is RESOURCE_ALREADY_EXISTS (400)', async () => {
    const created = await post('registered-models/create', { name: 'mlf-churn', description: 'churn', tags: [{ key: 'team', value: 'growth' }] });
    expect(created.status).toBe(200);
    expect(created.body.registered_model).toEqual({
      name: 'mlf-churn',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      description: 'churn',
      latest_versions: [],
      tags: [{ key: 'team', value: 'growth' }],
      aliases: [],
    });
    const duplicate = await post('registered-models/create', { name: 'mlf-churn' });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: expect.stringContaining('already exists') });

    const fetched = await get('registered-models/get', { name: 'mlf-churn' });
    expect(fetched.status).toBe(200);
    expect(fetched.body.registered_model.name).toBe('mlf-churn');
    const missing = await get('registered-models/get', { name: 'mlf-nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('answers auth failures in MLflow shape on both prefixes: UNAUTHENTICATED 401, PERMISSION_DENIED 403', async () => {
    const anonymous = await get('registered-models/get', { name: 'mlf-churn' }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error_code: 'UNAUTHENTICATED', message: expect.any(String) });
    const denied = await registry.http('POST', '/ajax-api/2.0/mlflow/registered-models/create', { token: viewer, body: { name: 'mlf-viewer' } });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error_code: 'PERMISSION_DENIED', message: expect.stringContaining('contributor') });
  });

  it('answers refusals no MLflow controller sees in MLflow shape too: malformed JSON, a refused parameter, an unknown route', async () => {
    const malformed = await registry.http('POST', `${api}/registered-models/create`, { token: contributor, rawBody: '{"name": ' });
    const refusedQuery = await registry.http('GET', `${api}/registered-models/get?name=x&__proto__=1`, { token: contributor });
    const unknown = await registry.http('GET', `${api}/experiments/list`, { token: contributor });
    for (const [answer, status, code] of [
      [malformed, 400, 'INVALID_PARAMETER_VALUE'],
      [refusedQuery, 400, 'INVALID_PARAMETER_VALUE'],
      [unknown, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ] as const) {
      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body).toEqual({ error_code: code, message: expect.any(String) });
    }
    // Our own API keeps problem documents.
    expect((await registry.http('GET', '/api/v1/nothing-here', { token: contributor })).headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('registers versions READY at once, searches, tags, aliases and gives the download URI', async () => {
    await post('registered-models/create', { name: 'mlf-fraud' });
    const v1 = await post('model-versions/create', { name: 'mlf-fraud', source: 'https://models.example.com/fraud/1.onnx', run_id: 'run-1', tags: [{ key: 'k', value: 'v' }] });
    expect(v1.status).toBe(200);
    expect(v1.body.model_version).toMatchObject({
      name: 'mlf-fraud',
      version: '1',
      current_stage: 'None',
      source: 'https://models.example.com/fraud/1.onnx',
      run_id: 'run-1',
      status: 'READY',
      tags: [{ key: 'k', value: 'v' }],
      aliases: [],
    });
    await post('model-versions/create', { name: 'mlf-fraud', source: 'https://models.example.com/fraud/2.onnx', run_id: 'run-2' });

    const byRun = await get('model-versions/search', { filter: "name='mlf-fraud' AND run_id='run-2'" });
    expect(byRun.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    const byName = await get('registered-models/search', { filter: "name LIKE 'mlf-fr%'", max_results: '10' });
    expect(byName.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['mlf-fraud']);
    const paged = await get('registered-models/search', { filter: "name LIKE 'mlf-%'", max_results: '1' });
    expect(paged.body.registered_models).toHaveLength(1);
    const second = await get('registered-models/search', { filter: "name LIKE 'mlf-%'", max_results: '1', page_token: paged.body.next_page_token });
    expect(second.body.registered_models[0].name).not.toBe(paged.body.registered_models[0].name);
    expect((await get('registered-models/search', { filter: 'tags.x = 1' })).body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const prompts = await get('registered-models/search', { filter: "name LIKE 'mlf-fr%' AND tag.`mlflow.prompt.is_prompt` != 'true'" });
    expect(prompts.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['mlf-fraud']);

    expect((await post('model-versions/set-tag', { name: 'mlf-fraud', version: '2', key: 'validated', value: 'yes' })).status).toBe(200);
    expect((await post('registered-models/alias', { name: 'mlf-fraud', alias: 'candidate', version: '2' })).status).toBe(200);
    const aliased = await get('registered-models/alias', { name: 'mlf-fraud', alias: 'candidate' });
    expect(aliased.body.model_version).toMatchObject({ version: '2', aliases: ['candidate'], tags: [{ key: 'validated', value: 'yes' }] });
    const removed = await registry.http('DELETE', `${api}/registered-models/alias`, { token: contributor, body: { name: 'mlf-fraud', alias: 'candidate' } });
    expect(removed.status).toBe(200);
    expect((await get('registered-models/alias', { name: 'mlf-fraud', alias: 'candidate' })).status).toBe(404);

    const uri = await get('model-versions/get-download-uri', { name: 'mlf-fraud', version: '1' });
    expect(uri.body).toEqual({ artifact_uri: 'https://models.example.com/fraud/1.onnx' });
    const latest = await get('registered-models/get-latest-versions', { name: 'mlf-fraud' });
    expect(latest.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
  });

  it('transitions through our rules: Production waits for approval, tagged with the approval; forbidden moves are INVALID_STATE', async () => {
    await post('registered-models/create', { name: 'mlf-gated' });
    await post('model-versions/create', { name: 'mlf-gated', source: 'https://models.example.com/gated/1.onnx' });
    const refused = await post('model-versions/transition-stage', { name: 'mlf-gated', version: '1', stage: 'Production', archive_existing_versions: false });
    expect(refused.status).toBe(400);
    expect(refused.body.error_code).toBe('INVALID_STATE');

    const staged = await post('model-versions/transition-stage', { name: 'mlf-gated', version: '1', stage: 'staging' });
    expect(staged.body.model_version.current_stage).toBe('Staging');
    const production = await post('model-versions/transition-stage', { name: 'mlf-gated', version: '1', stage: 'Production' });
    expect(production.status).toBe(200);
    expect(production.body.model_version.current_stage).toBe('Staging');
    const pending = production.body.model_version.tags.find((t: { key: string }) => t.key === 'mrw.pending_approval');
    const inbox = await registry.http('GET', '/api/v1/approvals?status=pending&model=mlf-gated', { token: viewer });
    expect(inbox.body.items.map((a: { id: string }) => a.id)).toEqual([pending.value]);
  });

  it("updates a model's description and tags and a version's description through our commands", async () => {
    const patch = (path: string, body: unknown) => registry.http('PATCH', `${api}/${path}`, { token: contributor, body });
    const del = (path: string, body: unknown) => registry.http('DELETE', `${api}/${path}`, { token: contributor, body });
    await post('registered-models/create', { name: 'mlf-edited', description: 'old', tags: [{ key: 'team', value: 'growth' }] });
    await post('model-versions/create', { name: 'mlf-edited', source: 'https://models.example.com/edited/1.onnx', description: 'v1' });

    const updated = await patch('registered-models/update', { name: 'mlf-edited', description: 'new' });
    expect(updated.status).toBe(200);
    expect(updated.body.registered_model).toMatchObject({ name: 'mlf-edited', description: 'new', latest_versions: [expect.objectContaining({ version: '1' })] });

    const tagged = await post('registered-models/set-tag', { name: 'mlf-edited', key: 'owner', value: 'ana' });
    expect([tagged.status, tagged.body]).toEqual([200, {}]);
    const untagged = await del('registered-models/delete-tag', { name: 'mlf-edited', key: 'team' });
    expect([untagged.status, untagged.body]).toEqual([200, {}]);
    const again = await del('registered-models/delete-tag', { name: 'mlf-edited', key: 'team' });
    expect([again.status, again.body.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    const badKey = await post('registered-models/set-tag', { name: 'mlf-edited', key: 'has space', value: 'x' });
    expect([badKey.status, badKey.body.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);

    const found = await get('registered-models/search', { filter: "tags.owner = 'ana'" });
    expect(found.body.registered_models).toEqual([expect.objectContaining({ name: 'mlf-edited', description: 'new', tags: [{ key: 'owner', value: 'ana' }] })]);
    expect((await get('registered-models/search', { filter: "tags.team = 'growth' AND name = 'mlf-edited'" })).body.registered_models).toEqual([]);

    const version = await patch('model-versions/update', { name: 'mlf-edited', version: '1', description: 'v1, retrained' });
    expect(version.status).toBe(200);
    expect(version.body.model_version).toMatchObject({ name: 'mlf-edited', version: '1', description: 'v1, retrained' });
    expect((await get('model-versions/get', { name: 'mlf-edited', version: '1' })).body.model_version.description).toBe('v1, retrained');
    const missing = await patch('model-versions/update', { name: 'mlf-edited', version: '9', description: 'x' });
    expect([missing.status, missing.body.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
  });

  it('refuses rename, archives on delete and keeps the history', async () => {
    const rename = await post('registered-models/rename', { name: 'mlf-fraud', new_name: 'mlf-other' });
    expect(rename.status).toBe(400);
    expect(rename.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'renaming is not supported: models are event streams; create a new model' });

    const deleted = await registry.http('DELETE', `${api}/registered-models/delete`, { token: contributor, body: { name: 'mlf-fraud' } });
    expect(deleted.status).toBe(200);
    const versions = await get('model-versions/search', { filter: "name='mlf-fraud'" });
    expect(versions.body.model_versions.map((v: { current_stage: string }) => v.current_stage)).toEqual(['Archived', 'Archived']);
    const audit = await registry.http('GET', '/api/v1/models/mlf-fraud/versions/1/audit', { token: viewer });
    expect(audit.body.events.map((e: { type: string }) => e.type)).toContain('StageTransitioned');
  });

  const stageOf = async (model: string, version: number) => (await get('model-versions/get', { name: model, version: String(version) })).body.model_version.current_stage;
  const transition = (model: string, version: number, stage: string, archive = false) =>
    post('model-versions/transition-stage', { name: model, version: String(version), stage, archive_existing_versions: archive });

  it('archive_existing_versions into Staging archives the others there at once, by the usual rules', async () => {
    await post('registered-models/create', { name: 'mlf-staging' });
    for (const n of [1, 2, 3]) await post('model-versions/create', { name: 'mlf-staging', source: `https://models.example.com/staging/${n}.onnx` });
    await transition('mlf-staging', 1, 'Staging');
    await transition('mlf-staging', 2, 'Staging');
    // v2 waits for a reviewer: the rules keep a version with an approval pending where it is.
    expect((await transition('mlf-staging', 2, 'Production')).status).toBe(200);

    // Not a flag: refused, and nothing moves.
    const malformed = await post('model-versions/transition-stage', { name: 'mlf-staging', version: '3', stage: 'Staging', archive_existing_versions: { all: true } });
    expect([malformed.status, malformed.body.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(await stageOf('mlf-staging', 3)).toBe('None');

    const staged = await transition('mlf-staging', 3, 'Staging', true);
    expect(staged.body.model_version.current_stage).toBe('Staging');
    expect([await stageOf('mlf-staging', 1), await stageOf('mlf-staging', 2)]).toEqual(['Archived', 'Staging']);
    const audit = await registry.http('GET', '/api/v1/models/mlf-staging/versions/1/audit', { token: viewer });
    const archived = audit.body.events.find((e: { type: string; data: { toStage?: string } }) => e.type === 'StageTransitioned' && e.data.toStage === 'Archived');
    expect(archived).toMatchObject({
      actor: { kind: 'user', id: 'carol' },
      data: { trigger: { kind: 'archival', rule: 'archiveExistingVersions', evidence: { enteredVersion: 3, stage: 'Staging' } } },
    });
    const request = await registry.http('GET', '/api/v1/models/mlf-staging/versions/3', { token: viewer });
    expect(request.body.requests.at(-1)).toMatchObject({ toStage: 'Staging', archiveExistingVersions: true });

    // The same request over /api/v1 says what became of the others.
    await post('model-versions/create', { name: 'mlf-staging', source: 'https://models.example.com/staging/4.onnx' });
    const ours = await registry.http('POST', '/api/v1/models/mlf-staging/versions/4/transitions', { token: contributor, body: { toStage: 'Staging', archiveExistingVersions: true } });
    expect(ours.status).toBe(202);
    expect(ours.body).toMatchObject({
      stage: 'Staging',
      request: { archiveExistingVersions: true },
      existingVersions: { archived: [3], kept: [{ version: 2, code: 'APPROVAL_PENDING', reason: expect.any(String) }] },
    });
  });

  it('archive_existing_versions into Production archives the former champions once the new version serves; champion follows serving only', async () => {
    await post('registered-models/create', { name: 'mlf-served' });
    const policy = await registry.http('PUT', '/api/v1/models/mlf-served/policy', {
      body: { approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } }, servingAlias: 'champion' },
    });
    expect(policy.status).toBe(200);
    const serve = async (version: number, archive: boolean) => {
      await post('model-versions/create', { name: 'mlf-served', source: `https://models.example.com/served/${version}.onnx` });
      await transition('mlf-served', version, 'Staging');
      const production = await transition('mlf-served', version, 'Production', archive);
      expect(production.status).toBe(200);
      await registry.deployed('mlf-served', version);
    };
    await serve(1, false);
    expect((await get('registered-models/alias', { name: 'mlf-served', alias: 'champion' })).body.model_version.version).toBe('1');
    await serve(2, false);
    // Without the flag the former champion stays in Production as the rollback target.
    expect(await stageOf('mlf-served', 1)).toBe('Production');

    // Nobody moves the champion by hand, over MLflow's API or ours.
    const byHand = await post('registered-models/alias', { name: 'mlf-served', alias: 'champion', version: '1' });
    expect([byHand.status, byHand.body.error_code]).toEqual([400, 'INVALID_STATE']);
    expect(byHand.body.message).toContain('policy.servingAlias');
    const ours = await registry.http('PUT', '/api/v1/models/mlf-served/aliases/champion', { token: contributor, body: { version: 1 } });
    expect([ours.status, ours.body.code]).toEqual([409, 'ALIAS_GOVERNED']);
    const removed = await registry.http('DELETE', `${api}/registered-models/alias`, { token: contributor, body: { name: 'mlf-served', alias: 'champion' } });
    expect(removed.body.error_code).toBe('INVALID_STATE');

    await serve(3, true);
    expect([await stageOf('mlf-served', 1), await stageOf('mlf-served', 2), await stageOf('mlf-served', 3)]).toEqual(['Archived', 'Archived', 'Production']);
    expect((await get('registered-models/alias', { name: 'mlf-served', alias: 'champion' })).body.model_version).toMatchObject({ version: '3', aliases: ['champion'] });
    const audit = await registry.http('GET', '/api/v1/models/mlf-served/versions/1/audit', { token: viewer });
    expect(audit.body.events.at(-1)).toMatchObject({ type: 'StageTransitioned', data: { toStage: 'Archived', trigger: { rule: 'archiveExistingVersions' } } });
  });
});
