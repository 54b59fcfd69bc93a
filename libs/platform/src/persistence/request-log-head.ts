/**
 * The log head a request's read-your-writes check read when it arrived (the registry's
 * replica catch-up, on PostgreSQL), kept for the request's later checks (the auth guard's token
 * feed) so that one request reads the head once. Keyed by the request object, dropped with it.
 */
const heads = new WeakMap<object, bigint>();

export const noteLogHead = (request: object, head: bigint): void => {
  heads.set(request, head);
};

/** The head noted for this request, if a check read one. */
export const logHeadOf = (request: object): bigint | undefined => heads.get(request);
