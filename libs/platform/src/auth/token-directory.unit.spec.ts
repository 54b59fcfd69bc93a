import { createHmac } from 'node:crypto';
import type { RecordedEvent } from '@mrw/event-store';
import { ServerSecrets } from '../secrets/server-secrets';
import { generateSecret, signedCommandAuthorization, TokenDirectory } from './token-directory';

const secrets = new ServerSecrets('k'.repeat(32));
const EVALUATOR_ID = '6f1c2b9e-5a4d-4c3b-8e2f-1a0b9c8d7e6f';
const OTHER_ID = '0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70';

let position = 0n;
const recorded = (streamName: string, type: string, data: unknown): RecordedEvent => {
  position += 1n;
  return {
    streamName,
    revision: 0,
    position,
    type,
    data,
    metadata: {
      eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
      occurredAt: '2026-11-30T10:00:00.000Z',
      actor: { kind: 'user', id: 'admin' },
      correlationId: 'c',
      causationId: null,
      schemaVersion: 1,
      prevHash: null,
      hash: 'h'.repeat(64),
    },
  };
};

/** A directory that knows one token, issued with its credential, the way the registry writes them. */
const directoryWith = (tokenId: string, secret: string, subject: string): TokenDirectory => {
  const directory = new TokenDirectory(secrets);
  directory.apply(recorded(`tokenCredential-${tokenId}`, 'AccessTokenCredentialStored', { tokenId, scheme: 'hmac-sha256', verifier: secrets.tokenVerifier(secret) }));
  directory.apply(recorded(`accessToken-${tokenId}`, 'AccessTokenIssued', { tokenId, subject, kind: 'service', roles: ['service'], models: [] }));
  return directory;
};

describe('token directory', () => {
  const secret = generateSecret();
  const value = JSON.stringify({ commandId: 'c-1', type: 'RecordEvaluationProgress' });

  it('authenticates a secret by its keyed verifier', () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    expect(directory.authenticate(secret)?.actor).toEqual({ kind: 'service', id: 'evaluator' });
    expect(directory.authenticate(generateSecret())).toBeUndefined();
  });

  it('folds the token events itself: who issued a token, when, and when it was revoked', () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    const issued = {
      tokenId: EVALUATOR_ID,
      subject: 'evaluator',
      kind: 'service',
      roles: ['service'],
      models: [],
      issuedAt: '2026-11-30T10:00:00.000Z',
      issuedBy: 'admin',
      revokedAt: null,
    };
    expect(directory.get(EVALUATOR_ID)).toEqual(issued);
    const revocation = recorded(`accessToken-${EVALUATOR_ID}`, 'AccessTokenRevoked', { tokenId: EVALUATOR_ID });
    directory.apply({ ...revocation, metadata: { ...revocation.metadata, occurredAt: '2026-12-01T08:30:00.000Z' } });
    expect(directory.list()).toEqual([{ ...issued, revokedAt: '2026-12-01T08:30:00.000Z' }]);
    expect(directory.authenticate(secret)).toBeUndefined();
    expect(directory.hasActiveAdmin()).toBe(false);
  });

  it("keeps a known secret's verifier rather than paying an HMAC per request, and still refuses it once its token is revoked", () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    const hmacs = jest.spyOn(secrets, 'tokenVerifier');
    try {
      const stranger = generateSecret();
      for (let i = 0; i < 3; i += 1) {
        expect(directory.authenticate(secret)?.tokenId).toBe(EVALUATOR_ID);
        expect(directory.authenticate(stranger)).toBeUndefined();
      }
      // Once for the known secret; every time for the unknown one, which is never kept.
      expect(hmacs.mock.calls.filter(([given]) => given === secret)).toHaveLength(1);
      expect(hmacs.mock.calls.filter(([given]) => given === stranger)).toHaveLength(3);
      directory.apply(recorded(`accessToken-${EVALUATOR_ID}`, 'AccessTokenRevoked', { tokenId: EVALUATOR_ID }));
      expect(directory.authenticate(secret)).toBeUndefined();
    } finally {
      hmacs.mockRestore();
    }
  });

  it('ignores a revocation of a token it never saw issued', () => {
    const directory = new TokenDirectory(secrets);
    directory.apply(recorded(`accessToken-${OTHER_ID}`, 'AccessTokenRevoked', { tokenId: OTHER_ID }));
    expect(directory.get(OTHER_ID)).toBeUndefined();
    expect(directory.list()).toEqual([]);
  });

  it('does not authenticate a token whose AccessTokenIssued never landed (crash between the two appends)', () => {
    const directory = new TokenDirectory(secrets);
    directory.apply(recorded(`tokenCredential-${OTHER_ID}`, 'AccessTokenCredentialStored', { tokenId: OTHER_ID, scheme: 'hmac-sha256', verifier: secrets.tokenVerifier(secret) }));
    expect(directory.authenticate(secret)).toBeUndefined();
  });

  it('verifies a signed command and names its signer; the header carries no secret', () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    const authorization = directory.signCommand(secret, value) as string;
    expect(authorization).toMatch(/^MRW-HMAC-SHA256 token=6f1c2b9e-5a4d-4c3b-8e2f-1a0b9c8d7e6f, signature=[A-Za-z0-9_-]{43}$/);
    expect(authorization).not.toContain(secret);
    expect(authorization).not.toContain(secrets.tokenVerifier(secret));
    expect(directory.verifyCommand(authorization, value)?.actor.id).toBe('evaluator');
  });

  it('refuses a signature over another value, by another token id, by another server secret, or by a revoked token', () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    const authorization = signedCommandAuthorization(secrets, EVALUATOR_ID, secret, value);
    expect(directory.verifyCommand(authorization, `${value} `)).toBeUndefined();
    expect(directory.verifyCommand(authorization.replace(EVALUATOR_ID, OTHER_ID), value)).toBeUndefined();
    const foreign = signedCommandAuthorization(new ServerSecrets('z'.repeat(32)), EVALUATOR_ID, secret, value);
    expect(directory.verifyCommand(foreign, value)).toBeUndefined();
    expect(directory.verifyCommand(`Bearer ${secret}`, value)).toBeUndefined();
    directory.apply(recorded(`accessToken-${EVALUATOR_ID}`, 'AccessTokenRevoked', { tokenId: EVALUATOR_ID }));
    expect(directory.verifyCommand(authorization, value)).toBeUndefined();
    expect(directory.signCommand(secret, value)).toBeUndefined();
  });

  it("hands a live token's signing key to its holder, so a producer without the server secret signs what the directory verifies", () => {
    const directory = directoryWith(EVALUATOR_ID, secret, 'evaluator');
    const key = directory.commandSigningKeyOf(EVALUATOR_ID) as string;
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(key).not.toContain(secret);
    const signature = createHmac('sha256', Buffer.from(key, 'base64url')).update(value, 'utf8').digest('base64url');
    const authorization = `MRW-HMAC-SHA256 token=${EVALUATOR_ID}, signature=${signature}`;
    expect(authorization).toBe(directory.signCommand(secret, value));
    expect(directory.verifyCommand(authorization, value)?.actor.id).toBe('evaluator');
    expect(directory.commandSigningKeyOf(OTHER_ID)).toBeUndefined();
    directory.apply(recorded(`accessToken-${EVALUATOR_ID}`, 'AccessTokenRevoked', { tokenId: EVALUATOR_ID }));
    expect(directory.commandSigningKeyOf(EVALUATOR_ID)).toBeUndefined();
  });
});
