export type OutboundErrorCode =
  | 'OUTBOUND_ADDRESS_REFUSED'
  | 'OUTBOUND_URL_REFUSED'
  | 'OUTBOUND_TIMEOUT'
  | 'OUTBOUND_TOO_LARGE'
  | 'OUTBOUND_TOO_MANY_REDIRECTS'
  | 'OUTBOUND_FAILED';

/** Why an outbound call was refused or did not complete; `details` are safe to show the caller. */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** A URL as it may appear in messages and logs: no user info, no query (either may carry a secret). */
export const describeUrl = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;
