import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { IsStringMap, STRING_MAP_SCHEMA } from '@mrw/platform';
import { MODEL_NAME_MESSAGE } from '../shared/http-params';

export class RegisterModelDto {
  @ApiProperty({ example: 'churn-classifier', pattern: MODEL_NAME_PATTERN.source, maxLength: 128 })
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: `name ${MODEL_NAME_MESSAGE}` })
  name!: string;

  @ApiPropertyOptional({ example: 'Predicts churn in the next 30 days', maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;

  @ApiPropertyOptional({ example: { team: 'growth' }, ...STRING_MAP_SCHEMA })
  @IsOptional()
  @IsStringMap()
  tags?: Record<string, string>;
}
