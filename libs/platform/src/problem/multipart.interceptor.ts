import { rm } from 'node:fs/promises';
import {
  Inject,
  Injectable,
  mixin,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import type { MulterModuleOptions } from '@nestjs/platform-express';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';
import { ProblemException } from './problem';
import { assertSafeJson, MAX_BODY_BYTES } from './request-guards';

/** `@nestjs/platform-express` provides the module's multer options under this token (not exported by name). */
const MULTER_MODULE_OPTIONS = 'MULTER_MODULE_OPTIONS';

/** Multer's limit codes that mean "too big" rather than "malformed". */
const TOO_LARGE = new Set(['LIMIT_FILE_SIZE', 'LIMIT_FIELD_VALUE']);

/** busboy's and multer's errors about the request body itself (not about the disk). */
const BODY_ERRORS = /^(Malformed part header|Unexpected end of (form|file)|Multipart: Boundary not found|Request (aborted|closed|error))$/;

const toProblem = (error: unknown, fileSize: number | undefined): unknown => {
  const raw = error as { code?: unknown; field?: unknown; message?: unknown } | undefined;
  if (error instanceof multer.MulterError || (typeof raw?.message === 'string' && BODY_ERRORS.test(raw.message))) {
    const field = typeof raw?.field === 'string' ? raw.field : undefined;
    const where = field ? ` (part ${field})` : '';
    if (typeof raw?.code === 'string' && TOO_LARGE.has(raw.code)) {
      const limit = raw.code === 'LIMIT_FILE_SIZE' ? `a file may hold at most ${fileSize} bytes` : `a text part may hold at most ${MAX_BODY_BYTES} bytes`;
      return new ProblemException('PAYLOAD_TOO_LARGE', `${String(raw.message)}${where}: ${limit}`);
    }
    return new ProblemException('INVALID_MULTIPART', `the multipart body is invalid: ${String(raw?.message)}${where}`, {
      errors: [{ field: field ?? 'body', message: String(raw?.message) }],
    });
  }
  return error;
};

const removeUploads = async (request: Request): Promise<void> => {
  const files = Object.values((request.files ?? {}) as Record<string, Express.Multer.File[]>).flat();
  await Promise.all(files.map((file) => (file.path ? rm(file.path, { force: true }) : undefined)));
};

/**
 * Multipart uploads with the module's multer storage and the suite's limits: files as large as
 * the module allows, text parts up to `MAX_BODY_BYTES` (as a JSON body), a few parts in all.
 * Size limits answer 413 and malformed bodies 400, as problems (Nest's own interceptors answer
 * 400 for an oversized text part); text parts other than `textFields` are unknown fields (400),
 * and those pass the same JSON-shape checks as JSON bodies.
 */
export const MultipartInterceptor = (
  fields: ReadonlyArray<{ readonly name: string; readonly maxCount?: number }>,
  textFields: readonly string[] = [],
): Type<NestInterceptor> => {
  @Injectable()
  class Interceptor implements NestInterceptor {
    private readonly upload: RequestHandler;
    private readonly fileSize: number | undefined;

    constructor(@Optional() @Inject(MULTER_MODULE_OPTIONS) options: MulterModuleOptions = {}) {
      const files = fields.reduce((n, f) => n + (f.maxCount ?? 1), 0);
      this.fileSize = options.limits?.fileSize;
      this.upload = multer({
        ...(options as multer.Options),
        limits: { ...options.limits, files, fieldSize: MAX_BODY_BYTES, fields: 20, parts: files + 20, fieldNameSize: 200 },
      }).fields(fields.map((f) => ({ name: f.name, maxCount: f.maxCount ?? 1 }))) as unknown as RequestHandler;
    }

    async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
      const request = context.switchToHttp().getRequest<Request>();
      const response = context.switchToHttp().getResponse<Response>();
      await new Promise<void>((resolve, reject) => {
        this.upload(request, response, (error?: unknown) => (error ? reject(toProblem(error, this.fileSize)) : resolve()));
      });
      try {
        const unknown = Object.keys((request.body ?? {}) as object).filter((name) => !textFields.includes(name));
        if (unknown.length > 0) {
          throw new ProblemException('VALIDATION_FAILED', `the request is invalid: ${unknown.map((name) => `${name}: unknown field`).join('; ')}`, {
            errors: unknown.map((field) => ({ field, message: 'unknown field' })),
          });
        }
        if (request.body !== undefined) assertSafeJson(request.body);
      } catch (error) {
        await removeUploads(request);
        throw error;
      }
      return next.handle();
    }
  }
  return mixin(Interceptor);
};
