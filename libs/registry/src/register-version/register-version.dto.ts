import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DIGEST_PATTERN } from '@mrw/artifacts';
import { IsNumberMap, IsStringMap } from '@mrw/platform';

export class RegisterVersionDto {
  @ApiProperty({
    example: 'artifacts://sha256/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: 'An uploaded artifact URI, an http(s) URL, or a file:// path where the operator allows it',
  })
  @IsString()
  @MaxLength(2048)
  source!: string;

  @ApiPropertyOptional({ example: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  @IsOptional()
  @IsString()
  @Matches(DIGEST_PATTERN, { message: 'artifactDigest must be sha256:<64 lowercase hex>' })
  artifactDigest?: string;

  @ApiPropertyOptional({ example: 'b4c2e0f1a9' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  runId?: string;

  @ApiPropertyOptional({ example: { val_accuracy: 0.91 } })
  @IsOptional()
  @IsNumberMap()
  metrics?: Record<string, number>;

  @ApiPropertyOptional({ example: { framework: 'sklearn' } })
  @IsOptional()
  @IsStringMap()
  tags?: Record<string, string>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;
}
