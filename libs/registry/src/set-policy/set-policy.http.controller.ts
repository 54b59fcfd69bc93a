import { Body, Controller, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ApprovalRule, ArchivalPolicy, DeploymentTarget, LiveMetricRule, MetricThreshold, ModelPolicy, NotifyChannel } from '@mrw/contracts';
import { validatePolicy, type CreatedModel } from '@mrw/domain';
import { CurrentPrincipal, ENCRYPTED_VIEW, ModelScope, ProblemException, redactSecretSettings, RequireRole, SecretBox, ServerSecrets, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, POLICY_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseModelName } from '../shared/http-params';
import { SetPolicyDto, type ApprovalRuleDto, type ArchivalPolicyDto } from './set-policy.dto';

const THRESHOLD_KEYS = new Set(['threshold', 'minAbsoluteChange', 'minRelativeChange', 'greaterIsBetter', 'requireConfidenceBound']);

/** The DTO's shape, checked, as the domain's policy type; thresholds are checked key by key. */
export const toPolicy = (dto: SetPolicyDto): { policy: ModelPolicy; problems: Array<{ field: string; message: string }> } => {
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
    ...(dto.approval
      ? {
          approval: Object.fromEntries(
            Object.entries(dto.approval)
              .filter(([, rule]) => rule !== undefined)
              .map(([stage, rule]) => [stage, approvalRule(rule as ApprovalRuleDto)]),
          ),
        }
      : {}),
    ...(dto.deployment
      ? {
          deployment: {
            targets: dto.deployment.targets.map(
              (t): DeploymentTarget => ({ kind: t.kind, environment: t.environment, ...(t.settings ? { settings: t.settings } : {}) }),
            ),
            ...(dto.deployment.timeout !== undefined ? { timeout: dto.deployment.timeout } : {}),
            ...(dto.deployment.shadow !== undefined ? { shadow: dto.deployment.shadow } : {}),
          },
        }
      : {}),
    ...(dto.archival ? { archival: archivalPolicy(dto.archival) } : {}),
    ...(dto.rollback ? { rollback: { ...dto.rollback } } : {}),
    ...(dto.servingAlias !== undefined ? { servingAlias: dto.servingAlias } : {}),
  };
  return { policy, problems };
};

/** A DTO's given fields only: the stored policy shows what was set, not every field it could have. */
const definedFields = <T extends object>(dto: T): T => Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined)) as T;

const archivalPolicy = (dto: ArchivalPolicyDto): ArchivalPolicy => {
  const { liveMetric, ...rules } = definedFields(dto);
  return { ...rules, ...(liveMetric ? { liveMetric: definedFields({ ...liveMetric }) as LiveMetricRule } : {}) };
};

const approvalRule = (dto: ApprovalRuleDto): ApprovalRule => ({
  required: dto.required,
  reviewers: dto.reviewers,
  expiresIn: dto.expiresIn,
  ...(dto.remindEvery !== undefined ? { remindEvery: dto.remindEvery } : {}),
  ...(dto.escalateTo !== undefined ? { escalateTo: dto.escalateTo } : {}),
  ...(dto.notify
    ? { notify: dto.notify.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as NotifyChannel) }
    : {}),
});

/** The secret settings of notification channels (a chat webhook URL, a signing secret). */
const SEALED_FIELDS = ['webhookUrl', 'secret'] as const;

/**
 * Seals every secret a policy's notification channels give as a value, before it is stored
 * in the log. `[encrypted]` (what a read of the policy shows) keeps the value already stored
 * for that channel, so a policy read, edited and sent back keeps its secrets; a sealed value
 * must open with this suite's key.
 */
const sealNotifySecrets = (policy: ModelPolicy, current: ModelPolicy, box: SecretBox, problems: Array<{ field: string; message: string }>): ModelPolicy => {
  const approval = policy.approval;
  if (!approval) return policy;
  const sealed = Object.fromEntries(
    Object.entries(approval).map(([stage, rule]) => {
      if (!rule?.notify) return [stage, rule];
      const before = (current.approval as Record<string, ApprovalRule | undefined> | undefined)?.[stage]?.notify ?? [];
      const notify = rule.notify.map((channel, i) => {
        const out: Record<string, unknown> = { ...channel };
        for (const field of SEALED_FIELDS) {
          const value = out[field];
          if (typeof value !== 'string') continue;
          const at = `approval.${stage}.notify[${i}].${field}`;
          if (value === ENCRYPTED_VIEW) {
            const kept = (before[i] as Record<string, unknown> | undefined)?.[field];
            if (before[i]?.kind === channel.kind && SecretBox.isEncrypted(kept)) out[field] = kept;
            else problems.push({ field: at, message: 'no stored secret to keep here: send the value itself' });
          } else if (SecretBox.isEncrypted(value)) {
            try {
              box.decrypt(value);
            } catch {
              problems.push({ field: at, message: 'was sealed by another suite; send the value itself' });
            }
          } else {
            out[field] = box.encrypt(value);
          }
        }
        return out as unknown as NotifyChannel;
      });
      return [stage, { ...rule, notify }];
    }),
  );
  return { ...policy, approval: sealed as ModelPolicy['approval'] };
};

@ApiTags('models')
@ApiBearerAuth()
@ModelScope({ param: 'name' })
@Controller('api/v1/models/:name/policy')
export class SetPolicyController {
  private readonly box: SecretBox;

  constructor(
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
    secrets: ServerSecrets,
  ) {
    this.box = SecretBox.forPolicySecrets(secrets);
  }

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
    const { policy: given, problems } = toPolicy(body);
    problems.push(...validatePolicy(given));
    const current = (await this.streams.model(name)).status === 'created' ? ((await this.streams.model(name)) as CreatedModel).policy : {};
    const policy = problems.length > 0 ? given : sealNotifySecrets(given, current, this.box, problems);
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
    return redactSecretSettings((result.state as CreatedModel).policy);
  }
}
