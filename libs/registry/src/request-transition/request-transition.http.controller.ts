import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentPrincipal, ModelScope, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { ApiIdempotencyKey, TRANSITION_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName, parseVersion } from '../shared/http-params';
import { requestView } from '../shared/views';
import { RequestTransitionDto } from './request-transition.dto';
import { StageTransitions } from './stage-transitions';

@ApiTags('versions')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/versions/:version/transitions')
export class RequestTransitionController {
  constructor(
    private readonly transitions: StageTransitions,
    private readonly metadata: CommandMetadataFactory,
  ) {}

  /**
   * 202 with the request's status: `evaluating`, `awaiting-approval`, `deploying`,
   * `completed`, or `refused` with the failing checks (a refusal by the automated gates is
   * audited). A transition the stage rules forbid is a 409 and appends nothing.
   */
  @Post()
  @ApiAcceptedResponse({ description: 'The request and its status', schema: TRANSITION_SCHEMA })
  @ApiPathParams.modelVersion()
  @ApiIdempotencyKey()
  @HttpCode(202)
  @RequireRole('contributor')
  async request(
    @Param('name') rawName: string,
    @Param('version') rawVersion: string,
    @Body() body: RequestTransitionDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    const version = parseVersion(rawVersion);
    const { version: state, request: made, existingVersions } = await this.transitions.request(
      name,
      version,
      body.toStage,
      body.comment ?? '',
      this.metadata.fromRequest(principal, request),
      { archiveExistingVersions: body.archiveExistingVersions === true },
    );
    return { model: name, version, stage: state.stage, request: made ? requestView(made) : null, ...(existingVersions ? { existingVersions } : {}) };
  }
}
