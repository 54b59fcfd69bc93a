import type { NextFunction, Request, Response } from 'express';
import { ProblemException, type FieldError } from './problem';

/** The largest JSON body (and multipart text field) a request may carry. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How deep a request's JSON may nest (the body itself is level 1). Far more than any of our
 * bodies needs, far less than the recursion of class-transformer, class-validator, the
 * canonical encoder and SQLite's JSON functions (1,000 levels) can bear.
 */
export const MAX_JSON_DEPTH = 64;

/** Keys that reach an object's prototype when a value is merged or assigned naively. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

interface Pending {
  readonly value: unknown;
  readonly depth: number;
  readonly key: string;
  readonly parent: Pending | undefined;
}

const pathOf = (node: Pending, root: string): string => {
  const keys: string[] = [];
  for (let at: Pending | undefined = node; at && at.parent; at = at.parent) keys.unshift(at.key);
  return [root, ...keys].filter(Boolean).join('.');
};

/**
 * Checks parsed JSON without recursion, before anything recursive sees it: more than
 * `MAX_JSON_DEPTH` levels is `NESTING_TOO_DEEP`; a `__proto__`, `constructor` or
 * `prototype` key at any depth is `VALIDATION_FAILED` naming every such field.
 */
export const assertSafeJson = (value: unknown, root = ''): void => {
  const errors: FieldError[] = [];
  const stack: Pending[] = [{ value, depth: 1, key: '', parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop() as Pending;
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (node.depth > MAX_JSON_DEPTH) {
      throw new ProblemException(
        'NESTING_TOO_DEEP',
        `${pathOf(node, root) || 'the body'} is nested deeper than ${MAX_JSON_DEPTH} levels`,
        { errors: [{ field: pathOf(node, root) || 'body', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }] },
      );
    }
    // JSON.parse keeps `__proto__` as an own key, so Object.keys sees it.
    for (const key of Object.keys(node.value)) {
      const value = (node.value as Record<string, unknown>)[key];
      if (PROTOTYPE_KEYS.has(key)) {
        errors.push({ field: pathOf({ value, depth: node.depth + 1, key, parent: node }, root), message: `the key ${key} is not allowed` });
      } else if (typeof value === 'object' && value !== null) {
        stack.push({ value, depth: node.depth + 1, key, parent: node });
      }
    }
  }
  if (errors.length > 0) {
    throw new ProblemException(
      'VALIDATION_FAILED',
      `the request is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      { errors },
    );
  }
};

/** Answers a request with a problem document from middleware, where Nest's filters do not reach. */
export const sendProblem = (response: Response, problem: ProblemException): void => {
  response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toDocument()));
};

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Query parameters named `__proto__`, `constructor` or `prototype` are refused like such body keys. */
export const queryGuard = (request: Request, response: Response, next: NextFunction): void => {
  const keys = Object.keys(request.query ?? {}).filter((key) => PROTOTYPE_KEYS.has(key.split('[')[0] ?? key));
  if (keys.length === 0) return next();
  sendProblem(
    response,
    new ProblemException('VALIDATION_FAILED', `the request is invalid: ${keys.map((k) => `${k}: the parameter ${k} is not allowed`).join('; ')}`, {
      errors: keys.map((field) => ({ field, message: `the parameter ${field} is not allowed` })),
    }),
  );
};

/**
 * 405 with `Allow` for a method the OpenAPI document does not list on a path it knows (rather
 * than 404, which would say the resource does not exist). HEAD and OPTIONS pass to the router.
 */
export const methodGuard = (paths: Readonly<Record<string, object>>): ((request: Request, response: Response, next: NextFunction) => void) => {
  const routes = Object.entries(paths).map(([template, item]) => ({
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}/?$`),
    methods: Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
      .map((m) => m.toUpperCase()),
  }));
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.method === 'HEAD' || request.method === 'OPTIONS') return next();
    const path = request.path;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length === 0 || allowed.includes(request.method)) return next();
    response.setHeader('Allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].sort().join(', '));
    sendProblem(response, new ProblemException('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {}, 405));
  };
};

/** A request body must be JSON (or multipart for uploads): anything else is 415, before it is read. */
export const mediaTypeGuard = (request: Request, response: Response, next: NextFunction): void => {
  if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method)) return next();
  // An empty body (`Content-Length: 0`, as many clients send with DELETE) has no type to check.
  const length = request.headers['content-length'];
  const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || request.is([...JSON_TYPES, 'multipart/form-data'])) return next();
  sendProblem(
    response,
    new ProblemException(
      'UNSUPPORTED_MEDIA_TYPE',
      `a body of type ${request.headers['content-type'] ?? '(none)'} is not accepted: send application/json (multipart/form-data for uploads)`,
    ),
  );
};

/** After the JSON parser: a JSON body is an object, nested within bounds, without prototype keys. */
export const jsonBodyGuard = (request: Request, response: Response, next: NextFunction): void => {
  const body: unknown = request.body;
  if (body === undefined || !request.is(JSON_TYPES)) return next();
  try {
    assertSafeJson(body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ProblemException('VALIDATION_FAILED', 'the request body must be a JSON object', {
        errors: [{ field: 'body', message: 'must be a JSON object' }],
      });
    }
    next();
  } catch (error) {
    if (!(error instanceof ProblemException)) return next(error);
    sendProblem(response, error);
  }
};
