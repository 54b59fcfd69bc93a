import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { STAGES, type Stage } from '@mrw/contracts';
import { RequireRole } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { parseAsOf, parseModelName, parseVersion } from '../shared/http-params';
import { modelView, versionView } from '../shared/views';
import { CatalogQueries } from './catalog.queries';

export class PageQuery {
  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class ListModelsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STAGES, description: 'models with a version in this stage' })
  @IsOptional()
  @IsIn(STAGES as unknown as string[])
  stage?: Stage;

  @ApiPropertyOptional({ description: 'key or key:value' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  tag?: string;

  @ApiPropertyOptional({ description: 'substring of name or description' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class ListVersionsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STAGES })
  @IsOptional()
  @IsIn(STAGES as unknown as string[])
  stage?: Stage;
}

export class AsOfQuery {
  @ApiPropertyOptional({ description: 'ISO 8601 timestamp: the state as it was then' })
  @IsOptional()
  @IsString()
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
  listModels(@Query() query: ListModelsQuery) {
    return this.catalog.listModels({
      ...(query.stage ? { stage: query.stage } : {}),
      ...(query.tag ? { tag: query.tag } : {}),
      ...(query.q ? { q: query.q } : {}),
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
  }

  @Get('models/:name')
  async getModel(@Param('name') name: string, @Query() query: AsOfQuery) {
    const asOf = parseAsOf(query.asOf);
    const model = await this.streams.existingModel(parseModelName(name), asOf);
    return { ...modelView(model), ...(asOf ? { asOf } : {}) };
  }

  @Get('models/:name/versions')
  async listVersions(@Param('name') rawName: string, @Query() query: ListVersionsQuery) {
    const name = parseModelName(rawName);
    await this.streams.existingModel(name);
    return this.catalog.listVersions(name, query.stage, query.limit ?? 100, query.offset ?? 0);
  }

  @Get('models/:name/versions/:version')
  async getVersion(@Param('name') rawName: string, @Param('version') rawVersion: string, @Query() query: AsOfQuery) {
    const name = parseModelName(rawName);
    const asOf = parseAsOf(query.asOf);
    const model = await this.streams.existingModel(name, asOf);
    const version = await this.streams.existingVersion(name, parseVersion(rawVersion), asOf);
    return { ...versionView(version, model.aliases), ...(asOf ? { asOf } : {}) };
  }

  @Get('board')
  board() {
    return this.catalog.board();
  }
}
