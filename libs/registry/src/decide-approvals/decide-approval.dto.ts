import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { QueryInteger, QueryText } from '@mrw/platform';
import { APPROVAL_STATUSES, type ApprovalStatusFilter } from './approval.queries';

export class DecideApprovalDto {
  /** A decision needs no comment: POST with no body at all is a decision without one. */
  static readonly bodyOptional = true;

  @ApiPropertyOptional({ example: 'recall holds on every slice; ship it', maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  comment?: string;
}

export class ApprovalsQuery {
  @ApiPropertyOptional({ enum: APPROVAL_STATUSES })
  @IsOptional()
  @IsIn(APPROVAL_STATUSES as unknown as string[])
  status?: ApprovalStatusFilter;

  @QueryText({ maxLength: 128, description: 'model name' })
  model?: string;

  @ApiPropertyOptional({ enum: ['me'], description: 'only requests the caller may decide now' })
  @IsOptional()
  @IsIn(['me'])
  reviewer?: 'me';

  @QueryInteger({ min: 1, max: 500, default: 50 })
  limit?: number;

  @QueryInteger({ min: 0, max: 1_000_000_000, default: 0 })
  offset?: number;
}
