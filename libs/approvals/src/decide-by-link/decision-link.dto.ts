import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MAX_SIGNED_TOKEN_LENGTH } from '@mrw/platform';

const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** `GET /api/v1/approval-links/{id}/{decision}?token=…`: the link's signed token. */
export class DecisionLinkQuery {
  @ApiProperty({ description: 'the signed token of the link, as received', maxLength: MAX_SIGNED_TOKEN_LENGTH, pattern: TOKEN.source })
  @IsString()
  @MaxLength(MAX_SIGNED_TOKEN_LENGTH)
  @Matches(TOKEN, { message: 'token must be the token of the link, as received' })
  token!: string;
}

/** The confirmation page's form (`application/x-www-form-urlencoded`). */
export class DecisionLinkForm {
  @ApiProperty({ description: 'the signed token of the link, as received', maxLength: MAX_SIGNED_TOKEN_LENGTH, pattern: TOKEN.source })
  @IsString()
  @MaxLength(MAX_SIGNED_TOKEN_LENGTH)
  @Matches(TOKEN, { message: 'token must be the token of the link, as received' })
  token!: string;

  @ApiPropertyOptional({ maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  comment?: string;
}
