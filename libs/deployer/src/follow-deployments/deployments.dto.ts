import { IsIn, IsOptional } from 'class-validator';
import { ApiPropertyOptional, type SchemaObject } from '@nestjs/swagger';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { QueryInteger, QueryText } from '@mrw/platform';

export const DEPLOYMENT_STATUSES = ['requested', 'started', 'succeeded', 'failed'] as const;

/** `GET /api/v1/deployments?model=&environment=&status=` */
export class DeploymentsQuery {
  @QueryText({ maxLength: 128, pattern: MODEL_NAME_PATTERN, example: 'churn' })
  model?: string;

  @QueryText({ maxLength: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, example: 'production' })
  environment?: string;

  @ApiPropertyOptional({ enum: DEPLOYMENT_STATUSES })
  @IsOptional()
  @IsIn(DEPLOYMENT_STATUSES)
  status?: (typeof DEPLOYMENT_STATUSES)[number];

  @QueryInteger({ min: 1, max: 500, default: 100 })
  limit?: number;

  @QueryInteger({ min: 0, max: 1_000_000_000, default: 0 })
  offset?: number;
}

/** `GET /api/v1/deployments/{id}/manifest?target=` */
export class ManifestQuery {
  @QueryInteger({ min: 0, max: 99, description: "the index of a kserve target in the deployment's targets (default: its first kserve target)" })
  target?: number;
}

const nullableText = { type: 'string', nullable: true } as const;

export const DEPLOYMENT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'model', 'version', 'environment', 'target', 'status', 'purpose', 'requestedAt', 'startedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    model: { type: 'string' },
    version: { type: 'integer' },
    environment: { type: 'string', description: 'the environments of its targets, joined with +' },
    target: { type: 'string', description: 'the kinds of its targets, joined with +' },
    status: { type: 'string', enum: [...DEPLOYMENT_STATUSES] },
    purpose: { type: 'string', enum: ['promotion', 'rollback'] },
    endpoint: nullableText,
    requestedAt: { type: 'string', format: 'date-time' },
    startedAt: { ...nullableText, format: 'date-time' },
    finishedAt: { ...nullableText, format: 'date-time' },
    reason: nullableText,
  },
};

export const DEPLOYMENTS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['total', 'items'],
  properties: { total: { type: 'integer' }, items: { type: 'array', items: DEPLOYMENT_SCHEMA } },
};

export const DEPLOYMENT_DETAIL_SCHEMA: SchemaObject = {
  type: 'object',
  required: [...(DEPLOYMENT_SCHEMA.required ?? []), 'idempotencyKey', 'replacing', 'targets'],
  properties: {
    ...DEPLOYMENT_SCHEMA.properties,
    idempotencyKey: { type: 'string' },
    replacing: { type: 'integer', nullable: true },
    deadline: { ...nullableText, format: 'date-time' },
    targets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'kind', 'environment', 'status'],
        properties: {
          index: { type: 'integer' },
          kind: { type: 'string' },
          environment: { type: 'string' },
          settings: { type: 'object', additionalProperties: true, description: 'as in the policy: references to credentials, never credentials' },
          status: { type: 'string', enum: ['pending', 'triggered', 'succeeded', 'failed'] },
          attempts: { type: 'integer', description: 'trigger runs started (retries after transient failures count)' },
          lastError: nullableText,
          triggeredAt: { ...nullableText, format: 'date-time' },
          sent: { type: 'object', nullable: true, additionalProperties: true, description: 'the request sent, credentials and the callback token redacted' },
          response: { type: 'object', nullable: true, additionalProperties: true },
          reported: { type: 'object', nullable: true, additionalProperties: true, description: 'the outcome: by callback, by the target itself, or its refusal' },
        },
      },
    },
  },
};
