import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { MODEL_NAME_PATTERN, ROLES, type Role } from '@mrw/contracts';

export class IssueTokenDto {
  @ApiProperty({
    example: 'alice@example.com',
    description: 'Who acts with this token; written into every event as the actor',
    pattern: '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, { message: 'subject must be 1-128 letters, digits or . _ @ + -' })
  subject!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['contributor'], minItems: 1, maxItems: 6 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(6)
  @IsIn(ROLES as unknown as string[], { each: true })
  roles!: Role[];

  @ApiPropertyOptional({ example: ['churn-classifier'], description: 'Limits reviewing to these models; empty: all' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(MODEL_NAME_PATTERN, { each: true })
  models?: string[];

  @ApiPropertyOptional({ enum: ['user', 'service'], default: 'user' })
  @IsOptional()
  @IsIn(['user', 'service'])
  kind?: 'user' | 'service';
}
