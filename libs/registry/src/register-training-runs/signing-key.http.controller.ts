import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TOPICS } from '@mrw/contracts';
import { COMMAND_SIGNATURE_SCHEME, CurrentPrincipal, ModelScope, ProblemException, TokenDirectory, type AuthPrincipal } from '@mrw/platform';
import { SIGNING_KEY_SCHEMA } from '../shared/api-schemas';

/**
 * A token holder's key for signing messages it publishes (training events): a producer has no
 * server secret, and a topic must never carry the token itself. The key signs only as this
 * token, and only while the token lives; revoking the token is revoking the key.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@ModelScope('no-single-model')
@Controller('api/v1/tokens/self')
export class SigningKeyController {
  constructor(private readonly tokens: TokenDirectory) {}

  @Get('signing-key')
  @ApiOkResponse({ description: "The calling token's signing key and how to sign with it", schema: SIGNING_KEY_SCHEMA })
  @Header('Cache-Control', 'no-store')
  signingKey(@CurrentPrincipal() principal: AuthPrincipal) {
    const key = this.tokens.commandSigningKeyOf(principal.tokenId);
    if (!key) throw new ProblemException('UNAUTHENTICATED', 'the token is unknown or revoked');
    return {
      tokenId: principal.tokenId,
      scheme: COMMAND_SIGNATURE_SCHEME,
      signingKey: key,
      header: 'authorization',
      format: `${COMMAND_SIGNATURE_SCHEME} token=${principal.tokenId}, signature=<base64url(HMAC-SHA256(base64url-decoded signingKey, message value))>`,
      topic: TOPICS.trainingEvents,
    };
  }
}
