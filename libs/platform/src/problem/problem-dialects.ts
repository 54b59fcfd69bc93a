import type { Response } from 'express';
import type { ProblemException } from './problem';

/**
 * Another way of writing a problem, for a family of routes whose clients expect it: MLflow's
 * clients read `{error_code, message}`. Every refusal on those paths — from a middleware (a
 * refused query parameter, malformed JSON), the auth guard, a controller or an unknown route —
 * is written the dialect's way; every other path keeps problem documents.
 */
export interface ProblemDialect {
  /** Path prefixes, each starting with `/`; a path matches when it equals one or continues it with `/` or `-`. */
  readonly prefixes: readonly string[];
  render(problem: ProblemException): { readonly status: number; readonly body: unknown };
  /** The JSON Schema of the body `render` writes (served as `application/json`), for the OpenAPI document. */
  readonly schema: Readonly<Record<string, unknown>>;
}

const dialects = new Map<string, ProblemDialect>();

/** Registers (or replaces) a dialect under a name: the module that owns the routes does, once per process. */
export const registerProblemDialect = (name: string, dialect: ProblemDialect): void => {
  dialects.set(name, dialect);
};

/** The dialect a path's refusals are written in, if any: a request path or an OpenAPI template. */
export const dialectFor = (path: string): ProblemDialect | undefined => {
  for (const dialect of dialects.values()) {
    if (dialect.prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}-`))) return dialect;
  }
  return undefined;
};

/** Writes a problem as the request's path wants it: a registered dialect, else `application/problem+json`. */
export const writeProblem = (response: Response, problem: ProblemException): void => {
  const dialect = dialectFor(response.req?.path ?? '');
  if (dialect) {
    const { status, body } = dialect.render(problem);
    response.status(status).type('application/json').send(JSON.stringify(body));
    return;
  }
  if (problem.status === 503) response.setHeader('Retry-After', '5');
  response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toDocument()));
};
