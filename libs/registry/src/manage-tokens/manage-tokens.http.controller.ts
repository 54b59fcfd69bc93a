import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { isUuid } from '@mrw/contracts';
import { CurrentPrincipal, ProblemException, RequireRole, TokenDirectory, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
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
  @HttpCode(201)
  async issue(@Body() body: IssueTokenDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const { tokenId, secret } = await this.issuer.issue(
      { subject: body.subject, kind: body.kind ?? 'user', roles: body.roles, models: body.models ?? [] },
      this.metadata.fromRequest(principal, request),
    );
    return { id: tokenId, token: secret, subject: body.subject, roles: body.roles, models: body.models ?? [] };
  }

  @Get()
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
  @HttpCode(204)
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request): Promise<void> {
    if (!isUuid(id) || !this.directory.get(id)) throw new ProblemException('TOKEN_NOT_FOUND', `no token ${id}`);
    await this.issuer.revoke(id, this.metadata.fromRequest(principal, request));
  }
}
