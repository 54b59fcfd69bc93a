import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerSecrets } from '../secrets/server-secrets';

/**
 * Compact, expiring tokens the suite hands out in URLs (one-click decision links, deployment
 * callbacks): `<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, first part))>`, the key
 * derived from the server secret for one purpose, so a token of one purpose never verifies as
 * another's. Anyone can read the claims; only the server can make or change them.
 */

/** What a token says; `exp` is when it stops being valid (seconds since the epoch). */
export interface SignedClaims {
  readonly exp: number;
  readonly [claim: string]: unknown;
}

export type SignedTokenVerdict<C extends SignedClaims> =
  | { readonly ok: true; readonly claims: C }
  | { readonly ok: false; readonly reason: 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED' };

/** Longer than any token this suite makes: refused before any work. */
export const MAX_SIGNED_TOKEN_LENGTH = 2048;

const PART = /^[A-Za-z0-9_-]+$/;

/** Signs and verifies the tokens of one purpose (e.g. `decision-links`). */
export class SignedTokens<C extends SignedClaims = SignedClaims> {
  private readonly key: Buffer;

  constructor(secrets: Pick<ServerSecrets, 'derive'>, purpose: string) {
    this.key = secrets.derive(purpose);
  }

  /** A token carrying `claims`. */
  sign(claims: C): string {
    if (!Number.isSafeInteger(claims.exp)) throw new Error('a signed token needs a whole-second expiry (exp)');
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /**
   * The claims of a token this server signed for this purpose and that has not expired at
   * `now`. The signature is compared in constant time before the claims are even parsed, so a
   * forged token learns nothing about what would pass; expiry is judged only on genuine claims.
   */
  verify(token: string, now: Date): SignedTokenVerdict<C> {
    if (typeof token !== 'string' || token.length > MAX_SIGNED_TOKEN_LENGTH) return { ok: false, reason: 'MALFORMED' };
    const [payload, signature, ...rest] = token.split('.');
    if (rest.length > 0 || !payload || !signature || !PART.test(payload) || !PART.test(signature)) return { ok: false, reason: 'MALFORMED' };
    const expected = Buffer.from(this.mac(payload), 'ascii');
    const given = Buffer.from(signature, 'ascii');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'BAD_SIGNATURE' };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'MALFORMED' };
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims) || !Number.isSafeInteger((claims as SignedClaims).exp)) {
      return { ok: false, reason: 'MALFORMED' };
    }
    if (now.getTime() >= (claims as SignedClaims).exp * 1000) return { ok: false, reason: 'EXPIRED' };
    return { ok: true, claims: claims as C };
  }

  /**
   * The claims of a token for this use, or the refusal to answer with: `expired` after its
   * time, `invalid` when it is malformed, not ours, altered, or its claims fail `fits` (made
   * for another resource or decision).
   */
  claimsFor(token: string, now: Date, fits: (claims: C) => boolean, refusals: { expired: () => Error; invalid: () => Error }): C {
    const verdict = this.verify(token, now);
    if (!verdict.ok && verdict.reason === 'EXPIRED') throw refusals.expired();
    if (!verdict.ok || !fits(verdict.claims)) throw refusals.invalid();
    return verdict.claims;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload, 'ascii').digest('base64url');
  }
}
