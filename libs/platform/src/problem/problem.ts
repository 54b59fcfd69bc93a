/** A field-level problem in a request. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** RFC 9457 problem document with the suite's stable `code`. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_A_REVIEWER: 403,
  APPROVER_IS_REQUESTER: 403,
  APPROVER_IS_REGISTRANT: 403,
  EMERGENCY_NOT_ALLOWED: 403,
  FILE_SOURCE_NOT_ALLOWED: 403,
  MODEL_OUT_OF_SCOPE: 403,
  TOKEN_SCOPE_TOO_NARROW: 403,
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  NESTING_TOO_DEEP: 400,
  INVALID_MULTIPART: 400,
  PAYLOAD_TOO_LARGE: 413,
  EVENT_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_POLICY: 422,
  INVALID_ALIAS: 422,
  INVALID_TAG: 422,
  INVALID_DESCRIPTION: 422,
  INVALID_SOURCE: 422,
  SOURCE_HAS_CREDENTIALS: 422,
  OUTBOUND_ADDRESS_REFUSED: 422,
  ARTIFACT_TOO_LARGE: 422,
  DIGEST_MISMATCH: 422,
  CONCURRENCY_CONFLICT: 409,
};

const titleOf = (code: string): string =>
  code
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');

/** The HTTP status for a stable error code: not found → 404, rules and conflicts → 409, etc. */
export const statusForCode = (code: string): number => {
  const known = STATUS_BY_CODE[code];
  if (known !== undefined) return known;
  if (code.endsWith('_NOT_FOUND')) return 404;
  return 409;
};

/** An expected failure that becomes a problem document; thrown from controllers and handlers. */
export class ProblemException extends Error {
  override readonly name = 'ProblemException';
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    status?: number,
  ) {
    super(message);
    this.status = status ?? statusForCode(code);
  }

  toDocument(): ProblemDocument {
    return {
      type: `/problems/${this.code.toLowerCase().replace(/_/g, '-')}`,
      title: titleOf(this.code),
      status: this.status,
      detail: this.message,
      code: this.code,
      ...this.extensions,
    };
  }
}

/** Turns a domain refusal (`{code, message, details}`) into a problem. */
export const problemFromDomainError = (error: {
  code: string;
  message: string;
  details?: Readonly<Record<string, unknown>>;
}): ProblemException => new ProblemException(error.code, error.message, error.details ?? {});
