import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ContentObject, type OpenAPIObject, type SchemaObject } from '@nestjs/swagger';
import { dialectFor, type ProblemDialect } from './problem-dialects';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './request-guards';

const PROBLEM_REF = '#/components/schemas/Problem';

/** RFC 9457 problem document with the suite's stable `code` and field errors, as JSON Schema. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', example: '/problems/validation-failed' },
    title: { type: 'string', example: 'Validation failed' },
    status: { type: 'integer', minimum: 400, maximum: 599, example: 400 },
    detail: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', example: 'VALIDATION_FAILED' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const WHY: Readonly<Record<number, string>> = {
  400: `The request is invalid: malformed JSON, a field or parameter out of bounds, an unknown field or a __proto__/constructor/prototype key, JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
  401: 'No bearer token, or one that is unknown or revoked',
  403: 'The token lacks the role, or a governance rule forbids the caller',
  404: 'The model, version or other resource named in the path does not exist',
  409: 'Conflicts with the current state: a lifecycle rule, a concurrent change, a deleted stream',
  413: `The body or a multipart text part exceeds ${MAX_BODY_BYTES} bytes, a file exceeds its limit, or the events it would append exceed the store's limit`,
  415: 'The body is neither application/json nor (for uploads) multipart/form-data',
  422: 'Understood but refused: e.g. an invalid policy, alias, source or manifest, or an Idempotency-Key reused with a different body',
  431: 'The request line and headers are larger than the HTTP server takes (16 KiB); answered before routing, always as a problem document',
};

const problemResponse = (status: number, dialect?: ProblemDialect): { description: string; content: ContentObject } => ({
  description: WHY[status] ?? 'A problem document',
  content: dialect
    ? { 'application/json': { schema: dialect.schema as SchemaObject } }
    : { 'application/problem+json': { schema: { $ref: PROBLEM_REF } } },
});

/** Declares problem responses a route answers beyond those its shape implies (see `declareProblemResponses`). */
export const ApiProblems = (...statuses: number[]): MethodDecorator & ClassDecorator =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Adds the `Problem` schema and, to every operation, the problem responses its shape implies:
 * 400 for any authenticated request (a malformed body or header is possible everywhere), 401
 * and 403 where a bearer token is required, 404 where the path names a resource, and 409, 413,
 * 415 and 422 for every write (any write may carry a body). Responses a route declared itself keep
 * their description; every 4xx gets the problem schema.
 */
export const declareProblemResponses = (document: OpenAPIObject): OpenAPIObject => {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Problem: { ...PROBLEM_SCHEMA } as never } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const statuses = new Set<number>();
      const secured = (operation.security ?? document.security ?? []).length > 0;
      if (secured) [400, 401, 403].forEach((s) => statuses.add(s));
      if (path.includes('{')) [400, 404].forEach((s) => statuses.add(s));
      if ((operation.parameters ?? []).length > 0) statuses.add(400);
      if (operation.requestBody) statuses.add(400);
      // Any write may carry a body: too large or of the wrong type is refused before routing.
      if (method !== 'get') [409, 413, 415, 422].forEach((s) => statuses.add(s));
      // Routes with a dialect of their own (MLflow's) document their refusals in it.
      const dialect = dialectFor(path);
      const responses = { ...operation.responses };
      for (const status of statuses) responses[String(status)] ??= problemResponse(status, dialect);
      // Refused by the HTTP parser, which knows no route and so no dialect.
      responses['431'] = problemResponse(431);
      for (const [status, response] of Object.entries(responses)) {
        if (/^4\d\d$/.test(status) && status !== '431' && response && !('$ref' in response)) {
          responses[status] = { ...response, description: response.description ?? '', content: problemResponse(Number(status), dialect).content };
        }
      }
      operation.responses = responses;
    }
  }
  return document;
};

type SchemaNode = {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: unknown;
  nullable?: boolean;
  allOf?: SchemaNode[];
  enum?: unknown[];
};

/**
 * Marks every named schema a request body uses (and those it nests) `additionalProperties:
 * false`, as the validation pipe refuses unknown fields: clients and fuzzers then know an extra
 * field is invalid input rather than something the server ignores. Optional fields are marked
 * nullable, as the validation takes null for an absent optional field.
 */
export const closeRequestSchemas = (document: OpenAPIObject): OpenAPIObject => {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaNode>;
  const seen = new Set<string>();
  const visit = (node: SchemaNode | undefined): void => {
    if (!node) return;
    if (node.$ref) {
      const name = node.$ref.split('/').pop() as string;
      const target = schemas[name];
      if (seen.has(name) || !target) return;
      seen.add(name);
      if (target.properties && target.additionalProperties === undefined) target.additionalProperties = false;
      // class-validator's @IsOptional() takes null for "absent", so optional fields are nullable.
      for (const [key, property] of Object.entries(target.properties ?? {})) {
        if ((target.required ?? []).includes(key)) continue;
        (target.properties as Record<string, SchemaNode>)[key] = property.$ref
          ? { allOf: [property], nullable: true }
          : { ...property, nullable: true, ...(property.enum ? { enum: [...property.enum, null] } : {}) };
      }
      return visit(target);
    }
    Object.values(node.properties ?? {}).forEach(visit);
    (node.allOf ?? []).forEach(visit);
    visit(node.items);
  };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const body = item[method]?.requestBody;
      if (!body || !('content' in body)) continue;
      for (const media of Object.values(body.content)) {
        const schema = media.schema as SchemaNode | undefined;
        // An inline body schema (multipart parts) is closed like a named one.
        if (schema?.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
        visit(schema);
      }
    }
  }
  return document;
};
