import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { CreatedModel, RegisteredVersion } from '@mrw/domain';
import { ProblemException, type ProblemDialect } from '@mrw/platform';

/** Both prefixes MLflow uses: the REST API of its clients and the one its web UI calls. */
export const MLFLOW_PREFIXES = ['api/2.0/mlflow', 'ajax-api/2.0/mlflow'] as const;

/** The tag a version carries (in MLflow's view only) while its promotion waits for approval. */
export const PENDING_APPROVAL_TAG = 'mrw.pending_approval';

/** An error in MLflow's wire shape, `{error_code, message}`, with MLflow's HTTP status for the code. */
export class MlflowError extends Error {
  constructor(
    readonly errorCode: 'RESOURCE_ALREADY_EXISTS' | 'RESOURCE_DOES_NOT_EXIST' | 'INVALID_PARAMETER_VALUE' | 'INVALID_STATE',
    message: string,
  ) {
    super(message);
  }
}

const STATUS: Readonly<Record<string, number>> = {
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  INVALID_PARAMETER_VALUE: 400,
  INVALID_STATE: 400,
  // A method the path does not take: HTTP's 405 with its Allow header, as MLflow's server answers it.
  BAD_REQUEST: 405,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

/** Our problem codes in MLflow's vocabulary: what an MLflow client branches on. */
export const mlflowCodeFor = (code: string, status: number): string => {
  if (code.endsWith('_ALREADY_EXISTS')) return 'RESOURCE_ALREADY_EXISTS';
  if (code.endsWith('_NOT_FOUND') || status === 404) return 'RESOURCE_DOES_NOT_EXIST';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 405) return 'BAD_REQUEST';
  if (status === 503) return 'TEMPORARILY_UNAVAILABLE';
  if (status >= 500) return 'INTERNAL_ERROR';
  // Lifecycle rules and conflicts (409) are about the resource's state; the rest are the request's values.
  if (status === 409) return 'INVALID_STATE';
  return 'INVALID_PARAMETER_VALUE';
};

/**
 * MLflow's error shape for every refusal on its paths that no controller sees: a middleware's
 * (a refused query parameter, malformed JSON, a media type), or an unknown route. Registered once
 * per process by the registry module.
 */
export const MLFLOW_PROBLEM_DIALECT: ProblemDialect = {
  prefixes: ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'],
  render: (problem) => {
    const code = mlflowCodeFor(problem.code, problem.status);
    return { status: STATUS[code] ?? 400, body: { error_code: code, message: problem.message } };
  },
  schema: {
    type: 'object',
    required: ['error_code', 'message'],
    properties: { error_code: { type: 'string', example: 'RESOURCE_DOES_NOT_EXIST' }, message: { type: 'string' } },
  },
};

/**
 * Answers errors on the MLflow routes as MLflow does. Scoped to the MLflow controllers, it also
 * sees the auth guard's 401/403, which run inside the route; anything unexpected goes on to the
 * suite's problem filter's rules (logged as a 500) through the same mapping.
 */
@Catch()
export class MlflowErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { code, message } = this.describe(exception);
    response.status(STATUS[code] ?? 400).json({ error_code: code, message });
  }

  private describe(exception: unknown): { code: string; message: string } {
    if (exception instanceof MlflowError) return { code: exception.errorCode, message: exception.message };
    if (exception instanceof ProblemException) return { code: mlflowCodeFor(exception.code, exception.status), message: exception.message };
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const message = typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : exception.message;
      return { code: mlflowCodeFor('', exception.getStatus()), message };
    }
    return { code: 'INTERNAL_ERROR', message: 'an unexpected error occurred' };
  }
}

type Fields = Readonly<Record<string, unknown>>;

/** A required string field of a body or query string. */
export const requiredString = (fields: Fields, key: string): string => {
  const value = fields[key];
  if (typeof value !== 'string' || value === '') throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${key}'.`);
  return value;
};

export const optionalString = (fields: Fields, key: string): string | undefined => {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MlflowError('INVALID_PARAMETER_VALUE', `Parameter '${key}' must be a string.`);
  return value;
};

/** A flag as MLflow clients send it: a JSON boolean, or `"true"`/`"false"` in any case. */
export const optionalBoolean = (fields: Fields, key: string): boolean | undefined => {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new MlflowError('INVALID_PARAMETER_VALUE', `Parameter '${key}' must be a boolean.`);
};

/** A version number as MLflow sends it: a string (or number) of a positive integer. */
export const versionNumber = (fields: Fields, key = 'version'): number => {
  const raw = fields[key];
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,8}$/.test(text)) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Parameter '${key}' must be a version number, got ${JSON.stringify(raw)}.`);
  }
  return Number(text);
};

/** MLflow's tag list `[{key, value}]` as our string map. */
export const tagMap = (raw: unknown): Record<string, string> => {
  if (raw === undefined || raw === null) return {};
  if (!Array.isArray(raw)) throw new MlflowError('INVALID_PARAMETER_VALUE', "Parameter 'tags' must be a list of {key, value}.");
  const tags: Record<string, string> = {};
  for (const tag of raw as Array<{ key?: unknown; value?: unknown }>) {
    if (typeof tag?.key !== 'string') throw new MlflowError('INVALID_PARAMETER_VALUE', 'Every tag needs a string key.');
    tags[tag.key] = typeof tag.value === 'string' ? tag.value : String(tag.value ?? '');
  }
  return tags;
};

const millis = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : 0);
const tagList = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([key, value]) => ({ key, value }));

/** The approval a version's Production request waits for, if any. */
export const pendingApprovalOf = (version: RegisteredVersion): string | null =>
  version.requests.find((r) => r.status === 'awaiting-approval')?.approvalId ?? null;

/** A version as MLflow's `ModelVersion` message. */
export const mlflowVersion = (version: RegisteredVersion, aliases: Readonly<Record<string, number>>) => {
  const pending = pendingApprovalOf(version);
  return {
    name: version.model,
    version: String(version.version),
    creation_timestamp: millis(version.registeredAt),
    last_updated_timestamp: millis(version.updatedAt),
    current_stage: version.stage,
    description: version.description,
    source: version.source,
    run_id: version.runId ?? '',
    // Registration settles the source before it answers, so there is nothing to poll for.
    status: 'READY',
    tags: tagList(pending ? { ...version.tags, [PENDING_APPROVAL_TAG]: pending } : version.tags),
    aliases: Object.entries(aliases)
      .filter(([, v]) => v === version.version)
      .map(([alias]) => alias)
      .sort(),
  };
};

/** A model as MLflow's `RegisteredModel` message, with the latest version of each stage. */
export const mlflowModel = (model: CreatedModel, latest: readonly RegisteredVersion[]) => ({
  name: model.name,
  creation_timestamp: millis(model.createdAt),
  last_updated_timestamp: millis(model.updatedAt),
  description: model.description,
  latest_versions: latest.map((v) => mlflowVersion(v, model.aliases)),
  tags: tagList(model.tags),
  aliases: Object.entries(model.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
});
