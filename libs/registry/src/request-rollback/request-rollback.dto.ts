import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

export class RequestRollbackDto {
  @ApiPropertyOptional({ description: 'The version to serve again; default: the last one that served before the current one', type: 'integer', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(999_999_999)
  toVersion?: number;

  @ApiProperty({ example: 'v8 doubles p99 latency on the enterprise slice', maxLength: 5000 })
  @IsString()
  @MinLength(1)
  @MaxLength(5000)
  reason!: string;

  @ApiPropertyOptional({ description: 'Deploy at once and review after the fact (deployer role, when the policy allows)', default: false })
  @IsOptional()
  @IsBoolean()
  emergency?: boolean;
}
