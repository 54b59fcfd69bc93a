import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { CreatedModel } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, MODEL_SCHEMA } from '../shared/api-schemas';
import { modelView } from '../shared/views';
import { RegisterModelDto } from './register-model.dto';

@ApiTags('models')
@ApiBearerAuth()
@ModelScope({ body: 'name' })
@Controller('api/v1/models')
export class RegisterModelController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  @Post()
  @ApiCreatedResponse({ description: 'The model', schema: MODEL_SCHEMA })
  @ApiIdempotencyKey()
  @HttpCode(201)
  @RequireRole('contributor')
  async register(@Body() body: RegisterModelDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const result = await this.streams.executeModel(body.name, {
      type: 'CreateModel',
      data: { name: body.name, description: body.description ?? '', tags: body.tags ?? {} },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return modelView(result.state as CreatedModel);
  }
}
