import { applyDecorators } from '@nestjs/common';
import { ApiHeader, type SchemaObject } from '@nestjs/swagger';
import { STAGES } from '@mrw/contracts';

/*
 * JSON Schemas (OpenAPI 3.0) of what the registry answers, for the OpenAPI document: clients
 * and schema-based fuzzers check responses against them. They state every field a client may
 * rely on and leave room for additions (no `additionalProperties: false`).
 */

const str: SchemaObject = { type: 'string' };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const int: SchemaObject = { type: 'integer' };
const nullableInt: SchemaObject = { type: 'integer', nullable: true };
const bool: SchemaObject = { type: 'boolean' };
const anyObject: SchemaObject = { type: 'object', additionalProperties: true };
const stage: SchemaObject = { type: 'string', enum: [...STAGES] };
const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };
const objectOf = (properties: Record<string, SchemaObject>, nullable = false): SchemaObject => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
  ...(nullable ? { nullable: true } : {}),
});
const arrayOf = (items: SchemaObject): SchemaObject => ({ type: 'array', items });

export const ACTOR_SCHEMA = objectOf({ kind: { type: 'string', enum: ['user', 'service'] }, id: str });

/** `GET /models/{name}`, `POST /models`. */
export const MODEL_SCHEMA = objectOf({
  name: str,
  description: str,
  tags: stringMap,
  policy: anyObject,
  aliases: { type: 'object', additionalProperties: int },
  latestVersion: int,
  servingVersion: nullableInt,
  servingHistory: arrayOf(anyObject),
  createdAt: str,
  updatedAt: str,
});

const MODEL_SUMMARY_SCHEMA = objectOf({
  name: str,
  description: str,
  tags: stringMap,
  aliases: { type: 'object', additionalProperties: int },
  latestVersion: int,
  servingVersion: nullableInt,
  createdAt: str,
  updatedAt: str,
});

const VERSION_SUMMARY_SCHEMA = objectOf({
  model: str,
  version: int,
  stage,
  serving: bool,
  source: str,
  digest: nullableString,
  tags: stringMap,
  registeredBy: str,
  registeredAt: str,
  updatedAt: str,
  latestEvaluation: objectOf({ status: str, passed: { type: 'boolean', nullable: true } }, true),
  pendingApproval: nullableString,
});

export const REQUEST_SCHEMA = objectOf({
  id: str,
  kind: { type: 'string', enum: ['transition', 'rollback'] },
  fromStage: stage,
  toStage: stage,
  status: {
    type: 'string',
    enum: ['evaluating', 'awaiting-approval', 'deploying', 'completed', 'refused', 'rejected', 'expired', 'failed'],
  },
  comment: str,
  requestedBy: ACTOR_SCHEMA,
  requestedAt: str,
  evaluationId: nullableString,
  approvalId: nullableString,
  deploymentId: nullableString,
});

const numbers = arrayOf({ type: 'number' });
/** Parallel arrays, one entry per point; null where a point has no finite threshold. */
const thresholds = arrayOf({ type: 'number', nullable: true });
/** contracts' EvaluationCurves: ROC and PR of a binary classifier, at most 200 points each. */
const EVALUATION_CURVES_SCHEMA = objectOf({
  roc: objectOf({ fpr: numbers, tpr: numbers, thresholds }),
  pr: objectOf({ precision: numbers, recall: numbers, thresholds }),
  points: objectOf({ roc: int, pr: int }),
});
/** What else an evaluation found (contracts' EvaluationDetails); the fields besides `rows` are optional. */
const EVALUATION_DETAILS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['rows'],
  properties: {
    rows: int,
    confusionMatrix: arrayOf(numbers),
    championMetrics: { type: 'object', additionalProperties: { type: 'number' } },
    curves: EVALUATION_CURVES_SCHEMA,
    championCurves: EVALUATION_CURVES_SCHEMA,
  },
};
/** One evaluation of a version; `details` is null until it completes. */
const EVALUATION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'status', 'set'],
  properties: {
    id: str,
    status: { type: 'string', enum: ['running', 'completed', 'failed'] },
    set: anyObject,
    details: { ...EVALUATION_DETAILS_SCHEMA, nullable: true },
  },
};

/** `GET /models/{name}/versions/{v}`, `POST /models/{name}/versions` (DESIGN "Version state"). */
export const VERSION_SCHEMA = objectOf({
  model: str,
  version: int,
  stage,
  stageSince: str,
  serving: bool,
  aliases: arrayOf(str),
  tags: stringMap,
  source: str,
  digest: nullableString,
  runId: nullableString,
  description: str,
  metrics: { type: 'object', additionalProperties: { type: 'number' } },
  registeredBy: ACTOR_SCHEMA,
  registeredAt: str,
  updatedAt: str,
  evaluations: arrayOf(EVALUATION_SCHEMA),
  approvals: arrayOf(anyObject),
  deployments: arrayOf(anyObject),
  requests: arrayOf(REQUEST_SCHEMA),
  liveMetricBreaches: arrayOf(
    objectOf({
      metric: str,
      direction: { type: 'string', enum: ['below', 'above'] },
      threshold: { type: 'number' },
      window: objectOf({ from: str, to: str, for: str, samples: int, worst: { type: 'number' }, mean: { type: 'number' } }),
      rollbackRequested: bool,
      at: str,
    }),
  ),
});

export const MODEL_LIST_SCHEMA = objectOf({ total: int, items: arrayOf(MODEL_SUMMARY_SCHEMA) });
export const VERSION_LIST_SCHEMA = objectOf({ total: int, items: arrayOf(VERSION_SUMMARY_SCHEMA) });

const STAGE_COUNTS_SCHEMA = objectOf(Object.fromEntries(STAGES.map((s) => [s, int])));
export const BOARD_SCHEMA = objectOf({
  counts: STAGE_COUNTS_SCHEMA,
  models: arrayOf(objectOf({ name: str, servingVersion: nullableInt, counts: STAGE_COUNTS_SCHEMA })),
  None: arrayOf(VERSION_SUMMARY_SCHEMA),
  Staging: arrayOf(VERSION_SUMMARY_SCHEMA),
  Production: arrayOf(VERSION_SUMMARY_SCHEMA),
});

const TRANSITION_REQUIRED = objectOf({
  model: str,
  version: int,
  stage,
  request: { ...REQUEST_SCHEMA, nullable: true },
});
export const TRANSITION_SCHEMA: SchemaObject = {
  ...TRANSITION_REQUIRED,
  properties: {
    ...TRANSITION_REQUIRED.properties,
    // Only with archiveExistingVersions on a Staging request: what became of the others there.
    existingVersions: objectOf({ archived: arrayOf(int), kept: arrayOf(objectOf({ version: int, code: str, reason: str })) }),
  },
};

export const TAGS_SCHEMA = objectOf({ tags: stringMap });
export const ALIASES_SCHEMA = objectOf({ aliases: { type: 'object', additionalProperties: int } });
export const POLICY_SCHEMA: SchemaObject = { ...anyObject, description: 'The policy as stored (secrets redacted)' };
export const ARTIFACT_SCHEMA = objectOf({ uri: str, digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' }, size: int });

const AUDIT_EVENT_SCHEMA = objectOf({
  position: int,
  revision: int,
  type: str,
  occurredAt: str,
  actor: ACTOR_SCHEMA,
  eventId: str,
  correlationId: str,
  causationId: nullableString,
  prevHash: nullableString,
  hash: str,
  data: anyObject,
});

export const STREAM_AUDIT_SCHEMA = objectOf({ stream: str, events: arrayOf(AUDIT_EVENT_SCHEMA) });

export const CHAIN_VERIFICATION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['stream', 'valid', 'events'],
  properties: { stream: str, valid: bool, events: int, head: nullableString, brokenAt: int, reason: str },
};

export const AUDIT_SEARCH_SCHEMA = objectOf({
  items: arrayOf(
    objectOf({
      position: int,
      stream: str,
      revision: int,
      model: nullableString,
      version: nullableInt,
      type: str,
      actor: ACTOR_SCHEMA,
      occurredAt: str,
      eventId: str,
      hash: str,
      data: anyObject,
    }),
  ),
  next: { ...int, nullable: true, description: 'cursor for the next page (`after`), or null on the last page' },
});

export const COMPARISON_SCHEMA = objectOf({
  model: str,
  set: anyObject,
  versions: arrayOf(objectOf({ version: int, evaluationId: str, finishedAt: nullableString, verdict: { ...anyObject, nullable: true } })),
  metrics: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'number', nullable: true } } },
});

const KEY_PATTERN = '^[A-Za-z0-9._:-]{1,200}$';

/**
 * A route that appends: it takes an `Idempotency-Key` (a retry with the same key and the same
 * body is answered from the first result; with another body it is 422 IDEMPOTENCY_KEY_REUSED).
 */
export const ApiIdempotencyKey = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Makes a retry safe: the same key with the same body replays the first answer; with another body it is refused (422)',
      schema: { type: 'string', pattern: KEY_PATTERN },
    }),
  );

const ROLES_SCHEMA = arrayOf(str);

/** `POST /tokens`: the secret, shown this once. */
export const TOKEN_ISSUED_SCHEMA = objectOf({ id: str, token: str, subject: str, roles: ROLES_SCHEMA, models: arrayOf(str) });

/** `GET /tokens/self/signing-key`: the calling token's key for signing what it publishes. */
export const SIGNING_KEY_SCHEMA = objectOf({
  tokenId: str,
  scheme: { type: 'string', enum: ['MRW-HMAC-SHA256'] },
  signingKey: { type: 'string', description: '32 bytes, base64url' },
  header: str,
  format: str,
  topic: str,
});

/** `GET /tokens`: never a secret nor anything derived from one. */
export const TOKEN_LIST_SCHEMA = objectOf({
  items: arrayOf(
    objectOf({
      id: str,
      subject: str,
      kind: { type: 'string', enum: ['user', 'service'] },
      roles: ROLES_SCHEMA,
      models: arrayOf(str),
      issuedAt: str,
      issuedBy: str,
      revokedAt: nullableString,
    }),
  ),
});

/** `GET /dead-letters` items and `GET /dead-letters/{id}`. */
export const DEAD_LETTER_SCHEMA = objectOf({
  id: str,
  group: str,
  topic: str,
  key: str,
  type: str,
  reason: str,
  attempts: int,
  origin: str,
  truncated: bool,
  size: int,
  deadLetteredAt: str,
  redrivenAt: nullableString,
  redrivenBy: nullableString,
});
export const DEAD_LETTER_LIST_SCHEMA = objectOf({ total: int, items: arrayOf(DEAD_LETTER_SCHEMA) });
export const DEAD_LETTER_DETAIL_SCHEMA: SchemaObject = {
  allOf: [DEAD_LETTER_SCHEMA, objectOf({ value: str, headers: stringMap })],
};

const DECISION_SCHEMA = objectOf({ by: ACTOR_SCHEMA, at: str, comment: str, channel: str });
/** `GET /approvals/{id}` and the inbox items. */
export const APPROVAL_SCHEMA = objectOf({
  id: str,
  model: str,
  version: int,
  purpose: { type: 'string', enum: ['promotion', 'rollback'] },
  targetStage: str,
  status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired', 'void'] },
  requestedBy: ACTOR_SCHEMA,
  comment: str,
  openedAt: str,
  expiresAt: str,
  afterTheFact: bool,
  required: int,
  collected: int,
  reviewers: arrayOf(str),
  decisions: arrayOf(DECISION_SCHEMA),
  rejection: { ...DECISION_SCHEMA, nullable: true },
  evidence: anyObject,
  keyMetrics: arrayOf({
    type: 'object',
    required: ['metric', 'candidate'],
    properties: { metric: str, candidate: { type: 'number' }, champion: { type: 'number' }, difference: { type: 'number' }, ci: anyObject },
  }),
  checks: arrayOf(anyObject),
  notifications: arrayOf(
    objectOf({ notice: str, channel: str, target: str, recipient: nullableString, outcome: { type: 'string', enum: ['delivered', 'failed'] }, attempts: int, reason: nullableString, at: str }),
  ),
  updatedAt: str,
  links: objectOf({ self: str, approve: str, reject: str, version: str }),
});
export const APPROVAL_LIST_SCHEMA = objectOf({ total: int, items: arrayOf(APPROVAL_SCHEMA) });

/** `POST /models/{name}/rollback`. */
export const ROLLBACK_SCHEMA = objectOf({
  model: str,
  rollback: objectOf({
    id: str,
    fromVersion: nullableInt,
    toVersion: int,
    emergency: bool,
    status: { type: 'string', enum: ['awaiting-approval', 'deploying', 'requested'] },
    approvalId: nullableString,
    deploymentId: nullableString,
  }),
});

/** `GET /api/v1/tokens/self`: who the calling token is. */
export const TOKEN_SELF_SCHEMA = objectOf({ tokenId: str, actor: ACTOR_SCHEMA, roles: arrayOf(str), models: arrayOf(str) });
