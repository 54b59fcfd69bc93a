import { Body, Controller, Delete, HttpCode, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import type { Request } from 'express';
import { TAG_KEY_PATTERN, type RegisteredVersion } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, TAGS_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName, parseTagKey, parseVersion } from '../shared/http-params';

export class SetTagDto {
  @ApiProperty({ example: 'validated', maxLength: 5000 })
  @IsString()
  @MaxLength(5000)
  value!: string;
}

@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@ApiPathParams.modelVersion()
@ApiParam({ name: 'key', schema: { type: 'string', pattern: TAG_KEY_PATTERN.source } })
@ApiIdempotencyKey()
@Controller('api/v1/models/:name/versions/:version/tags/:key')
export class ManageTagsController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  @Put()
  @ApiOkResponse({ description: "The version's tags", schema: TAGS_SCHEMA })
  @RequireRole('contributor')
  async set(
    @Param('name') name: string,
    @Param('version') version: string,
    @Param('key') key: string,
    @Body() body: SetTagDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const result = await this.streams.executeVersion(parseModelName(name), parseVersion(version), {
      type: 'SetVersionTag',
      data: { key: parseTagKey(key), value: body.value },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return { tags: (result.state as RegisteredVersion).tags };
  }

  @Delete()
  @ApiNoContentResponse({ description: 'Removed' })
  @HttpCode(204)
  @RequireRole('contributor')
  async remove(
    @Param('name') name: string,
    @Param('version') version: string,
    @Param('key') key: string,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ): Promise<void> {
    const result = await this.streams.executeVersion(parseModelName(name), parseVersion(version), {
      type: 'RemoveVersionTag',
      data: { key: parseTagKey(key) },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
  }
}
