import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DIGEST_PATTERN } from '@mrw/artifacts';
import { IsNumberMap, IsStringMap, NUMBER_MAP_SCHEMA, STRING_MAP_SCHEMA } from '@mrw/platform';

export class RegisterVersionDto {
  @ApiProperty({
    maxLength: 2048,
    pattern: '^(artifacts://|https?://|file://)',
    example: 'artifacts://sha256/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: 'An uploaded artifact URI, an http(s) URL, or a file:// path where the operator allows it',
  })
  @IsString()
  @MaxLength(2048)
  source!: string;

  @ApiPropertyOptional({ example: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', pattern: DIGEST_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(DIGEST_PATTERN, { message: 'artifactDigest must be sha256:<64 lowercase hex>' })
  artifactDigest?: string;

  @ApiPropertyOptional({ example: 'b4c2e0f1a9', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  runId?: string;

  @ApiPropertyOptional({ example: { val_accuracy: 0.91 }, ...NUMBER_MAP_SCHEMA })
  @IsOptional()
  @IsNumberMap()
  metrics?: Record<string, number>;

  @ApiPropertyOptional({ example: { framework: 'sklearn' }, ...STRING_MAP_SCHEMA })
  @IsOptional()
  @IsStringMap()
  tags?: Record<string, string>;

  @ApiPropertyOptional({ maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;
}
