import { HEADERS, MODEL_NAME_PATTERN, type TrainingRunCompleted } from '@mrw/contracts';
import { DIGEST_PATTERN } from '@mrw/artifacts';
import { PoisonMessageError, type IncomingMessage } from '@mrw/messaging';
import { COMMAND_SIGNATURE_SCHEME, hasRole, inScope, type AuthPrincipal } from '@mrw/platform';

/*
 * The checks of docs/schemas/training-run-completed.v1.json, by hand (a unit test holds the
 * two to the same verdicts): each problem is named, so the dead letter says what to fix.
 */

const FIELDS = ['type', 'model', 'runId', 'source', 'artifactDigest', 'metrics', 'params', 'tags', 'description', 'requestStage'];
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,255}$/;
const SOURCE = /^(artifacts:\/\/|https?:\/\/|file:\/\/)/;
const MAP_KEY = /^[A-Za-z0-9_./-]{1,250}$/;
/** A param is kept as the tag `param.<name>`, within the tag key's 250 characters. */
const PARAM_NAME = /^[A-Za-z0-9_./-]{1,244}$/;
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_TEXT = 5000;
const MAX_SOURCE = 2048;

/** The prefix of the version tags that hold a run's params. */
export const PARAM_TAG_PREFIX = 'param.';

/** Length as JSON Schema counts it: in code points, not UTF-16 units. */
const length = (text: string): number => [...text].length;
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const quoted = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

const mapProblems = (
  field: string,
  value: unknown,
  { limit, key, keyRule, valueOk, valueRule }: { limit: number; key: (k: string) => boolean; keyRule: string; valueOk: (v: unknown) => boolean; valueRule: string },
): string[] => {
  if (!isPlainObject(value)) return [`${field} must be an object`];
  const entries = Object.entries(value);
  const problems: string[] = [];
  if (entries.length > limit) problems.push(`${field} has ${entries.length} entries; at most ${limit}`);
  const badKeys = entries.filter(([k]) => !key(k) || PROTOTYPE_KEYS.has(k)).map(([k]) => quoted(k));
  if (badKeys.length > 0) problems.push(`${field} names ${badKeys.slice(0, 5).join(', ')} must be ${keyRule}`);
  const badValues = entries.filter(([, v]) => !valueOk(v)).map(([k]) => `${field}.${k}`);
  if (badValues.length > 0) problems.push(`${badValues.slice(0, 5).join(', ')} must be ${valueRule}`);
  return problems;
};

/** Everything wrong with a `TrainingRunCompleted` body, as its JSON Schema states it; empty when it is valid. */
export const trainingRunProblems = (body: unknown): string[] => {
  if (!isPlainObject(body)) return ['the event must be a JSON object'];
  const problems: string[] = [];
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) problems.push(`unknown fields ${unknown.slice(0, 5).map(quoted).join(', ')}; known: ${FIELDS.join(', ')}`);
  const { type, model, runId, source, artifactDigest, metrics, params, tags, description, requestStage } = body;
  if (type !== 'TrainingRunCompleted') problems.push('type must be "TrainingRunCompleted"');
  if (typeof model !== 'string' || !MODEL_NAME_PATTERN.test(model)) problems.push('model must be a model name (1-128 letters, digits, . _ -, starting with a letter or digit)');
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    problems.push('runId must be 1-256 letters, digits or . _ : / @ + = -, starting with a letter or digit');
  }
  if (source === undefined && artifactDigest === undefined) problems.push('source or artifactDigest is required');
  if (source !== undefined && (typeof source !== 'string' || !SOURCE.test(source) || length(source) > MAX_SOURCE)) {
    problems.push(`source must be an artifacts://, http(s):// or file:// URI of at most ${MAX_SOURCE} characters`);
  }
  if (artifactDigest !== undefined && (typeof artifactDigest !== 'string' || !DIGEST_PATTERN.test(artifactDigest))) {
    problems.push('artifactDigest must be sha256:<64 lowercase hex>');
  }
  const keyRule = '1-250 letters, digits, _ . - /';
  if (metrics === undefined) problems.push('metrics is required (an object; it may be empty)');
  else {
    problems.push(
      ...mapProblems('metrics', metrics, { limit: 1000, key: (k) => MAP_KEY.test(k), keyRule, valueOk: (v) => typeof v === 'number', valueRule: 'numbers' }),
    );
  }
  if (params !== undefined) {
    problems.push(
      ...mapProblems('params', params, {
        limit: 50,
        key: (k) => PARAM_NAME.test(k),
        keyRule: '1-244 letters, digits, _ . - /',
        valueOk: (v) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && length(v) <= MAX_TEXT),
        valueRule: `a string (at most ${MAX_TEXT} characters), a number or a boolean`,
      }),
    );
  }
  if (tags !== undefined) {
    problems.push(
      ...mapProblems('tags', tags, {
        limit: 50,
        key: (k) => MAP_KEY.test(k) && !k.startsWith(PARAM_TAG_PREFIX),
        keyRule: `${keyRule}, not starting with ${PARAM_TAG_PREFIX} (kept for params)`,
        valueOk: (v) => typeof v === 'string' && length(v) <= MAX_TEXT,
        valueRule: `strings of at most ${MAX_TEXT} characters`,
      }),
    );
  }
  if (description !== undefined && (typeof description !== 'string' || length(description) > MAX_TEXT)) {
    problems.push(`description must be a string of at most ${MAX_TEXT} characters`);
  }
  if (requestStage !== undefined && requestStage !== 'Staging') problems.push('requestStage may only be "Staging" (Production goes through the gates and approval)');
  return problems;
};

const invalid = (what: string): PoisonMessageError => new PoisonMessageError(`INVALID_EVENT: ${what}`);

/**
 * Reads a `TrainingRunCompleted` message: JSON that satisfies the schema, keyed by its model
 * (so one model's runs stay in order on one partition). Anything else is poison, with every
 * problem named.
 */
export const parseTrainingRunCompleted = (message: Pick<IncomingMessage, 'key' | 'value'>): TrainingRunCompleted => {
  let body: unknown;
  try {
    body = JSON.parse(message.value);
  } catch (error) {
    throw invalid(`the event is not JSON: ${(error as Error).message}`);
  }
  const problems = trainingRunProblems(body);
  if (problems.length > 0) throw invalid(problems.join('; '));
  const event = body as TrainingRunCompleted;
  if (message.key !== event.model) {
    throw invalid(`the message key must be the model name ${quoted(event.model)}; it was ${message.key === null ? 'missing' : quoted(message.key)}`);
  }
  return event;
};

/**
 * The producer of a training event: the holder of the live token that signed it
 * (`authorization: MRW-HMAC-SHA256 token=…, signature=…`), with the contributor role (admin
 * passes). A token secret sent in the clear is refused, never used; the DLQ keeps it redacted.
 */
export const producerOf = (
  message: Pick<IncomingMessage, 'headers' | 'value'>,
  verify: (authorization: string, value: string) => AuthPrincipal | undefined,
): AuthPrincipal => {
  const authorization = message.headers[HEADERS.authorization] ?? '';
  if (/^Bearer\s/i.test(authorization)) {
    throw new PoisonMessageError(
      `UNAUTHENTICATED: a token secret was sent on the topic, where it must never travel: treat it as leaked and revoke it; sign events with the token's signing key (${COMMAND_SIGNATURE_SCHEME}) instead`,
    );
  }
  const producer = verify(authorization, message.value);
  if (!producer) {
    throw new PoisonMessageError(
      `UNAUTHENTICATED: the event is not signed by a live token; send authorization: ${COMMAND_SIGNATURE_SCHEME} token=<token id>, ` +
        'signature=<base64url HMAC-SHA256 of the message value keyed by the token\'s signing key, from GET /api/v1/tokens/self/signing-key>',
    );
  }
  if (!hasRole(producer, 'contributor')) {
    throw new PoisonMessageError(
      `FORBIDDEN: registering a training run needs the contributor role; ${producer.actor.id}'s token has ${producer.roles.join(', ') || 'none'}`,
    );
  }
  return producer;
};

/** A scoped producer registers versions only of the models its token names. */
export const assertProducerMayRegister = (producer: AuthPrincipal, model: string): void => {
  if (!inScope(producer, model)) {
    throw new PoisonMessageError(`FORBIDDEN: ${producer.actor.id}'s token is limited to ${producer.models.join(', ')}; it may not register versions of ${model}`);
  }
};

/** A run's params as version tags: `param.<name>`, values as text. */
export const paramTags = (params: TrainingRunCompleted['params']): Record<string, string> =>
  Object.fromEntries(Object.entries(params ?? {}).map(([name, value]) => [`${PARAM_TAG_PREFIX}${name}`, String(value)]));
