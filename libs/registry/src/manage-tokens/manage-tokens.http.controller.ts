import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { isUuid } from '@mrw/contracts';
import { CurrentPrincipal, ProblemException, RequireRole, TokenDirectory, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { ApiIdempotencyKey, TOKEN_ISSUED_SCHEMA, TOKEN_LIST_SCHEMA } from '../shared/api-schemas';
import { IssueTokenDto } from './manage-tokens.dto';
import { TokenIssuer } from './token-issuer';

/** Admins manage bearer tokens; a secret is shown once, at creation, and stored only as a hash. */
@ApiTags('tokens')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/tokens')
export class ManageTokensController {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly directory: TokenDirectory,
    private readonly metadata: CommandMetadataFactory,
  ) {}

  @Post()
  @ApiCreatedResponse({ description: 'The token; its secret is shown this once', schema: TOKEN_ISSUED_SCHEMA })
  @ApiIdempotencyKey()
  @HttpCode(201)
  async issue(@Body() body: IssueTokenDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const { tokenId, secret, replayed } = await this.issuer.issue(
      { subject: body.subject, kind: body.kind ?? 'user', roles: body.roles, models: body.models ?? [] },
      this.metadata.fromRequest(principal, request),
    );
    if (replayed) {
      throw new ProblemException(
        'TOKEN_ALREADY_ISSUED',
        `this Idempotency-Key already issued token ${tokenId}; its secret was shown once and is not kept. Revoke it (DELETE /api/v1/tokens/${tokenId}) and issue a new one if it was lost`,
        { tokenId },
      );
    }
    return { id: tokenId, token: secret, subject: body.subject, roles: body.roles, models: body.models ?? [] };
  }

  @Get()
  @ApiOkResponse({ schema: TOKEN_LIST_SCHEMA })
  list() {
    return {
      items: this.directory.list().map((t) => ({
        id: t.tokenId,
        subject: t.subject,
        kind: t.kind,
        roles: t.roles,
        models: t.models,
        issuedAt: t.issuedAt,
        issuedBy: t.issuedBy,
        revokedAt: t.revokedAt,
      })),
    };
  }

  @Delete(':id')
  @ApiNoContentResponse({ description: 'Revoked, effective at once' })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiIdempotencyKey()
  @HttpCode(204)
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request): Promise<void> {
    if (!isUuid(id) || !this.directory.get(id)) throw new ProblemException('TOKEN_NOT_FOUND', `no token ${id}`);
    await this.issuer.revoke(id, this.metadata.fromRequest(principal, request));
  }
}
