import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MAX_SIGNED_TOKEN_LENGTH, PRINTABLE } from '@mrw/platform';

const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** `POST /api/v1/deployments/{id}/callback?token=…`: the callback URL's signed token. */
export class DeploymentCallbackQuery {
  @ApiProperty({ description: 'the signed token of the callback URL, as received', maxLength: MAX_SIGNED_TOKEN_LENGTH, pattern: TOKEN.source })
  @IsString()
  @MaxLength(MAX_SIGNED_TOKEN_LENGTH)
  @Matches(TOKEN, { message: 'token must be the token of the callback URL, as received' })
  token!: string;
}

/** What a pipeline reports. */
export class DeploymentCallbackDto {
  @ApiProperty({ enum: ['succeeded', 'failed'] })
  @IsIn(['succeeded', 'failed'])
  status!: 'succeeded' | 'failed';

  @ApiPropertyOptional({ maxLength: 2000, description: 'why it failed, or a note; recorded as the failure reason' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @Matches(PRINTABLE, { message: 'message must not contain control characters' })
  message?: string;

  @ApiPropertyOptional({ maxLength: 2048, format: 'uri', description: 'where the version now serves, if the pipeline knows' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/[^\s@]+$/, { message: 'endpoint must be an http(s) URL without user info' })
  endpoint?: string;
}
