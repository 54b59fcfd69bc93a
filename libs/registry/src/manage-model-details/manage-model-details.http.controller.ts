import { Body, Controller, Delete, HttpCode, Param, Patch, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import type { Request } from 'express';
import { DESCRIPTION_MAX_LENGTH, TAG_KEY_PATTERN, TAG_VALUE_MAX_LENGTH, type CreatedModel, type RegisteredVersion } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, MODEL_SCHEMA, TAGS_SCHEMA, VERSION_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName, parseTagKey, parseVersion } from '../shared/http-params';
import { modelView, versionView } from '../shared/views';

export class UpdateDescriptionDto {
  @ApiProperty({ example: 'Predicts churn in the next 60 days', maxLength: DESCRIPTION_MAX_LENGTH })
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  description!: string;
}

export class SetModelTagDto {
  @ApiProperty({ example: 'growth', maxLength: TAG_VALUE_MAX_LENGTH })
  @IsString()
  @MaxLength(TAG_VALUE_MAX_LENGTH)
  value!: string;
}


/** What describes a model after its creation: its description and tags, on the model's stream. */
@ApiTags('models')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@ApiPathParams.name()
@ApiIdempotencyKey()
@Controller('api/v1/models/:name')
export class ManageModelDetailsController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  @Patch()
  @ApiOkResponse({ description: 'The model', schema: MODEL_SCHEMA })
  @RequireRole('contributor')
  async update(
    @Param('name') name: string,
    @Body() body: UpdateDescriptionDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const result = await this.streams.executeModel(parseModelName(name), {
      type: 'UpdateModelDescription',
      data: { description: body.description },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return modelView(result.state as CreatedModel);
  }

  @Put('tags/:key')
  @ApiParam({ name: 'key', schema: { type: 'string', pattern: TAG_KEY_PATTERN.source } })
  @ApiOkResponse({ description: "The model's tags", schema: TAGS_SCHEMA })
  @RequireRole('contributor')
  async setTag(
    @Param('name') name: string,
    @Param('key') key: string,
    @Body() body: SetModelTagDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const result = await this.streams.executeModel(parseModelName(name), {
      type: 'SetModelTag',
      data: { key: parseTagKey(key), value: body.value },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return { tags: (result.state as CreatedModel).tags };
  }

  @Delete('tags/:key')
  @ApiParam({ name: 'key', schema: { type: 'string', pattern: TAG_KEY_PATTERN.source } })
  @ApiNoContentResponse({ description: 'Removed' })
  @HttpCode(204)
  @RequireRole('contributor')
  async removeTag(
    @Param('name') name: string,
    @Param('key') key: string,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ): Promise<void> {
    const result = await this.streams.executeModel(parseModelName(name), {
      type: 'RemoveModelTag',
      data: { key: parseTagKey(key) },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
  }
}

/** A version's description after registration (its tags have their own routes). */
@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@ApiPathParams.modelVersion()
@ApiIdempotencyKey()
@Controller('api/v1/models/:name/versions/:version')
export class UpdateVersionDescriptionController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  @Patch()
  @ApiOkResponse({ description: 'The version', schema: VERSION_SCHEMA })
  @RequireRole('contributor')
  async update(
    @Param('name') rawName: string,
    @Param('version') rawVersion: string,
    @Body() body: UpdateDescriptionDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    const model = await this.streams.existingModel(name);
    const result = await this.streams.executeVersion(name, parseVersion(rawVersion), {
      type: 'UpdateVersionDescription',
      data: { description: body.description },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return versionView(result.state as RegisteredVersion, model.aliases);
  }
}
