import { Inject, Injectable } from '@nestjs/common';
import {
  accessTokenStream,
  deriveId,
  SCHEMA_VERSION,
  tokenCredentialStream,
  type AccessTokenCredentialStored,
  type AccessTokenEvent,
  type CommandMetadata,
  type Role,
} from '@mrw/contracts';
import { decideAccessToken, evolveAccessToken, type AccessTokenCommand, type AccessTokenState } from '@mrw/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@mrw/event-store';
import { generateSecret, KeyedMutex, ProblemException, TokenDirectory } from '@mrw/platform';
import { CommandExecutor, type Decider } from '../application/command-executor';

const tokenDecider: Decider<AccessTokenState, AccessTokenCommand, AccessTokenEvent> = {
  initialState: () => ({ status: 'absent' }),
  evolve: (state, event) => evolveAccessToken(state, { ...event, actorId: '' }),
  decide: decideAccessToken,
};

export interface TokenRequest {
  readonly subject: string;
  readonly kind: 'user' | 'service';
  readonly roles: Role[];
  readonly models: string[];
  /** A secret chosen by configuration (MRW_ADMIN_TOKEN, seeds); else one is generated. */
  readonly secret?: string;
  readonly tokenId?: string;
}

/**
 * Issues and revokes tokens through their streams and updates this process's directory at
 * once. The verifier goes to the token's private credential stream first, then the audited
 * `AccessTokenIssued` (which carries nothing of the secret): a crash between the two leaves
 * a verifier for a token that was never issued, which authenticates nobody.
 */
@Injectable()
export class TokenIssuer {
  private readonly revocations = new KeyedMutex();

  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: TokenDirectory,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /**
   * `replayed` when this command (the same Idempotency-Key) issued the token before: its
   * secret was shown then and cannot be shown again, so the caller must not hand out `secret`.
   */
  async issue(request: TokenRequest, metadata: CommandMetadata): Promise<{ tokenId: string; secret: string; replayed: boolean }> {
    const secret = request.secret ?? generateSecret();
    const tokenId = request.tokenId ?? deriveId(metadata.commandId, 'access-token');
    await this.storeCredential(tokenId, this.directory.verifierOf(secret), metadata);
    const result = await this.executor.execute(accessTokenStream(tokenId), tokenDecider, {
      type: 'IssueAccessToken',
      data: {
        tokenId,
        subject: request.subject,
        kind: request.kind,
        roles: request.roles,
        models: request.models,
      },
      metadata,
    });
    for (const event of result.events) this.directory.apply(event);
    return { tokenId, secret, replayed: result.replayed };
  }

  private async storeCredential(tokenId: string, verifier: string, metadata: CommandMetadata): Promise<void> {
    const data: AccessTokenCredentialStored['data'] = { tokenId, scheme: 'hmac-sha256', verifier };
    const stream = tokenCredentialStream(tokenId);
    const [existing] = await this.store.readStream(stream, { maxCount: 1 });
    if (!existing) {
      const event = {
        type: 'AccessTokenCredentialStored',
        data,
        metadata: {
          eventId: deriveId(metadata.commandId, 'credential'),
          occurredAt: metadata.now,
          actor: metadata.actor,
          correlationId: metadata.correlationId,
          causationId: metadata.causationId,
          schemaVersion: SCHEMA_VERSION,
        },
      };
      try {
        await this.store.appendToStream(stream, [event], { expectedRevision: 'no_stream' });
      } catch (error) {
        // A retried issue (same Idempotency-Key) racing itself: the first writer's credential stands.
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
    }
    for (const event of await this.store.readStream(stream, { maxCount: 1 })) this.directory.apply(event);
  }

  /**
   * Revokes a token, unless it is the last live admin token without a model scope: nobody
   * could then manage tokens or policies again (a configured admin token that was revoked
   * stays revoked). Revocations queue on one lock so two cannot both remove "the other" admin.
   */
  async revoke(tokenId: string, metadata: CommandMetadata): Promise<void> {
    await this.revocations.run('revocations', async () => {
      const fullAdmins = this.directory
        .list()
        .filter((t) => t.revokedAt === null && t.roles.includes('admin') && t.models.length === 0)
        .map((t) => t.tokenId);
      if (fullAdmins.length === 1 && fullAdmins[0] === tokenId) {
        throw new ProblemException('LAST_ADMIN_TOKEN', `token ${tokenId} is the last admin token without a model scope: issue another admin token first, then revoke this one`);
      }
      const result = await this.executor.execute(accessTokenStream(tokenId), tokenDecider, {
        type: 'RevokeAccessToken',
        data: {},
        metadata,
      });
      for (const event of result.events) this.directory.apply(event);
    });
  }
}
