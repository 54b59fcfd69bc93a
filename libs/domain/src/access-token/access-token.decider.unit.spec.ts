import type { AccessTokenEvent } from '@mrw/contracts';
import { commandsOf, deciderSpec, givenAt, type Issued } from '@mrw/testing';
import { decideAccessToken, evolveAccessToken, type AccessTokenCommand, type AccessTokenState } from './access-token.decider';

const ADMIN = { kind: 'user', id: 'admin' } as const;

/** The store knows who appended each event; here the admin issued and revoked everything. */
const spec = deciderSpec({
  decide: decideAccessToken,
  evolve: (state: AccessTokenState, event) => evolveAccessToken(state, { ...event, actorId: ADMIN.id }),
  initialState: (): AccessTokenState => ({ status: 'absent' }),
});
const command = commandsOf<AccessTokenCommand>();
const byAdmin = (id: string): Issued => ({ by: ADMIN, at: '2025-03-04T10:00:00.000Z', id });

const TOKEN = {
  tokenId: 'tok-7f3a',
  subject: 'carol',
  kind: 'user' as const,
  roles: ['reviewer' as const],
  models: ['churn-classifier'],
};
const issued: AccessTokenEvent = { type: 'AccessTokenIssued', data: TOKEN };
const revoked: AccessTokenEvent = { type: 'AccessTokenRevoked', data: { tokenId: TOKEN.tokenId } };

const issue = () => command('IssueAccessToken', TOKEN, byAdmin('cmd-issue'));
const revoke = () => command('RevokeAccessToken', {}, byAdmin('cmd-revoke'));

describe('access tokens', () => {
  it('issues a token with its subject, roles and model scope, and nothing of its secret', () => {
    spec.given().when(issue()).then(issued);
  });

  it('refuses to issue the same token id twice: TOKEN_ALREADY_EXISTS', () => {
    spec.given(issued).when(issue()).thenFails('TOKEN_ALREADY_EXISTS');
  });

  it('revokes an issued token', () => {
    spec.given(issued).when(revoke()).then(revoked);
  });

  it('refuses to revoke a token that was never issued: TOKEN_NOT_FOUND', () => {
    spec.given().when(revoke()).thenFails('TOKEN_NOT_FOUND');
  });

  it('refuses to revoke a token twice: TOKEN_REVOKED', () => {
    spec.given(issued, revoked).when(revoke()).thenFails('TOKEN_REVOKED');
  });

  it('refuses to re-issue a revoked token id: TOKEN_ALREADY_EXISTS', () => {
    spec.given(issued, revoked).when(issue()).thenFails('TOKEN_ALREADY_EXISTS');
  });

  it('shows who issued the token and when, and when it was revoked', () => {
    expect(spec.given(issued).state()).toEqual({ status: 'issued', ...TOKEN, issuedAt: givenAt(0), issuedBy: 'admin', revokedAt: null });
    expect(spec.given(issued, revoked).state()).toMatchObject({ status: 'issued', revokedAt: givenAt(1) });
  });

  it('ignores a revocation of a token it never saw issued', () => {
    expect(spec.given(revoked).state()).toEqual({ status: 'absent' });
  });
});
