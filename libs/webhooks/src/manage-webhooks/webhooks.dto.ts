import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type SchemaObject } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { QueryInteger } from '@mrw/platform';
import { WEBHOOK_EVENT_NAMES } from '../describe-events/webhook-events';
import { WEBHOOK_STATUSES, type WebhookStatus } from './webhook-subscription';

/** An optional signing secret: 24 to 256 characters without whitespace (`whsec_<base64>` or any other string). */
const IsSigningSecret = (): PropertyDecorator =>
  applyDecorators(IsOptional(), IsString(), MinLength(24), MaxLength(256), Matches(/^\S+$/, { message: 'secret must not contain whitespace' }));

const DURATION = /^P(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/;

/** `POST /api/v1/webhooks` */
export class CreateWebhookDto {
  @ApiProperty({ example: 'https://ci.example.com/hooks/model-registry', maxLength: 2000, description: 'http(s); write-only: shown as its origin and a fingerprint' })
  @IsString()
  @MaxLength(2000)
  @Matches(/^https?:\/\/[^\s]+$/i, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({ example: 'CD pipeline: deploy on Production', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_NAMES, isArray: true, minItems: 1, maxItems: WEBHOOK_EVENT_NAMES.length, example: ['MODEL_VERSION_TRANSITIONED_TO_PRODUCTION'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_NAMES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_NAMES as unknown as string[], { each: true })
  events!: string[];

  // `type` spelled out: `string | null` reflects as Object, which the document would then call an object.
  @ApiPropertyOptional({ type: String, pattern: MODEL_NAME_PATTERN.source, example: 'churn', nullable: true, description: "only this model's events; absent or null: every model (admins only)" })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: 'model must be a model name' })
  model?: string | null;

  @ApiPropertyOptional({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', minLength: 24, maxLength: 256, description: 'write-only; absent: one is generated and shown once' })
  @IsSigningSecret()
  secret?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_STATUSES, default: 'ACTIVE' })
  @IsOptional()
  @IsIn(WEBHOOK_STATUSES as unknown as string[])
  status?: WebhookStatus;
}

/** `PATCH /api/v1/webhooks/{id}`: what is given changes; a `secret` rotates the signing secret. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @Matches(/^https?:\/\/[^\s]+$/i, { message: 'url must be an http(s) URL' })
  url?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_NAMES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_NAMES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_NAMES as unknown as string[], { each: true })
  events?: string[];

  @ApiPropertyOptional({ type: String, pattern: MODEL_NAME_PATTERN.source, nullable: true, description: "only this model's events; null: every model (admins only)" })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: 'model must be a model name' })
  model?: string | null;

  @ApiPropertyOptional({ enum: WEBHOOK_STATUSES })
  @IsOptional()
  @IsIn(WEBHOOK_STATUSES as unknown as string[])
  status?: WebhookStatus;

  @ApiPropertyOptional({ minLength: 24, maxLength: 256, description: 'a new signing secret: the previous one keeps signing beside it for secretOverlap' })
  @IsSigningSecret()
  secret?: string;

  @ApiPropertyOptional({ example: 'PT24H', default: 'PT24H', description: 'ISO 8601, at most P7D: how long the previous secret still signs' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  @Matches(DURATION, { message: 'secretOverlap must be an ISO 8601 duration such as PT24H' })
  secretOverlap?: string;
}

/** `POST /api/v1/webhooks/{id}/replay` */
export class ReplayDto {
  @ApiProperty({ example: '2026-11-30T00:00:00Z', description: 'history from this moment (ISO 8601) up to now is sent again' })
  @IsString()
  @MaxLength(40)
  @Matches(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/, { message: 'since must be an ISO 8601 timestamp with a time zone' })
  since!: string;
}

/** `POST /api/v1/webhooks/{id}/test` */
export class TestWebhookDto {
  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_NAMES, description: "the sample's event name (default: the subscription's first)" })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_NAMES as unknown as string[])
  event?: string;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;

/** `GET /api/v1/webhooks/{id}/deliveries?status=&limit=&offset=` */
export class DeliveriesQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];

  @QueryInteger({ min: 1, max: 500, default: 50 })
  limit?: number;

  @QueryInteger({ min: 0, max: 1_000_000_000, default: 0 })
  offset?: number;
}

const text = { type: 'string' } as const;
const nullableText = { type: 'string', nullable: true } as const;

export const WEBHOOK_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'url', 'events', 'status', 'health'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { ...text, description: 'the origin only (the URL is write-only)' },
    urlFingerprint: { ...text, description: 'sha256 of the URL, first 16 hex digits: compare with your own' },
    description: text,
    events: { type: 'array', items: text },
    model: nullableText,
    status: { type: 'string', enum: [...WEBHOOK_STATUSES] },
    health: { type: 'string', enum: ['HEALTHY', 'FAILING'] },
    healthReason: nullableText,
    failingSince: nullableText,
    previousSecretUntil: nullableText,
    owner: { type: 'object', properties: { kind: text, id: text } },
    createdAt: text,
    updatedAt: text,
    secret: { ...text, description: 'only in the answer to a creation that generated it' },
  },
};

export const WEBHOOKS_SCHEMA: SchemaObject = { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: WEBHOOK_SCHEMA } } };

const ATTEMPT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { n: { type: 'integer' }, at: text, status: { type: 'integer', nullable: true }, latencyMs: { type: 'integer' }, excerpt: nullableText, error: nullableText },
};

export const DELIVERY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    id: text,
    webhookId: { ...text, description: 'the webhook-id header: the same on every attempt and redelivery of one message' },
    kind: { type: 'string', enum: ['event', 'redelivery', 'replay', 'test'] },
    event: text,
    eventId: nullableText,
    eventType: nullableText,
    stream: nullableText,
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    attempts: { type: 'integer' },
    createdAt: text,
    settledAt: nullableText,
    lastStatus: { type: 'integer', nullable: true },
    lastError: nullableText,
    history: { type: 'array', items: ATTEMPT_SCHEMA },
  },
};

export const DELIVERIES_SCHEMA: SchemaObject = { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: DELIVERY_SCHEMA } } };
