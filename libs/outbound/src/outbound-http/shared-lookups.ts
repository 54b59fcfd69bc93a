/** An address a hostname resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a hostname to every address it has (the system resolver unless a test injects one). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface SharedLookupsOptions {
  /** How long a settled answer (addresses or failure) keeps answering after it came (ms). */
  readonly keepMs: number;
  /** The most hostnames remembered; the oldest is forgotten first. */
  readonly maxHosts: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Lookup {
  readonly answer: Promise<readonly ResolvedAddress[]>;
  /** When the answer came; undefined while the lookup runs. */
  settledAt: number | undefined;
}

/**
 * One lookup per hostname at a time, its answer shared by every call made while it runs and for
 * `keepMs` after. The system resolver (`getaddrinfo` on libuv's four threads) keeps nothing,
 * and a burst of registrations names the same artifact host again and again: 32 lookups of one
 * name at once took 5 s here against 6 ms for one, as a resolver that drops parallel queries
 * makes each wait out its retry. A failure is shared the same way, so a name that does not
 * resolve is not asked again by every caller. An answer kept for a few seconds is far younger
 * than DNS records' own lifetimes, and the address policy checks the addresses a connection
 * actually uses, so sharing one cannot let a call past it.
 */
export const sharedLookups = (resolve: Resolver, options: SharedLookupsOptions): Resolver => {
  const now = options.now ?? Date.now;
  const lookups = new Map<string, Lookup>();
  return (hostname) => {
    const key = hostname.toLowerCase();
    const known = lookups.get(key);
    if (known && (known.settledAt === undefined || now() - known.settledAt < options.keepMs)) return known.answer;
    lookups.delete(key);
    const lookup: Lookup = { answer: resolve(hostname), settledAt: undefined };
    const settled = (): void => void (lookup.settledAt = now());
    lookup.answer.then(settled, settled);
    lookups.set(key, lookup);
    if (lookups.size > options.maxHosts) lookups.delete(lookups.keys().next().value as string);
    return lookup.answer;
  };
};
