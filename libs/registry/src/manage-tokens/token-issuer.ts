import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { accessTokenStream, type AccessTokenEvent, type CommandMetadata, type Role } from '@mrw/contracts';
import { decideAccessToken, evolveAccessToken, type AccessTokenCommand, type AccessTokenState } from '@mrw/domain';
import { generateSecret, hashSecret, TokenDirectory } from '@mrw/platform';
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

/** Issues and revokes tokens through their streams and updates this process's directory at once. */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: TokenDirectory,
  ) {}

  async issue(request: TokenRequest, metadata: CommandMetadata): Promise<{ tokenId: string; secret: string }> {
    const secret = request.secret ?? generateSecret();
    const tokenId = request.tokenId ?? randomUUID();
    const result = await this.executor.execute(accessTokenStream(tokenId), tokenDecider, {
      type: 'IssueAccessToken',
      data: {
        tokenId,
        subject: request.subject,
        kind: request.kind,
        roles: request.roles,
        models: request.models,
        secretHash: hashSecret(secret),
      },
      metadata,
    });
    for (const event of result.events) this.directory.apply(event);
    return { tokenId, secret };
  }

  async revoke(tokenId: string, metadata: CommandMetadata): Promise<void> {
    const result = await this.executor.execute(accessTokenStream(tokenId), tokenDecider, {
      type: 'RevokeAccessToken',
      data: {},
      metadata,
    });
    for (const event of result.events) this.directory.apply(event);
  }
}
