import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
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

  @ApiPropertyOptional({
    example: false,
    description:
      'Archive the other versions in toStage once this one is there: at once for Staging, once it serves for Production (MLflow\'s archive_existing_versions). Each goes through the usual rules: a version with an approval or a deployment in flight stays.',
  })
  @IsOptional()
  @IsBoolean()
  archiveExistingVersions?: boolean;
}
