import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { IsStringMap } from '@mrw/platform';
import { MODEL_NAME_MESSAGE } from '../shared/http-params';

export class RegisterModelDto {
  @ApiProperty({ example: 'churn-classifier', pattern: MODEL_NAME_PATTERN.source })
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: `name ${MODEL_NAME_MESSAGE}` })
  name!: string;

  @ApiPropertyOptional({ example: 'Predicts churn in the next 30 days' })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;

  @ApiPropertyOptional({ example: { team: 'growth' } })
  @IsOptional()
  @IsStringMap()
  tags?: Record<string, string>;
}
