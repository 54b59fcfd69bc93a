import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AccessTokenCredentialStored, AccessTokenEvent, AccessTokenRecord } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { ServerSecrets } from '../secrets/server-secrets';
import type { AuthPrincipal } from './principal';

/** How a service signs the commands it sends the registry over Kafka (`authorization` header). */
export const COMMAND_SIGNATURE_SCHEME = 'MRW-HMAC-SHA256';
const SIGNED_COMMAND = /^MRW-HMAC-SHA256 token=([0-9a-f-]{36}), signature=([A-Za-z0-9_-]{43})$/;

/** The `authorization` header of a command message signed by the holder of token `tokenId` with its secret. */
export const signedCommandAuthorization = (secrets: ServerSecrets, tokenId: string, secret: string, value: string): string =>
  commandAuthorization(tokenId, secrets.signCommand(secrets.tokenVerifier(secret), value));

const commandAuthorization = (tokenId: string, signature: string): string => `${COMMAND_SIGNATURE_SCHEME} token=${tokenId}, signature=${signature}`;

/** How many secrets' verifiers a directory keeps (see TokenDirectory.verifierBySecret). */
const VERIFIERS_KEPT = 1_000;

/** A token as the directory knows it: the facts of its `accessToken-*` stream, folded here. */
export type DirectoryToken = AccessTokenRecord;

/**
 * The directory's own fold of a token's events. Every service keeps a directory, and services
 * learn the registry's facts from its events, not from its deciders; the registry's decider
 * (which refuses a second issue or revocation) stays with the registry's writes.
 */
const foldToken = (token: DirectoryToken | undefined, event: RecordedEvent): DirectoryToken | undefined => {
  const tokenEvent = event as unknown as AccessTokenEvent;
  switch (tokenEvent.type) {
    case 'AccessTokenIssued':
      return { ...tokenEvent.data, issuedAt: event.metadata.occurredAt, issuedBy: event.metadata.actor.id, revokedAt: null };
    case 'AccessTokenRevoked':
      return token && token.revokedAt === null ? { ...token, revokedAt: event.metadata.occurredAt } : token;
    default:
      return token;
  }
};

/** A new bearer secret: `mrw_` + 32 random bytes, base64url. */
export const generateSecret = (): string => `mrw_${randomBytes(32).toString('base64url')}`;

/**
 * Who holds which token, folded from the `accessToken-*` streams (the audited facts) and
 * the private `tokenCredential-*` streams (the verifiers). Every service keeps one, fed by
 * the log; the registry also applies its own appends at once so revocation is immediate.
 */
@Injectable()
export class TokenDirectory {
  private readonly byId = new Map<string, DirectoryToken>();
  private readonly idByVerifier = new Map<string, string>();
  private readonly verifierById = new Map<string, string>();
  /**
   * The verifiers of secrets that authenticated lately, so a client's every request does not pay
   * an HMAC (a Node HMAC object: ~2% of a registration's CPU). Only secrets of known tokens go
   * in, so unknown secrets cannot fill it; a revoked token is still refused (`principal`); and
   * it is emptied when it would pass VERIFIERS_KEPT. It lives in this process's memory only,
   * as the token key itself does.
   */
  private readonly verifierBySecret = new Map<string, string>();

  constructor(@Inject(ServerSecrets) private readonly secrets: ServerSecrets) {}

  apply(event: RecordedEvent): void {
    if (event.streamName.startsWith('tokenCredential-')) {
      const credential = event.data as AccessTokenCredentialStored['data'];
      this.idByVerifier.set(credential.verifier, credential.tokenId);
      this.verifierById.set(credential.tokenId, credential.verifier);
      return;
    }
    if (!event.streamName.startsWith('accessToken-')) return;
    const tokenId = (event.data as AccessTokenEvent['data']).tokenId;
    const next = foldToken(this.byId.get(tokenId), event);
    if (next) this.byId.set(tokenId, next);
  }

  /** The verifier this process would store for a secret (see ServerSecrets.tokenVerifier). */
  verifierOf(secret: string): string {
    return this.secrets.tokenVerifier(secret);
  }

  authenticate(secret: string): AuthPrincipal | undefined {
    return this.holderOf(secret)?.principal;
  }

  /** `authorization` for a command message signed with this secret (see ServerSecrets.signCommand); undefined for an unknown secret. */
  signCommand(secret: string, value: string): string | undefined {
    const holder = this.holderOf(secret);
    return holder && commandAuthorization(holder.principal.tokenId, this.secrets.signCommand(holder.verifier, value));
  }

  /** Who holds a secret, if it names a live token, with its verifier (kept for the next time: see verifierBySecret). */
  private holderOf(secret: string): { readonly verifier: string; readonly principal: AuthPrincipal } | undefined {
    const kept = this.verifierBySecret.get(secret);
    const verifier = kept ?? this.secrets.tokenVerifier(secret);
    const id = this.idByVerifier.get(verifier);
    if (id === undefined) return undefined;
    if (kept === undefined) {
      if (this.verifierBySecret.size >= VERIFIERS_KEPT) this.verifierBySecret.clear();
      this.verifierBySecret.set(secret, verifier);
    }
    const principal = this.principal(id);
    return principal && { verifier, principal };
  }

  /**
   * The key the holder of a live token signs messages with (base64url, 32 bytes): the
   * signature is base64url(HMAC-SHA256(key, value)), as `signCommand` makes it. Undefined for
   * a revoked or unknown token.
   */
  commandSigningKeyOf(tokenId: string): string | undefined {
    const verifier = this.verifierById.get(tokenId);
    if (!verifier || !this.principal(tokenId)) return undefined;
    return this.secrets.commandSigningKey(verifier).toString('base64url');
  }

  /** Who signed a command message, if the `authorization` value is a valid signature of `value` by a live token. */
  verifyCommand(authorization: string, value: string): AuthPrincipal | undefined {
    const match = SIGNED_COMMAND.exec(authorization);
    const verifier = match ? this.verifierById.get(match[1] as string) : undefined;
    if (!match || !verifier) return undefined;
    const expected = Buffer.from(this.secrets.signCommand(verifier, value));
    const given = Buffer.from(match[2] as string);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return this.principal(match[1] as string);
  }

  private principal(tokenId: string): AuthPrincipal | undefined {
    const token = this.byId.get(tokenId);
    if (!token || token.revokedAt !== null) return undefined;
    return {
      tokenId: token.tokenId,
      actor: { kind: token.kind, id: token.subject },
      roles: token.roles,
      models: token.models,
    };
  }

  get(tokenId: string): DirectoryToken | undefined {
    return this.byId.get(tokenId);
  }

  list(): DirectoryToken[] {
    return [...this.byId.values()];
  }

  /** The live (unrevoked) tokens issued to one subject as a person or a service. */
  liveTokensOf(subject: string, kind: DirectoryToken['kind']): DirectoryToken[] {
    return this.list().filter((t) => t.subject === subject && t.kind === kind && t.revokedAt === null);
  }

  hasActiveAdmin(): boolean {
    return this.list().some((t) => t.revokedAt === null && t.roles.includes('admin'));
  }
}
