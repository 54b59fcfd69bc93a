import { Body, Controller, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { currentCorrelationId } from '@mrw/logging';
import { ApiProblems, CLOCK, ProblemException, Public, type Clock } from '@mrw/platform';
import { DeploymentTrigger } from '../trigger-deployments/deployment-trigger';
import { CallbackTokens } from './callback-tokens';
import { DeploymentCallbackDto, DeploymentCallbackQuery } from './deployment-callback.dto';

/**
 * Where pipelines report a deployment's outcome. No bearer token: the callback URL's signed,
 * expiring token is the credential, bound to one deployment and one of its targets, and spent by
 * its first use, so a pipeline needs no other secret of the registry.
 */
@Public()
@ApiTags('deployments')
@Controller('api/v1/deployments')
export class DeploymentCallbackController {
  constructor(
    private readonly tokens: CallbackTokens,
    private readonly deployments: DeploymentTrigger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post(':id/callback')
  @HttpCode(202)
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiAcceptedResponse({
    description: 'Recorded; the registry records the deployment\'s outcome shortly',
    schema: {
      type: 'object',
      required: ['deploymentId', 'target', 'status', 'concluded'],
      properties: {
        deploymentId: { type: 'string', format: 'uuid' },
        target: { type: 'integer' },
        status: { type: 'string', enum: ['succeeded', 'failed'] },
        concluded: { type: 'string', enum: ['succeeded', 'failed'], nullable: true, description: 'the deployment\'s outcome, once every target reported or one failed' },
      },
    },
  })
  @ApiProblems(403, 404, 409, 410)
  async report(@Param('id') id: string, @Query() query: DeploymentCallbackQuery, @Body() body: DeploymentCallbackDto) {
    const claims = this.tokens.verify(query.token, id, this.clock.now());
    const plan = this.deployments.planOf(id);
    if (!plan || !plan.targets[claims.tgt]) {
      throw new ProblemException('DEPLOYMENT_NOT_FOUND', `deployment ${id} is not known to the deployer (yet)`);
    }
    const correlationId = currentCorrelationId();
    const state = await this.deployments.report(
      plan,
      claims.tgt,
      { outcome: body.status, message: body.message ?? null, endpoint: body.endpoint ?? null },
      correlationId,
    );
    return { deploymentId: id, target: claims.tgt, status: body.status, concluded: state.concluded?.outcome ?? null };
  }
}
