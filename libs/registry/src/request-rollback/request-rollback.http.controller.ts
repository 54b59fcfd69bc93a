import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { previousServingVersion, servingVersionOf, type RegisteredVersion } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, ProblemException, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, ROLLBACK_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { RequestRollbackDto } from './request-rollback.dto';

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
    private readonly projector: RegistryProjector,
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
    const serving = servingVersionOf(model);
    const target = body.toVersion ?? previousServingVersion(model);
    if (target === null) {
      throw new ProblemException('NO_ROLLBACK_TARGET', `no version of ${name} served before the current one: name one with toVersion`);
    }
    await this.streams.existingVersion(name, target);
    const metadata = this.metadata.fromRequest(principal, request);
    const result = await this.streams.executeVersion(name, target, {
      type: 'RequestRollback',
      data: {
        reason: body.reason,
        emergency: body.emergency ?? false,
        principal: { roles: principal.roles, models: principal.models },
        policy: model.policy,
        servingVersion: serving,
      },
      metadata,
    });
    await this.projector.waitFor(result.position);
    const state = result.state as RegisteredVersion;
    const approval = state.approvals.find((a) => a.requestId === metadata.commandId);
    const deployment = state.deployments.find((d) => d.requestId === metadata.commandId);
    return {
      model: name,
      rollback: {
        id: metadata.commandId,
        fromVersion: serving,
        toVersion: target,
        emergency: body.emergency ?? false,
        status: approval && !approval.afterTheFact ? 'awaiting-approval' : deployment ? 'deploying' : 'requested',
        approvalId: approval?.id ?? null,
        deploymentId: deployment?.id ?? null,
      },
    };
  }
}
