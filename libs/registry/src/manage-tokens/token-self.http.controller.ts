import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, ModelScope, type AuthPrincipal } from '@mrw/platform';
import { TOKEN_SELF_SCHEMA } from '../shared/api-schemas';

/**
 * Who the calling token is: its subject, roles and model scope. The console signs in with a
 * token and shows only the actions it may take (the API decides either way).
 */
@ApiTags('tokens')
@ApiBearerAuth()
@ModelScope('no-single-model')
@Controller('api/v1/tokens/self')
export class TokenSelfController {
  @Get()
  @ApiOkResponse({ description: 'The calling token', schema: TOKEN_SELF_SCHEMA })
  @Header('Cache-Control', 'no-store')
  self(@CurrentPrincipal() principal: AuthPrincipal) {
    return { tokenId: principal.tokenId, actor: principal.actor, roles: principal.roles, models: principal.models };
  }
}
