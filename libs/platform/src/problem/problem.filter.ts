import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { failureKind } from '@mrw/resilience';
import { ProblemException } from './problem';
import { writeProblem } from './problem-dialects';
import { problemFromStoreError } from './store-problems';

const HTTP_CODE: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Every error leaves as `application/problem+json` (or a path's registered dialect); unexpected ones as a 500 without internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception);
    // An Error goes to the log as an `err` object (type, message, stack), redacted like every line.
    if (problem.status >= 500) this.logger.error(exception instanceof Error ? exception : String(exception));
    writeProblem(response, problem);
  }

  private toProblem(exception: unknown): ProblemException {
    if (exception instanceof ProblemException) return exception;
    const fromStore = problemFromStoreError(exception);
    if (fromStore) return fromStore;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODE[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body
          ? String((body as { message: unknown }).message)
          : exception.message;
      return new ProblemException(code, message, {}, status);
    }
    // multer and other express-level errors carry a 4xx status of their own.
    const raw = exception as { status?: number; message?: string } | undefined;
    if (typeof raw?.status === 'number' && raw.status >= 400 && raw.status < 500) {
      return new ProblemException(HTTP_CODE[raw.status] ?? 'BAD_REQUEST', raw.message ?? 'bad request', {}, raw.status);
    }
    // A dependency that is down for a while (the store busy or unreachable, a timeout) is not the request's fault.
    if (failureKind(exception) === 'transient') {
      return new ProblemException('SERVICE_UNAVAILABLE', 'a dependency of the registry is unavailable for the moment; retry shortly, with the same Idempotency-Key if the request carried one', {}, 503);
    }
    return new ProblemException('INTERNAL', 'an unexpected error occurred; it has been logged', {}, 500);
  }
}
