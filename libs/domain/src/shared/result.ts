/** An expected failure: a stable code clients can rely on, a message for people, details for tools. */
export interface DomainError<Code extends string = string> {
  readonly code: Code;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Result<T, Code extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DomainError<Code> };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });

export const fail = <Code extends string>(
  code: Code,
  message: string,
  details?: Record<string, unknown>,
): { readonly ok: false; readonly error: DomainError<Code> } => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});

/** Exhaustiveness check for `switch` over a union: a missing case fails to compile. */
export const assertNever = (value: never): never => {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
};
