import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { evolveAccessToken, type AccessTokenState, type AccessTokenView } from '@mrw/domain';
import type { AccessTokenEvent } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import type { AuthPrincipal } from './principal';

/** sha256 of a bearer secret: all that is ever stored. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** A new bearer secret: `mrw_` + 32 random bytes, base64url. */
export const generateSecret = (): string => `mrw_${randomBytes(32).toString('base64url')}`;

/**
 * Who holds which token, folded from `accessToken-*` events. Every service keeps one, fed
 * by the log; the registry also applies its own appends at once so revocation is immediate.
 */
@Injectable()
export class TokenDirectory {
  private readonly byId = new Map<string, AccessTokenState>();
  private readonly idByHash = new Map<string, string>();

  apply(event: RecordedEvent): void {
    if (!event.streamName.startsWith('accessToken-')) return;
    const tokenEvent = event as unknown as AccessTokenEvent;
    const tokenId = tokenEvent.data.tokenId;
    const next = evolveAccessToken(this.byId.get(tokenId) ?? { status: 'absent' }, {
      ...tokenEvent,
      at: event.metadata.occurredAt,
      actorId: event.metadata.actor.id,
    });
    this.byId.set(tokenId, next);
    if (next.status === 'issued') this.idByHash.set(next.secretHash, tokenId);
  }

  authenticate(secret: string): AuthPrincipal | undefined {
    const id = this.idByHash.get(hashSecret(secret));
    const token = id ? this.byId.get(id) : undefined;
    if (!token || token.status !== 'issued' || token.revokedAt !== null) return undefined;
    return {
      tokenId: token.tokenId,
      actor: { kind: token.kind, id: token.subject },
      roles: token.roles,
      models: token.models,
    };
  }

  get(tokenId: string): AccessTokenView | undefined {
    const token = this.byId.get(tokenId);
    return token?.status === 'issued' ? token : undefined;
  }

  list(): AccessTokenView[] {
    return [...this.byId.values()].filter((t): t is AccessTokenState & AccessTokenView => t.status === 'issued');
  }

  hasActiveAdmin(): boolean {
    return this.list().some((t) => t.revokedAt === null && t.roles.includes('admin'));
  }
}
