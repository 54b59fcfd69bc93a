import { urlencoded, type NextFunction, type Request, type Response } from 'express';
import { ProblemException, type FieldError } from './problem';
import { writeProblem } from './problem-dialects';

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

const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

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
 * `prototype` key at any depth, or a key or a string that is not well-formed Unicode, is
 * `VALIDATION_FAILED` naming every such field.
 *
 * Not well-formed: a lone UTF-16 surrogate, which only JSON's `\udfff` escape can make (a
 * query string, a path or a multipart part is decoded from UTF-8 bytes, where a bad sequence
 * becomes U+FFFD or a 400). No mail, chat message or log line can carry it, and some validators
 * throw on it (`IsEmail` runs `encodeURI`: CI's fuzzer found that 500).
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
      const child = { value, depth: node.depth + 1, key, parent: node };
      if (PROTOTYPE_KEYS.has(key)) {
        errors.push({ field: pathOf(child, root), message: `the key ${key} is not allowed` });
      } else if (!isWellFormed(key) || (typeof value === 'string' && !isWellFormed(value))) {
        errors.push({ field: pathOf(child, root), message: 'must be well-formed Unicode text (no lone surrogate)' });
      } else if (typeof value === 'object' && value !== null) {
        stack.push(child);
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
export const sendProblem = (response: Response, problem: ProblemException): void => writeProblem(response, problem);

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
 * A regular expression matching the request paths of an OpenAPI path template (`/api/v1/models/{name}`).
 * With `lastSpans`, a template's final parameter may span segments (a wildcard route's file path).
 */
const pathPattern = (template: string, lastSpans = false): RegExp => {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const spanning = lastSpans ? escaped.replace(/\{[^}/]+\}$/, '.+') : escaped;
  return new RegExp(`^${spanning.replace(/\{[^}/]+\}/g, '[^/]+')}/?$`);
};

/**
 * 405 with `Allow` for a method the OpenAPI document does not list on a path it knows (rather
 * than 404, which would say the resource does not exist). HEAD and OPTIONS pass to the router.
 * A concrete path is matched before the templates it would also fit, as OpenAPI says: `DELETE
 * /tokens/self` is a method `/tokens/self` does not take, not a token named `self`.
 */
export const methodGuard = (paths: Readonly<Record<string, object>>): ((request: Request, response: Response, next: NextFunction) => void) => {
  const routes = Object.entries(paths).map(([template, item]) => ({
    template,
    pattern: pathPattern(template),
    methods: Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
      .map((m) => m.toUpperCase()),
  }));
  // Per method, one expression over every path that takes it: a request the document allows
  // (nearly all of them) costs one match, not one per route.
  const takes = new Map(
    ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'].map((method) => {
      const sources = routes.filter((r) => r.methods.includes(method)).map((r) => `(?:${r.pattern.source})`);
      return [method, sources.length > 0 ? new RegExp(sources.join('|')) : /(?!)/];
    }),
  );
  const concrete = new Map(routes.filter((r) => !r.template.includes('{')).map((r) => [r.template, r.methods]));
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.method === 'HEAD' || request.method === 'OPTIONS') return next();
    const path = request.path;
    const exact = concrete.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
    if (exact === undefined && takes.get(request.method)?.test(path)) return next();
    const allowed = exact ?? [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length === 0 || allowed.includes(request.method)) return next();
    response.setHeader('Allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].sort().join(', '));
    sendProblem(response, new ProblemException('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {}, 405));
  };
};

/** HTML forms' media type: a body only the routes that declare it take (`@ApiConsumes(FORM_MEDIA_TYPE)`). */
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/**
 * Raw bytes: a route that declares this body (`@ApiConsumes(RAW_BODY_MEDIA_TYPE)`) takes a body
 * of any media type, unparsed, and streams it itself (MLflow's artifact uploads send each
 * file's guessed type, JSON included). Its template's last parameter may span segments.
 */
export const RAW_BODY_MEDIA_TYPE = 'application/octet-stream';

type Operation = { readonly requestBody?: { readonly content?: Record<string, { readonly schema?: { readonly type?: string } }> } };

/**
 * What the operations take that other routes do not, read from the OpenAPI document: a form
 * body (browsers posting a one-click link's form, Slack posting interactivity payloads), or a
 * JSON array (monitoring posting a batch of live metrics). Every other route takes a JSON object.
 */
export class BodyRoutes {
  private forms: Array<{ readonly pattern: RegExp; readonly method: string }> = [];
  private arrays: Array<{ readonly pattern: RegExp; readonly method: string }> = [];
  private raw: Array<{ readonly pattern: RegExp; readonly method: string }> = [];

  /** Takes the operations whose request body declares FORM_MEDIA_TYPE, or a JSON schema of type array. */
  declare(paths: Readonly<Record<string, object>>): void {
    const operations = Object.entries(paths).flatMap(([template, item]) =>
      Object.entries(item as Record<string, Operation>).map(([method, operation]) => ({ pattern: pathPattern(template), method: method.toUpperCase(), content: operation?.requestBody?.content ?? {} })),
    );
    this.forms = operations.filter((o) => FORM_MEDIA_TYPE in o.content).map(({ pattern, method }) => ({ pattern, method }));
    this.arrays = operations.filter((o) => o.content['application/json']?.schema?.type === 'array').map(({ pattern, method }) => ({ pattern, method }));
    this.raw = Object.entries(paths).flatMap(([template, item]) =>
      Object.entries(item as Record<string, Operation>)
        .filter(([, operation]) => RAW_BODY_MEDIA_TYPE in (operation?.requestBody?.content ?? {}))
        .map(([method]) => ({ pattern: pathPattern(template, true), method: method.toUpperCase() })),
    );
  }

  /** Whether the route takes its body as raw bytes of any type (RAW_BODY_MEDIA_TYPE): no parser reads it. */
  takesRawBody(request: Request): boolean {
    return this.raw.some((r) => r.method === request.method && r.pattern.test(request.path));
  }

  takesForm(request: Request): boolean {
    return this.forms.some((r) => r.method === request.method && r.pattern.test(request.path));
  }

  takesJsonArray(request: Request): boolean {
    return this.arrays.some((r) => r.method === request.method && r.pattern.test(request.path));
  }
}

/**
 * A request body must be JSON (or multipart for uploads, or a form where the route declares
 * one): anything else is 415, before it is read.
 */
export const mediaTypeGuard =
  (forms: BodyRoutes) =>
  (request: Request, response: Response, next: NextFunction): void => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method)) return next();
    // An empty body (`Content-Length: 0`, as many clients send with DELETE) has no type to check.
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody || request.is([...JSON_TYPES, 'multipart/form-data']) || forms.takesRawBody(request)) return next();
    if (request.is(FORM_MEDIA_TYPE) && forms.takesForm(request)) return next();
    sendProblem(
      response,
      new ProblemException(
        'UNSUPPORTED_MEDIA_TYPE',
        `a body of type ${request.headers['content-type'] ?? '(none)'} is not accepted: send application/json (multipart/form-data for uploads)`,
      ),
    );
  };

/** The bytes of a form body exactly as they arrived (Slack signs them), kept by `formBodyParser`. */
export const rawBodyOf = (request: Request): Buffer | undefined => (request as Request & { rawBody?: Buffer }).rawBody;

/**
 * Parses form bodies, on the routes that take them only, into flat string fields (no nested
 * `a[b]` objects), and keeps the raw bytes for signature checks.
 */
export const formBodyParser = (forms: BodyRoutes): ((request: Request, response: Response, next: NextFunction) => void) => {
  const parse = urlencoded({
    extended: false,
    limit: MAX_BODY_BYTES,
    parameterLimit: 100,
    type: FORM_MEDIA_TYPE,
    verify: (request, _response, buffer) => {
      (request as Request & { rawBody?: Buffer }).rawBody = Buffer.from(buffer);
    },
  });
  return (request, response, next) => (forms.takesForm(request) ? parse(request, response, next) : next());
};

/** After the JSON parser: a JSON body is an object (an array where the route takes one), nested within bounds, without prototype keys. */
export const jsonBodyGuard =
  (routes: BodyRoutes) =>
  (request: Request, response: Response, next: NextFunction): void => {
    const body: unknown = request.body;
    if (body === undefined || !request.is(JSON_TYPES)) return next();
    try {
      assertSafeJson(body);
      const array = Array.isArray(body) && routes.takesJsonArray(request);
      if (!array && (typeof body !== 'object' || body === null || Array.isArray(body))) {
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
