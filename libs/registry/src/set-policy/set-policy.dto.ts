import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { LIVE_METRIC_NAME_PATTERN, NOTIFY_CHANNEL_KINDS, type NotifyChannel } from '@mrw/contracts';

/**
 * A nested part of the policy (or, with `each`, every item of a list of them): an object of
 * `type`, validated as such. `ValidateNested` alone takes an array in an object's place and
 * checks its items, so `"approval": [{}]` would pass and reach the policy rules as a list.
 */
const Nested = (type: () => new () => object, options: { readonly each?: boolean } = {}): PropertyDecorator =>
  applyDecorators(IsObject({ each: options.each === true, message: `$property must be ${options.each ? 'a list of objects' : 'an object'}` }), ValidateNested({ each: options.each === true }), Type(type));

export class EvaluationPolicyDto {
  @ApiProperty({ example: 'churn-holdout', description: 'Name of the standard evaluation set', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)
  set!: string;

  @ApiPropertyOptional({ description: 'Pins one version of the set (sha256:<hex>); else the newest is the standard' })
  @IsOptional()
  @IsString()
  setVersion?: string;

  @ApiPropertyOptional({
    example: { accuracy: { threshold: 0.85 }, roc_auc: { minAbsoluteChange: 0, requireConfidenceBound: true } },
    description: "Per metric: MLflow MetricThreshold (threshold, minAbsoluteChange, minRelativeChange, greaterIsBetter) plus requireConfidenceBound",
  })
  @IsOptional()
  @IsObject()
  thresholds?: Record<string, Record<string, unknown>>;
}

export class NotifyChannelDto {
  @ApiProperty({ enum: NOTIFY_CHANNEL_KINDS })
  @IsIn(NOTIFY_CHANNEL_KINDS as unknown as string[])
  kind!: NotifyChannel['kind'];

  @ApiPropertyOptional({ description: 'slack, teams: the incoming/Workflows webhook URL (write-only: stored encrypted, shown redacted)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  webhookUrl?: string;

  @ApiPropertyOptional({ description: 'slack, teams: or the name of an environment variable of the approvals service holding it' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  webhookUrlEnv?: string;

  @ApiPropertyOptional({ description: 'webhook: where to POST (Standard Webhooks signature)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ description: 'webhook: the signing secret (write-only: stored encrypted, shown redacted)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  secret?: string;

  @ApiPropertyOptional({ description: 'webhook: or the name of an environment variable holding it' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  secretEnv?: string;
}

export class ApprovalRuleDto {
  @ApiProperty({ example: 1, type: 'integer', minimum: 0, maximum: 20 })
  @IsInt()
  @Min(0)
  @Max(20)
  required!: number;

  @ApiProperty({ example: ['role:reviewer'] })
  @IsArray()
  @IsString({ each: true })
  reviewers!: string[];

  @ApiProperty({ example: 'P3D', description: 'ISO 8601 duration' })
  @IsString()
  @MaxLength(40)
  expiresIn!: string;

  @ApiPropertyOptional({ type: [NotifyChannelDto], description: 'Channels reviewers are told on' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Nested(() => NotifyChannelDto, { each: true })
  notify?: NotifyChannelDto[];

  @ApiPropertyOptional({ example: 'P1D', description: 'ISO 8601 duration between reminders' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  remindEvery?: string;

  @ApiPropertyOptional({ example: 'user:lead', description: 'Told once, half-way to expiry' })
  @IsOptional()
  @IsString()
  @MaxLength(140)
  escalateTo?: string;
}

export class ApprovalPolicyDto {
  @ApiPropertyOptional({ type: ApprovalRuleDto })
  @IsOptional()
  @Nested(() => ApprovalRuleDto)
  Production?: ApprovalRuleDto;

  @ApiPropertyOptional({ type: ApprovalRuleDto })
  @IsOptional()
  @Nested(() => ApprovalRuleDto)
  Rollback?: ApprovalRuleDto;
}

export class DeploymentTargetDto {
  @ApiProperty({ example: 'local' })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,63}$/)
  kind!: string;

  @ApiProperty({ example: 'production' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
  environment!: string;

  @ApiPropertyOptional({ description: 'Target-specific settings (e.g. the CI/CD endpoint)' })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
}

export class DeploymentPolicyDto {
  @ApiProperty({ type: [DeploymentTargetDto] })
  @IsArray()
  @Nested(() => DeploymentTargetDto, { each: true })
  targets!: DeploymentTargetDto[];

  @ApiPropertyOptional({ example: 'PT30M', description: 'ISO 8601: a deployment with no outcome by then has failed (default PT30M)' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  timeout?: string;

  @ApiPropertyOptional({ description: 'Serve a version entering Staging in the shadow environment of the local runtime' })
  @IsOptional()
  @IsBoolean()
  shadow?: boolean;
}

export class LiveMetricRuleDto {
  @ApiProperty({ example: 'accuracy', pattern: LIVE_METRIC_NAME_PATTERN.source, description: 'The live metric monitoring reports' })
  @IsString()
  @Matches(LIVE_METRIC_NAME_PATTERN)
  metric!: string;

  @ApiPropertyOptional({ example: 0.8, description: 'Breached while the metric is below this (exactly one of below, above)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  below?: number;

  @ApiPropertyOptional({ description: 'Breached while the metric is above this (exactly one of below, above)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  above?: number;

  @ApiProperty({ example: 'PT1H', description: 'ISO 8601: how long the breach must last' })
  @IsString()
  @MaxLength(40)
  for!: string;

  @ApiPropertyOptional({ example: 20, type: 'integer', minimum: 1, description: 'Samples (summed count) the window must hold (default 1)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  minSamples?: number;

  @ApiPropertyOptional({ example: false, description: 'The serving version in breach: also request a rollback (default false)' })
  @IsOptional()
  @IsBoolean()
  rollback?: boolean;
}

export class ArchivalPolicyDto {
  @ApiPropertyOptional({ example: 30, type: 'integer', minimum: 0, description: 'Legacy form of supersededAfter (P<n>D)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  supersededAfterDays?: number;

  @ApiPropertyOptional({ example: 'P30D', description: 'ISO 8601: archive a superseded version this long after a newer one took over (default P30D)' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  supersededAfter?: string;

  @ApiPropertyOptional({ example: 'P90D', description: 'ISO 8601: archive a version left in None or Staging longer than this' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  staleAfter?: string;

  @ApiPropertyOptional({ example: 10, type: 'integer', minimum: 1, description: 'At most this many non-archived versions (oldest archived first)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  keepAtMost?: number;

  @ApiPropertyOptional({ type: LiveMetricRuleDto })
  @IsOptional()
  @Nested(() => LiveMetricRuleDto)
  liveMetric?: LiveMetricRuleDto;

  @ApiPropertyOptional({ example: true, description: 'Default true: staleAfter, keepAtMost and liveMetric never archive the rollback target' })
  @IsOptional()
  @IsBoolean()
  keepRollbackTarget?: boolean;

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  archivePreviousOnSuccess?: boolean;
}

export class RollbackPolicyDto {
  @ApiPropertyOptional({ example: 1, type: 'integer', minimum: 0, maximum: 20 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  required?: number;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  allowEmergency?: boolean;
}

/** PUT /models/{name}/policy: every part optional; the body replaces the whole policy. */
export class SetPolicyDto {
  @ApiPropertyOptional({ type: EvaluationPolicyDto })
  @IsOptional()
  @Nested(() => EvaluationPolicyDto)
  evaluation?: EvaluationPolicyDto;

  @ApiPropertyOptional({ type: ApprovalPolicyDto })
  @IsOptional()
  @Nested(() => ApprovalPolicyDto)
  approval?: ApprovalPolicyDto;

  @ApiPropertyOptional({ type: DeploymentPolicyDto })
  @IsOptional()
  @Nested(() => DeploymentPolicyDto)
  deployment?: DeploymentPolicyDto;

  @ApiPropertyOptional({ type: ArchivalPolicyDto })
  @IsOptional()
  @Nested(() => ArchivalPolicyDto)
  archival?: ArchivalPolicyDto;

  @ApiPropertyOptional({ type: RollbackPolicyDto })
  @IsOptional()
  @Nested(() => RollbackPolicyDto)
  rollback?: RollbackPolicyDto;

  @ApiPropertyOptional({
    example: 'champion',
    maxLength: 64,
    description:
      'An alias that always names the serving version: it moves when a version starts serving (promotion or rollback) and cannot be set or removed by hand (409 ALIAS_GOVERNED). Nothing serving: the alias is removed.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  servingAlias?: string;
}
