import { Body, Controller, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { DeploymentTarget, MetricThreshold, ModelPolicy } from '@mrw/contracts';
import { validatePolicy, type CreatedModel } from '@mrw/domain';
import { CurrentPrincipal, ModelScope, ProblemException, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, POLICY_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { SetPolicyDto } from './set-policy.dto';

const THRESHOLD_KEYS = new Set(['threshold', 'minAbsoluteChange', 'minRelativeChange', 'greaterIsBetter', 'requireConfidenceBound']);

/** The DTO's shape, checked, as the domain's policy type; thresholds are checked key by key. */
const toPolicy = (dto: SetPolicyDto): { policy: ModelPolicy; problems: Array<{ field: string; message: string }> } => {
  const problems: Array<{ field: string; message: string }> = [];
  const thresholds: Record<string, MetricThreshold> = {};
  for (const [metric, rule] of Object.entries(dto.evaluation?.thresholds ?? {})) {
    const field = `evaluation.thresholds.${metric}`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      problems.push({ field, message: 'must be an object' });
      continue;
    }
    for (const [key, value] of Object.entries(rule)) {
      if (!THRESHOLD_KEYS.has(key)) problems.push({ field: `${field}.${key}`, message: 'unknown field' });
      const isFlag = key === 'greaterIsBetter' || key === 'requireConfidenceBound';
      if (isFlag ? typeof value !== 'boolean' : typeof value !== 'number') {
        problems.push({ field: `${field}.${key}`, message: isFlag ? 'must be a boolean' : 'must be a number' });
      }
    }
    thresholds[metric] = rule as MetricThreshold;
  }
  const policy: ModelPolicy = {
    ...(dto.evaluation
      ? {
          evaluation: {
            set: dto.evaluation.set,
            ...(dto.evaluation.setVersion !== undefined ? { setVersion: dto.evaluation.setVersion } : {}),
            thresholds,
          },
        }
      : {}),
    ...(dto.approval ? { approval: { ...dto.approval } } : {}),
    ...(dto.deployment
      ? {
          deployment: {
            targets: dto.deployment.targets.map(
              (t): DeploymentTarget => ({ kind: t.kind, environment: t.environment, ...(t.settings ? { settings: t.settings } : {}) }),
            ),
          },
        }
      : {}),
    ...(dto.archival ? { archival: { ...dto.archival } } : {}),
    ...(dto.rollback ? { rollback: { ...dto.rollback } } : {}),
  };
  return { policy, problems };
};

@ApiTags('models')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/policy')
export class SetPolicyController {
  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
  ) {}

  /** Governance is an admin's call: thresholds and approvers decide what reaches production. */
  @Put()
  @ApiOkResponse({ schema: POLICY_SCHEMA })
  @ApiPathParams.name()
  @ApiIdempotencyKey()
  @RequireRole('admin')
  async setPolicy(
    @Param('name') rawName: string,
    @Body() body: SetPolicyDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Req() request: Request,
  ) {
    const name = parseModelName(rawName);
    const { policy, problems } = toPolicy(body);
    problems.push(...validatePolicy(policy));
    if (problems.length > 0) {
      throw new ProblemException(
        'INVALID_POLICY',
        `the policy is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
        { errors: problems },
      );
    }
    const result = await this.streams.executeModel(name, {
      type: 'SetModelPolicy',
      data: { policy },
      metadata: this.metadata.fromRequest(principal, request),
    });
    await this.projector.waitFor(result.position);
    return (result.state as CreatedModel).policy;
  }
}
