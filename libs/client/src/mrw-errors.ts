/** A field-level problem in a request, as the registry reports it. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The registry's RFC 9457 problem document, with its stable `code`. */
export interface ProblemDocument {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

/** The registry answered with an error: the problem document, typed. */
export class MrwApiError extends Error {
  override readonly name = 'MrwApiError';
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: readonly FieldError[];

  constructor(
    readonly problem: ProblemDocument,
    readonly method: string,
    readonly url: string,
  ) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
  }
}

/** The registry could not be reached at all (refused, unknown host, reset, timed out). */
export class MrwConnectionError extends Error {
  override readonly name = 'MrwConnectionError';
  constructor(
    readonly url: string,
    /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, …). */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${url}${code ? ` (${code})` : ''}`, options);
  }
}

/** The registry stored other bytes than the client sent: the digests computed on both ends differ. */
export class MrwDigestMismatchError extends Error {
  override readonly name = 'MrwDigestMismatchError';
  constructor(
    readonly sent: string,
    readonly stored: string,
  ) {
    super(`the registry stored ${stored} but the client sent ${sent}`);
  }
}

/** Builds the typed error from an error answer; a body that is not a problem document still gives one. */
export const apiErrorFrom = (status: number, text: string, method: string, url: string): MrwApiError => {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const body = parsed as Partial<ProblemDocument> | undefined;
  const problem: ProblemDocument =
    body && typeof body === 'object' && typeof body.code === 'string'
      ? { ...body, status: typeof body.status === 'number' ? body.status : status, code: body.code, detail: String(body.detail ?? body.title ?? '') }
      : { status, code: `HTTP_${status}`, detail: text.trim().slice(0, 500) || `HTTP ${status}` };
  return new MrwApiError(problem, method, url);
};
