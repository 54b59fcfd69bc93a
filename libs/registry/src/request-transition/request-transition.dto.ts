import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { STAGES, type Stage } from '@mrw/contracts';

export class RequestTransitionDto {
  @ApiProperty({ enum: STAGES, example: 'Staging' })
  @IsIn(STAGES as unknown as string[], { message: `toStage must be one of ${STAGES.join(', ')}` })
  toStage!: Stage;

  @ApiPropertyOptional({ example: 'beats v3 on the holdout', maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  comment?: string;
}
