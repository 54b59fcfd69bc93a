import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { ApiIdempotencyKey, ROLLBACK_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { RequestRollbackDto } from './request-rollback.dto';
import { RollbackRequests } from './rollback-requests';

/**
 * One-click rollback (rule 8): serve again the last version that served before the current one
 * (or the one named), through the same approval policy (`approval.Rollback`, default one
 * reviewer) and the same deployment pipeline. `emergency: true` — for the deployer role, where
 * the policy allows it — deploys at once and opens an after-the-fact review.
 */
@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/rollback')
export class RequestRollbackController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly rollbacks: RollbackRequests,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireRole('contributor')
  @ApiPathParams.name()
  @ApiIdempotencyKey()
  @ApiAcceptedResponse({ description: 'The rollback and its status: awaiting-approval, or deploying', schema: ROLLBACK_SCHEMA })
  async rollback(@Param('name') rawName: string, @Body() body: RequestRollbackDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const name = parseModelName(rawName);
    const model = await this.streams.existingModel(name);
    const rollback = await this.rollbacks.request({
      model,
      ...(body.toVersion === undefined ? {} : { toVersion: body.toVersion }),
      reason: body.reason,
      emergency: body.emergency ?? false,
      principal: { roles: principal.roles, models: principal.models },
      metadata: this.metadata.fromRequest(principal, request),
    });
    return { model: name, rollback };
  }
}
