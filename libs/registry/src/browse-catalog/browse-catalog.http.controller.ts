import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { STAGES, type Stage } from '@mrw/contracts';
import { CurrentPrincipal, ModelScope, QueryInteger, QueryText, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { BOARD_SCHEMA, MODEL_LIST_SCHEMA, MODEL_SCHEMA, VERSION_LIST_SCHEMA, VERSION_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, MAX_OFFSET, parseAsOf, parseModelName, parseVersion, TAG_FILTER, TIMESTAMP } from '../shared/http-params';
import { modelView, versionView } from '../shared/views';
import { CatalogQueries } from './catalog.queries';

export class PageQuery {
  @QueryInteger({ min: 1, max: 1000, default: 100 })
  limit?: number;

  @QueryInteger({ min: 0, max: MAX_OFFSET, default: 0 })
  offset?: number;
}

export class ListModelsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STAGES, description: 'models with a version in this stage' })
  @IsOptional()
  @IsIn(STAGES as unknown as string[])
  stage?: Stage;

  @QueryText({ maxLength: 5300, pattern: TAG_FILTER, description: 'key or key:value', example: 'team:growth' })
  tag?: string;

  @QueryText({ maxLength: 200, description: 'substring of name or description' })
  q?: string;
}

export class ListVersionsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STAGES })
  @IsOptional()
  @IsIn(STAGES as unknown as string[])
  stage?: Stage;
}

export class AsOfQuery {
  @QueryText({ maxLength: 40, pattern: TIMESTAMP, description: 'ISO 8601 timestamp: the state as it was then', example: '2026-11-01T00:00:00Z' })
  asOf?: string;
}

/** Lists come from the catalog projection; single models and versions are folded from their streams. */
@ApiTags('models')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('api/v1')
export class BrowseCatalogController {
  constructor(
    private readonly catalog: CatalogQueries,
    private readonly streams: RegistryStreams,
  ) {}

  @Get('models')
  @ApiOkResponse({ schema: MODEL_LIST_SCHEMA })
  @ModelScope('no-single-model')
  listModels(@Query() query: ListModelsQuery, @CurrentPrincipal() principal: AuthPrincipal) {
    const scope = scopeFilter(principal);
    return this.catalog.listModels({
      ...(scope ? { scope } : {}),
      ...(query.stage ? { stage: query.stage } : {}),
      ...(query.tag ? { tag: query.tag } : {}),
      ...(query.q ? { q: query.q } : {}),
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
  }

  @Get('models/:name')
  @ApiOkResponse({ schema: MODEL_SCHEMA })
  @ApiPathParams.name()
  @ModelScope({ param: 'name' })
  async getModel(@Param('name') name: string, @Query() query: AsOfQuery) {
    const asOf = parseAsOf(query.asOf);
    const model = await this.streams.existingModel(parseModelName(name), asOf);
    return { ...modelView(model), ...(asOf ? { asOf } : {}) };
  }

  @Get('models/:name/versions')
  @ApiOkResponse({ schema: VERSION_LIST_SCHEMA })
  @ApiPathParams.name()
  @ModelScope({ param: 'name' })
  async listVersions(@Param('name') rawName: string, @Query() query: ListVersionsQuery) {
    const name = parseModelName(rawName);
    await this.streams.assertModelExists(name);
    return this.catalog.listVersions(name, query.stage, query.limit ?? 100, query.offset ?? 0);
  }

  @Get('models/:name/versions/:version')
  @ApiOkResponse({ schema: VERSION_SCHEMA })
  @ApiPathParams.modelVersion()
  @ModelScope({ param: 'name' })
  async getVersion(@Param('name') rawName: string, @Param('version') rawVersion: string, @Query() query: AsOfQuery) {
    const name = parseModelName(rawName);
    const asOf = parseAsOf(query.asOf);
    const model = await this.streams.existingModel(name, asOf);
    const version = await this.streams.existingVersion(name, parseVersion(rawVersion), asOf);
    return { ...versionView(version, model.aliases), ...(asOf ? { asOf } : {}) };
  }

  @Get('board')
  @ApiOkResponse({ schema: BOARD_SCHEMA })
  @ModelScope('no-single-model')
  board(@CurrentPrincipal() principal: AuthPrincipal) {
    return this.catalog.board(scopeFilter(principal));
  }
}
