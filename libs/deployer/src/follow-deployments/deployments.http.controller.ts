import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { isUuid } from '@mrw/contracts';
import { CurrentPrincipal, hasRole, inScope, ModelScope, ProblemException, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { TargetRefusedError } from '../deployment-targets/deployment-target';
import { KSERVE_KIND, kserveSettingsOf, manifestYaml, renderInferenceService } from '../deployment-targets/kserve-manifest';
import { redactCallback } from '../deployment-targets/target-http';
import { CallbackTokens } from '../report-outcome/callback-tokens';
import { targetRun } from '../trigger-deployments/deployment-run';
import { DeploymentRuns } from '../trigger-deployments/deployment-runs';
import { DeploymentTrigger } from '../trigger-deployments/deployment-trigger';
import { DeploymentBook, type KnownDeployment } from './deployment-book';
import { DEPLOYMENT_DETAIL_SCHEMA, DEPLOYMENTS_SCHEMA, DeploymentsQuery, ManifestQuery } from './deployments.dto';

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
    private readonly callbacks: CallbackTokens,
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
    const known = await this.known(id, principal);
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

  /**
   * The `InferenceService` of a deployment's kserve target, as YAML: what a GitOps pipeline
   * commits (rendered again from the deployment's plan, so it is the manifest the trigger
   * rendered). Its `mrw/callback-url` annotation carries the live callback URL only for a
   * deployer (the pipeline's own token): for other readers the callback's token is redacted,
   * as reporting the outcome is not a viewer's to do.
   */
  @Get(':id/manifest')
  @ModelScope('no-single-model')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiProduces('application/yaml')
  @ApiOkResponse({ description: 'the InferenceService manifest', content: { 'application/yaml': { schema: { type: 'string' } } } })
  @Header('Content-Type', 'application/yaml; charset=utf-8')
  async manifest(@Param('id') id: string, @Query() query: ManifestQuery, @CurrentPrincipal() principal: AuthPrincipal): Promise<string> {
    const known = await this.known(id, principal);
    const index = query.target ?? known.targets.findIndex((t) => t.kind === KSERVE_KIND);
    if (known.targets[index]?.kind !== KSERVE_KIND) {
      throw new ProblemException(
        'MANIFEST_NOT_FOUND',
        query.target === undefined
          ? `deployment ${id} has no kserve target: manifests are rendered for kserve targets only`
          : `target ${index} of deployment ${id} is not a kserve target`,
      );
    }
    const plan = this.trigger.planOf(id);
    const planned = plan?.targets[index];
    if (!plan || !planned) throw new ProblemException('MANIFEST_NOT_FOUND', `the deployer has not taken deployment ${id} up yet; ask again in a moment`);
    try {
      const settings = kserveSettingsOf(planned.settings);
      const callbackUrl = this.callbacks.callbackUrl(id, index, plan.deadline);
      const shownCallback = settings.apiServer !== null ? null : hasRole(principal, 'deployer') ? callbackUrl : redactCallback(callbackUrl);
      const facts = {
        deploymentId: plan.deploymentId,
        idempotencyKey: plan.idempotencyKey,
        model: plan.model,
        version: plan.version,
        environment: planned.environment,
        artifactUri: plan.artifact.uri,
        artifactDigest: plan.artifact.digest,
      };
      return manifestYaml(renderInferenceService(facts, settings, shownCallback));
    } catch (error) {
      // The same refusal the trigger recorded: a setting or an artifact the target cannot use.
      if (error instanceof TargetRefusedError) throw new ProblemException('MANIFEST_NOT_RENDERED', error.message);
      throw error;
    }
  }

  /** A deployment the caller may see; out of scope reads as unknown (a scoped token learns nothing of other models' deployments). */
  private async known(id: string, principal: AuthPrincipal): Promise<KnownDeployment> {
    await this.book.caughtUp();
    const known = isUuid(id) ? this.book.get(id) : undefined;
    if (!known || !inScope(principal, known.model)) throw new ProblemException('DEPLOYMENT_NOT_FOUND', `no deployment ${id.slice(0, 64)}`);
    return known;
  }
}
