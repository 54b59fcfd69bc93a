import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { isUuid } from '@mrw/contracts';
import { CurrentPrincipal, inScope, ModelScope, ProblemException, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { targetRun } from '../trigger-deployments/deployment-run';
import { DeploymentRuns } from '../trigger-deployments/deployment-runs';
import { DeploymentTrigger } from '../trigger-deployments/deployment-trigger';
import { DeploymentBook, type KnownDeployment } from './deployment-book';
import { DEPLOYMENT_DETAIL_SCHEMA, DEPLOYMENTS_SCHEMA, DeploymentsQuery } from './deployments.dto';

const row = (d: KnownDeployment) => ({
  id: d.id,
  model: d.model,
  version: d.version,
  environment: d.environment,
  target: d.target,
  status: d.status,
  purpose: d.purpose,
  endpoint: d.endpoint,
  requestedAt: d.requestedAt,
  startedAt: d.startedAt,
  finishedAt: d.finishedAt,
  reason: d.reason,
});

/**
 * Deployments as the registry recorded them (the deployer's fold of the deployment events), and
 * for one deployment what the deployer sent to each target and how each answered. Settings are
 * the policy's references; credentials and callback tokens are never shown.
 */
@ApiTags('deployments')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('api/v1/deployments')
export class DeploymentsController {
  constructor(
    private readonly book: DeploymentBook,
    private readonly runs: DeploymentRuns,
    private readonly trigger: DeploymentTrigger,
  ) {}

  @Get()
  @ModelScope('no-single-model')
  @ApiOkResponse({ schema: DEPLOYMENTS_SCHEMA })
  async list(@Query() query: DeploymentsQuery, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.book.caughtUp();
    const models = scopeFilter(principal);
    const all = this.book.list({
      ...(models ? { models } : {}),
      ...(query.model !== undefined ? { model: query.model } : {}),
      ...(query.environment !== undefined ? { environment: query.environment } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
    });
    const offset = query.offset ?? 0;
    return { total: all.length, items: all.slice(offset, offset + (query.limit ?? 100)).map(row) };
  }

  @Get(':id')
  @ModelScope('no-single-model')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: DEPLOYMENT_DETAIL_SCHEMA })
  async get(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal) {
    await this.book.caughtUp();
    const known = isUuid(id) ? this.book.get(id) : undefined;
    // Out of scope reads as unknown: a scoped token learns nothing of other models' deployments.
    if (!known || !inScope(principal, known.model)) throw new ProblemException('DEPLOYMENT_NOT_FOUND', `no deployment ${id.slice(0, 64)}`);
    const run = await this.runs.read(id);
    return {
      ...row(known),
      idempotencyKey: known.idempotencyKey,
      replacing: known.replacing,
      deadline: this.trigger.planOf(id)?.deadline ?? null,
      targets: known.targets.map((target, index) => {
        const { triggered, reported } = targetRun(run, index);
        const attempts = this.trigger.attemptsOf(id, index);
        return {
          index,
          kind: target.kind,
          environment: target.environment,
          settings: target['settings'] ?? {},
          status: reported ? reported.outcome : triggered ? 'triggered' : 'pending',
          attempts: attempts?.attempts ?? 0,
          lastError: attempts?.lastError ?? null,
          triggeredAt: triggered?.at ?? null,
          sent: triggered?.sent ?? reported?.sent ?? null,
          response: triggered?.response ?? null,
          reported: reported ? { outcome: reported.outcome, via: reported.via, message: reported.message, endpoint: reported.endpoint, at: reported.at } : null,
        };
      }),
    };
  }
}
