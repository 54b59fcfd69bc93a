import { Body, Controller, Delete, HttpCode, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { Request } from 'express';
import { ALIAS_PATTERN, type CreatedModel } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ALIASES_SCHEMA, ApiIdempotencyKey } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';

export class SetAliasDto {
  @ApiProperty({ example: 3, type: 'integer', minimum: 1, maximum: 999_999_999 })
  @IsInt()
  @Min(1)
  @Max(999_999_999)
  version!: number;
}

/** Aliases live on the model's stream: one alias names one version at a time. */
@ApiTags('models')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@ApiPathParams.name()
@ApiParam({ name: 'alias', schema: { type: 'string', pattern: ALIAS_PATTERN.source } })
@ApiIdempotencyKey()
@Controller('api/v1/models/:name/aliases/:alias')
export class ManageAliasesController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  @Put()
  @ApiOkResponse({ description: "The model's aliases", schema: ALIASES_SCHEMA })
  @RequireRole('contributor')
  async set(
    @Param('name') rawName: string,
    @Param('alias') alias: string,
    @Body() body: SetAliasDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    await this.streams.existingModel(name);
    const versionExists = (await this.streams.version(name, body.version)).status === 'registered';
    const result = await this.streams.executeModel(name, {
      type: 'SetAlias',
      data: { alias, version: body.version, versionExists },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return { aliases: (result.state as CreatedModel).aliases };
  }

  @Delete()
  @ApiNoContentResponse({ description: 'Removed' })
  @HttpCode(204)
  @RequireRole('contributor')
  async remove(
    @Param('name') rawName: string,
    @Param('alias') alias: string,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ): Promise<void> {
    const result = await this.streams.executeModel(parseModelName(rawName), {
      type: 'RemoveAlias',
      data: { alias },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
  }
}
