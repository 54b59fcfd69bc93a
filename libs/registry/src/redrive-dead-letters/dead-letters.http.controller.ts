import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiParam, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Request } from 'express';
import { isUuid } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { DEAD_LETTERED, deadLetterStream, type DeadLetter } from '@mrw/messaging';
import { CurrentPrincipal, ProblemException, QueryInteger, QueryText, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { ApiIdempotencyKey, DEAD_LETTER_DETAIL_SCHEMA, DEAD_LETTER_LIST_SCHEMA, DEAD_LETTER_SCHEMA } from '../shared/api-schemas';
import { DeadLetterQueries } from './dead-letters.queries';
import { RedriveDeadLetter } from './redrive-dead-letter';

export class DeadLettersQuery {
  @QueryText({ maxLength: 200, description: 'consumer group, e.g. mrw-evaluator' })
  group?: string;

  @ApiPropertyOptional({ enum: ['open', 'redriven', 'all'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'redriven', 'all'])
  status?: 'open' | 'redriven' | 'all';

  @QueryInteger({ min: 1, max: 1000, default: 100 })
  limit?: number;

  @QueryInteger({ min: 0, max: 1_000_000_000, default: 0 })
  offset?: number;
}

const letterId = (raw: string): string => {
  if (!isUuid(raw)) throw new ProblemException('DEAD_LETTER_NOT_FOUND', `no dead letter ${raw.slice(0, 100)}`);
  return raw;
};

/**
 * The dead-letter queues of every consumer group, for admins: what could not be handled and
 * why, and a way back once the cause is fixed.
 */
@ApiTags('dead letters')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly letters: DeadLetterQueries,
    private readonly redriver: RedriveDeadLetter,
    private readonly metadata: CommandMetadataFactory,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get()
  @ApiOkResponse({ schema: DEAD_LETTER_LIST_SCHEMA })
  list(@Query() query: DeadLettersQuery) {
    return this.letters.list({
      ...(query.group ? { group: query.group } : {}),
      status: query.status ?? 'open',
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
  }

  /** One letter with the message itself (value and headers), as it would be sent again. */
  @Get(':id')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: DEAD_LETTER_DETAIL_SCHEMA })
  async get(@Param('id') raw: string) {
    const summary = this.letters.get(letterId(raw));
    if (!summary) throw new ProblemException('DEAD_LETTER_NOT_FOUND', `no dead letter ${raw}`);
    const event = (await this.store.readStream(deadLetterStream(summary.group))).find(
      (e) => e.type === DEAD_LETTERED && (e.data as DeadLetter).letterId === summary.id,
    );
    const letter = event?.data as DeadLetter | undefined;
    return { ...summary, value: letter?.value ?? '', headers: letter?.headers ?? {} };
  }

  @Post(':id/redrive')
  @HttpCode(202)
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiAcceptedResponse({ description: 'Sent again, and recorded; if it fails again it becomes a new dead letter', schema: DEAD_LETTER_SCHEMA })
  @ApiIdempotencyKey()
  async redrive(@Param('id') raw: string, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const id = letterId(raw);
    await this.redriver.redrive(id, this.metadata.fromRequest(principal, request));
    return this.letters.get(id);
  }
}
