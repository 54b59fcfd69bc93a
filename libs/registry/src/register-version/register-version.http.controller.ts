import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { ApiIdempotencyKey, VERSION_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { versionView } from '../shared/views';
import { RegisterVersionDto } from './register-version.dto';
import { VersionRegistration } from './version-registration';

@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/versions')
export class RegisterVersionController {
  constructor(
    private readonly registration: VersionRegistration,
    private readonly metadata: CommandMetadataFactory,
  ) {}

  /** Registers through the one path events from training platforms take too (see VersionRegistration). */
  @Post()
  @ApiCreatedResponse({ description: 'The version, in stage None', schema: VERSION_SCHEMA })
  @ApiPathParams.name()
  @ApiIdempotencyKey()
  @HttpCode(201)
  @RequireRole('contributor')
  async register(
    @Param('name') rawName: string,
    @Body() body: RegisterVersionDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    const { version, model } = await this.registration.register(name, body, this.metadata.fromRequest(principal, request));
    return versionView(version, model.aliases);
  }
}
