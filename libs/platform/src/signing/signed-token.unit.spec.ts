import { ServerSecrets } from '../secrets/server-secrets';
import { MAX_SIGNED_TOKEN_LENGTH, SignedTokens, type SignedClaims } from './signed-token';

interface LinkClaims extends SignedClaims {
  readonly aid: string;
  readonly dec: 'approve' | 'reject';
}

const secrets = new ServerSecrets('s'.repeat(32));
const NOW = new Date('2026-11-30T10:00:00Z');
const IN_AN_HOUR = Math.floor(NOW.getTime() / 1000) + 3600;

describe('signed tokens', () => {
  const links = new SignedTokens<LinkClaims>(secrets, 'decision-links');
  const token = links.sign({ aid: 'a-1', dec: 'approve', exp: IN_AN_HOUR });

  it('gives back the claims of a token it signed, until it expires', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(links.verify(token, NOW)).toEqual({ ok: true, claims: { aid: 'a-1', dec: 'approve', exp: IN_AN_HOUR } });
    expect(links.verify(token, new Date(IN_AN_HOUR * 1000 - 1))).toMatchObject({ ok: true });
    expect(links.verify(token, new Date(IN_AN_HOUR * 1000))).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('refuses changed claims, a changed signature, and a token of another purpose or server secret', () => {
    const [payload, signature] = token.split('.') as [string, string];
    const changed = Buffer.from(JSON.stringify({ aid: 'a-1', dec: 'reject', exp: IN_AN_HOUR })).toString('base64url');
    expect(links.verify(`${changed}.${signature}`, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    expect(links.verify(`${payload}.${flipped}`, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(new SignedTokens<LinkClaims>(secrets, 'deployment-callbacks').verify(token, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(new SignedTokens<LinkClaims>(new ServerSecrets('t'.repeat(32)), 'decision-links').verify(token, NOW)).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('judges expiry only on genuine claims: an expired forgery is a forgery', () => {
    const past = new SignedTokens<LinkClaims>(new ServerSecrets('t'.repeat(32)), 'decision-links').sign({ aid: 'a', dec: 'approve', exp: 1 });
    expect(links.verify(past, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['three parts', 'a.b.c'],
    ['not base64url', 'a+b.c/d'],
    ['too long', `${'a'.repeat(MAX_SIGNED_TOKEN_LENGTH)}.b`],
  ])('refuses a malformed token (%s)', (_, value) => {
    expect(links.verify(value, NOW)).toEqual({ ok: false, reason: 'MALFORMED' });
  });

  it('refuses to sign claims without a whole-second expiry', () => {
    expect(() => links.sign({ aid: 'a', dec: 'approve', exp: 1.5 })).toThrow(/expiry/);
  });
});
