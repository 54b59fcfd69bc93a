import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Req, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { deriveId, type CommandMetadata, type Stage } from '@mrw/contracts';
import type { CreatedModel, RegisteredVersion } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { CatalogQueries } from '../browse-catalog/catalog.queries';
import { RegistryProjector } from '../projections/registry-projector';
import { VersionRegistration } from '../register-version/version-registration';
import { StageTransitions } from '../request-transition/stage-transitions';
import { MlflowArtifacts } from './mlflow-artifacts';
import {
  MLFLOW_PREFIXES,
  MlflowError,
  MlflowErrorFilter,
  mlflowModel,
  mlflowVersion,
  optionalBoolean,
  optionalString,
  requiredString,
  tagMap,
  versionNumber,
} from './mlflow-wire';

type Fields = Record<string, unknown>;

const STAGE_NAMES: Readonly<Record<string, Stage>> = { none: 'None', staging: 'Staging', production: 'Production', archived: 'Archived' };

/** MLflow spells stages in any case ("staging", "Production"). */
const parseStage = (raw: string): Stage => {
  const stage = STAGE_NAMES[raw.toLowerCase()];
  if (!stage) throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid Model Version stage: ${raw}. Value must be one of None, Staging, Production, Archived.`);
  return stage;
};

/** What a search filter is tested against: a model (name, tags) or a version (also its run). */
interface Searchable {
  readonly name: string;
  readonly runId?: string | null;
  readonly tags: Readonly<Record<string, string>>;
}

const likeToRegExp = (pattern: string, caseInsensitive: boolean): RegExp =>
  new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, caseInsensitive ? 'i' : '');

const CLAUSE = /^\s*(name|run_id|tags?\.(?:`[^`]+`|[\w.\-/]+))\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*?)\3\s*$/i;

/**
 * MLflow's search filters, the subset clients send: clauses on `name`, `run_id` and
 * `tags.<key>` (`=`, `!=`, `LIKE`, `ILIKE`) joined by AND. MLflow 3 clients add
 * `tag.\`mlflow.prompt.is_prompt\` != 'true'` to model searches themselves.
 */
const parseFilter = (filter: string | undefined): ((subject: Searchable) => boolean) => {
  if (!filter || filter.trim() === '') return () => true;
  const tests = filter.split(/\s+AND\s+/i).map((clause) => {
    const match = CLAUSE.exec(clause);
    if (!match) throw new MlflowError('INVALID_PARAMETER_VALUE', `Unsupported filter clause ${clause}: use name, run_id or tags.<key> with =, !=, LIKE or ILIKE and a quoted value.`);
    const [, field = '', rawOp = '', , value = ''] = match;
    const op = rawOp.toUpperCase();
    const read = (s: Searchable): string | null | undefined => {
      if (field.toLowerCase() === 'name') return s.name;
      if (field.toLowerCase() === 'run_id') return s.runId;
      return s.tags[field.slice(field.indexOf('.') + 1).replace(/`/g, '')];
    };
    return (s: Searchable): boolean => {
      const actual = read(s);
      if (op === '!=') return actual !== value;
      if (actual === undefined || actual === null) return false;
      return op === '=' ? actual === value : likeToRegExp(value, op === 'ILIKE').test(actual);
    };
  });
  return (subject) => tests.every((test) => test(subject));
};

/** Paging: MLflow's opaque page token is our offset, base64-encoded. */
const pageOf = (fields: Fields, defaultMax: number, ceiling: number): { limit: number; offset: number } => {
  const rawMax = fields['max_results'];
  const limit = rawMax === undefined ? defaultMax : Number(rawMax);
  if (!Number.isInteger(limit) || limit < 1 || limit > ceiling) throw new MlflowError('INVALID_PARAMETER_VALUE', `max_results must be an integer between 1 and ${ceiling}.`);
  const token = optionalString(fields, 'page_token');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid page_token.');
  return { limit, offset };
};

const nextToken = (offset: number, limit: number, total: number): string | undefined =>
  offset + limit < total ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;

/**
 * The model-registry subset of MLflow's REST API, over the registry's own use cases: every call
 * is governed by the same rules, roles and audit trail as /api/v1, with the caller's token.
 */
@ApiExcludeController()
@ApiBearerAuth()
@UseFilters(MlflowErrorFilter)
@Controller([...MLFLOW_PREFIXES])
export class MlflowRegistryController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly registration: VersionRegistration,
    private readonly transitions: StageTransitions,
    private readonly catalog: CatalogQueries,
    private readonly projector: RegistryProjector,
    private readonly metadata: CommandMetadataFactory,
    private readonly artifacts: MlflowArtifacts,
  ) {}

  // ---- registered models

  @Post('registered-models/create')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async createModel(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const result = await this.streams.executeModel(name, {
      type: 'CreateModel',
      data: { name, description: optionalString(body, 'description') ?? '', tags: tagMap(body['tags']) },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return { registered_model: mlflowModel(result.state as CreatedModel, []) };
  }

  @Get('registered-models/get')
  @ModelScope({ query: 'name' })
  async getModel(@Query() query: Fields) {
    return { registered_model: await this.modelWithLatest(requiredString(query, 'name')) };
  }

  @Get('registered-models/search')
  @ModelScope('no-single-model')
  async searchModels(@Query() query: Fields, @CurrentPrincipal() principal: AuthPrincipal) {
    const matches = parseFilter(optionalString(query, 'filter'));
    const { limit, offset } = pageOf(query, 100, 1000);
    const scope = scopeFilter(principal);
    const names = this.catalog
      .listModels({ ...(scope ? { scope } : {}), limit: 1_000_000, offset: 0 })
      .items.filter((m) => matches(m))
      .map((m) => m.name);
    const page = names.slice(offset, offset + limit);
    const token = nextToken(offset, limit, names.length);
    return {
      registered_models: await Promise.all(page.map((n) => this.modelWithLatest(n))),
      ...(token ? { next_page_token: token } : {}),
    };
  }

  @Get('registered-models/get-latest-versions')
  @ModelScope({ query: 'name' })
  getLatestGet(@Query() query: Fields) {
    return this.latestVersions(query);
  }

  @Post('registered-models/get-latest-versions')
  @HttpCode(200)
  @ModelScope({ body: 'name' })
  getLatestPost(@Body() body: Fields) {
    return this.latestVersions(body);
  }

  /** Soft delete: every version that is not archived is archived through the normal rules; history stays. */
  @Delete('registered-models/delete')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async deleteModel(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const model = await this.streams.existingModel(name);
    const metadata = this.metadata.fromRequest(principal, request);
    for (let v = 1; v <= model.lastVersion; v++) {
      const version = await this.streams.version(name, v);
      if (version.status !== 'registered' || version.stage === 'Archived') continue;
      await this.archive(name, v, metadata, `archive-${v}`);
    }
    return {};
  }

  @Post('registered-models/rename')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  rename(): never {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'renaming is not supported: models are event streams; create a new model');
  }

  /** A description left out changes nothing, as in MLflow; an empty one clears it. */
  @Patch('registered-models/update')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async updateModel(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const description = optionalString(body, 'description');
    if (description !== undefined) {
      const result = await this.streams.executeModel(name, {
        type: 'UpdateModelDescription',
        data: { description },
        metadata: this.metadata.fromRequest(principal, request),
      });
      await this.projector.waitFor(result.position);
    }
    return { registered_model: await this.modelWithLatest(name) };
  }

  @Post('registered-models/set-tag')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async setModelTag(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const result = await this.streams.executeModel(requiredString(body, 'name'), {
      type: 'SetModelTag',
      data: { key: requiredString(body, 'key'), value: optionalString(body, 'value') ?? '' },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  @Delete('registered-models/delete-tag')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async deleteModelTag(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const result = await this.streams.executeModel(requiredString(body, 'name'), {
      type: 'RemoveModelTag',
      data: { key: requiredString(body, 'key') },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  // ---- aliases

  @Post('registered-models/alias')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async setAlias(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const version = versionNumber(body);
    await this.streams.existingModel(name);
    const versionExists = (await this.streams.version(name, version)).status === 'registered';
    const result = await this.streams.executeModel(name, {
      type: 'SetAlias',
      data: { alias: requiredString(body, 'alias'), version, versionExists },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  @Delete('registered-models/alias')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async deleteAlias(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const result = await this.streams.executeModel(requiredString(body, 'name'), {
      type: 'RemoveAlias',
      data: { alias: requiredString(body, 'alias') },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  @Get('registered-models/alias')
  @ModelScope({ query: 'name' })
  async getByAlias(@Query() query: Fields) {
    const name = requiredString(query, 'name');
    const alias = requiredString(query, 'alias');
    const model = await this.streams.existingModel(name);
    const version = model.aliases[alias];
    if (version === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
    return { model_version: mlflowVersion(await this.streams.existingVersion(name, version), model.aliases) };
  }

  // ---- model versions

  @Post('model-versions/create')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async createVersion(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const given = requiredString(body, 'source');
    // A model logged through MLflow's artifact proxy registers as the bytes it stored (`mlflow-artifacts:/…` → `artifacts://sha256/…`).
    const source = given.startsWith('mlflow-artifacts:') ? await this.artifacts.resolveSource(given) : given;
    if (source === undefined) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `${given} names no uploaded file, nor a folder holding exactly one .onnx file`);
    }
    const { version, model } = await this.registration.register(
      name,
      {
        source,
        runId: optionalString(body, 'run_id') || null,
        tags: tagMap(body['tags']),
        description: optionalString(body, 'description') ?? '',
      },
      this.metadata.fromRequest(principal, request),
    );
    // The folder registered from is frozen now (by digest) for clients that load `models:/…` later.
    if (source !== given) await this.artifacts.freeze(version, given);
    return { model_version: mlflowVersion(version, model.aliases) };
  }

  @Get('model-versions/get')
  @ModelScope({ query: 'name' })
  async getVersion(@Query() query: Fields) {
    const name = requiredString(query, 'name');
    const model = await this.streams.existingModel(name);
    return { model_version: mlflowVersion(await this.streams.existingVersion(name, versionNumber(query)), model.aliases) };
  }

  @Get('model-versions/search')
  @ModelScope('no-single-model')
  async searchVersions(@Query() query: Fields, @CurrentPrincipal() principal: AuthPrincipal) {
    const matches = parseFilter(optionalString(query, 'filter'));
    const { limit, offset } = pageOf(query, 10_000, 200_000);
    const scope = scopeFilter(principal);
    const found: Array<ReturnType<typeof mlflowVersion>> = [];
    for (const { name } of this.catalog.listModels({ ...(scope ? { scope } : {}), limit: 1_000_000, offset: 0 }).items) {
      const model = await this.streams.model(name);
      if (model.status !== 'created') continue;
      for (const row of this.catalog.listVersions(name, undefined, 1_000_000, 0).items) {
        const version = await this.streams.version(name, row.version);
        if (version.status !== 'registered' || !matches({ name, runId: version.runId, tags: version.tags })) continue;
        found.push(mlflowVersion(version, model.aliases));
      }
    }
    const token = nextToken(offset, limit, found.length);
    return { model_versions: found.slice(offset, offset + limit), ...(token ? { next_page_token: token } : {}) };
  }

  /** A description left out changes nothing, as in MLflow; an empty one clears it. */
  @Patch('model-versions/update')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async updateVersion(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const number = versionNumber(body);
    const model = await this.streams.existingModel(name);
    const description = optionalString(body, 'description');
    let version = await this.streams.existingVersion(name, number);
    if (description !== undefined) {
      const result = await this.streams.executeVersion(name, number, {
        type: 'UpdateVersionDescription',
        data: { description },
        metadata: this.metadata.fromRequest(principal, request),
      });
      await this.projector.waitFor(result.position);
      version = result.state as RegisteredVersion;
    }
    return { model_version: mlflowVersion(version, model.aliases) };
  }

  /** Soft delete: the version is archived through the normal rules (a serving version is refused). */
  @Delete('model-versions/delete')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async deleteVersion(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const version = versionNumber(body);
    if ((await this.streams.existingVersion(name, version)).stage !== 'Archived') {
      await this.archive(name, version, this.metadata.fromRequest(principal, request), 'archive');
    }
    return {};
  }

  @Post('model-versions/set-tag')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async setVersionTag(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const version = versionNumber(body);
    await this.streams.existingVersion(name, version);
    const result = await this.streams.executeVersion(name, version, {
      type: 'SetVersionTag',
      data: { key: requiredString(body, 'key'), value: optionalString(body, 'value') ?? '' },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  @Delete('model-versions/delete-tag')
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async deleteVersionTag(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const version = versionNumber(body);
    await this.streams.existingVersion(name, version);
    const result = await this.streams.executeVersion(name, version, {
      type: 'RemoveVersionTag',
      data: { key: requiredString(body, 'key') },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return {};
  }

  /** Where `models:/name/<v>` and `models:/name@alias` are downloaded from (see MlflowArtifacts.downloadUri). */
  @Get('model-versions/get-download-uri')
  @ModelScope({ query: 'name' })
  async downloadUri(@Query() query: Fields) {
    const version = await this.streams.existingVersion(requiredString(query, 'name'), versionNumber(query));
    return { artifact_uri: await this.artifacts.downloadUri(version) };
  }

  /**
   * A stage change through our rules. Staging starts the evaluation (if the policy has one);
   * Production opens the approval gate: the answer is the version still in its current stage,
   * tagged `mrw.pending_approval=<approvalId>`. A refusal by the gates is INVALID_STATE with the
   * failing checks. `archive_existing_versions` archives the other versions in the stage through
   * the usual rules: at once for Staging, once the version serves for Production.
   */
  @Post('model-versions/transition-stage')
  @HttpCode(200)
  @RequireRole('contributor')
  @ModelScope({ body: 'name' })
  async transitionStage(@Body() body: Fields, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = requiredString(body, 'name');
    const number = versionNumber(body);
    const stage = parseStage(requiredString(body, 'stage'));
    const archiveExistingVersions = optionalBoolean(body, 'archive_existing_versions') ?? false;
    const { version, request: made } = await this.transitions.request(name, number, stage, '', this.metadata.fromRequest(principal, request), {
      archiveExistingVersions,
    });
    if (made?.status === 'refused') {
      const failing = made.checks.filter((c) => !c.passed).map((c) => c.detail);
      throw new MlflowError('INVALID_STATE', `the transition of ${name} version ${number} to ${stage} was refused: ${failing.join('; ')}`);
    }
    const model = await this.streams.existingModel(name);
    return { model_version: mlflowVersion(version, model.aliases) };
  }

  // ---- helpers

  private async archive(name: string, version: number, metadata: CommandMetadata, suffix: string): Promise<void> {
    const { request } = await this.transitions.request(name, version, 'Archived', 'deleted through the MLflow API', {
      ...metadata,
      commandId: deriveId(metadata.commandId, suffix),
    });
    if (request?.status === 'refused') {
      throw new MlflowError('INVALID_STATE', `version ${version} of ${name} cannot be archived: ${request.checks.filter((c) => !c.passed).map((c) => c.detail).join('; ')}`);
    }
  }

  private async latestVersions(fields: Fields) {
    const name = requiredString(fields, 'name');
    const raw = fields['stages'];
    const stages = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map((s) => parseStage(String(s)));
    const model = await this.streams.existingModel(name);
    const latest = (await this.latestPerStage(model)).filter((v) => stages.length === 0 || stages.includes(v.stage));
    return { model_versions: latest.map((v) => mlflowVersion(v, model.aliases)) };
  }

  private async modelWithLatest(name: string) {
    const model = await this.streams.existingModel(name);
    return mlflowModel(model, await this.latestPerStage(model));
  }

  /** MLflow's `latest_versions`: the highest-numbered version in each stage. */
  private async latestPerStage(model: CreatedModel): Promise<RegisteredVersion[]> {
    const rows = this.catalog.listVersions(model.name, undefined, 1_000_000, 0).items;
    const latest = new Map<Stage, number>();
    for (const row of rows) if (!latest.has(row.stage) || (latest.get(row.stage) as number) < row.version) latest.set(row.stage, row.version);
    const versions = await Promise.all([...latest.values()].sort((a, b) => a - b).map((v) => this.streams.existingVersion(model.name, v)));
    return versions;
  }
}
