import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MODEL_NAME_PATTERN } from '@mrw/contracts';
import { CurrentPrincipal, ModelScope, ProblemException, QueryText, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { LiveEventStreams } from './live-event-streams';

/** A global position of the log, as the stream's `id:` fields carry it. */
const POSITION = /^(0|[1-9][0-9]{0,19})$/;

export class EventStreamQuery {
  @QueryText({ maxLength: 128, pattern: MODEL_NAME_PATTERN, description: "only this model's events" })
  model?: string;

  @QueryText({
    maxLength: 20,
    pattern: POSITION,
    description: 'resume after this event id, for clients that cannot send the `Last-Event-ID` header (the header wins when both are given)',
  })
  lastEventId?: string;
}

const resumeAfter = (header: string | undefined, query: string | undefined): bigint | undefined => {
  // An EventSource sends the header on reconnection; it is newer than the id in the URL it first opened.
  if (header !== undefined && header !== '') {
    if (!POSITION.test(header)) {
      throw new ProblemException('VALIDATION_FAILED', `Last-Event-ID: ${header.slice(0, 40)} is not an event id of this stream`, {
        errors: [{ field: 'Last-Event-ID', message: `must match ${POSITION.source}` }],
      });
    }
    return BigInt(header);
  }
  return query === undefined ? undefined : BigInt(query);
};

const EXAMPLE =
  'retry: 2000\n: events after position 41\n\nid: 42\nevent: StageTransitioned\ndata: {"position":42,"stream":"modelVersion-churn@3","revision":4,"model":"churn","version":3,"type":"StageTransitioned","actor":{"kind":"user","id":"carol"},"occurredAt":"2026-11-27T12:00:00.000Z","eventId":"…","hash":"…","data":{"fromStage":"None","toStage":"Staging"}}\n\n: heartbeat\n\n';

/** The lifecycle as it happens, for the console and anyone watching: Server-Sent Events. */
@ApiTags('events')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('api/v1')
export class StreamEventsController {
  constructor(private readonly streams: LiveEventStreams) {}

  /**
   * Without `Last-Event-ID` the stream starts at the head of the log (live only); with it, it
   * catches up from that position first. A scoped token sees its models' events only.
   */
  @Get('events/stream')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'Server-Sent Events, open until the client leaves: one message per event of the model and model-version streams ' +
      '(`id:` its global position, `event:` its type, `data:` the entry as GET /api/v1/audit shows it, secrets redacted), ' +
      'a `: heartbeat` comment every 15 s (MRW_EVENT_STREAM_HEARTBEAT). Reconnect with `Last-Event-ID` to resume without loss or duplicates.',
    content: { 'text/event-stream': { schema: { type: 'string', example: EXAMPLE } } },
  })
  @ApiResponse({ status: 429, description: 'This process already serves its maximum of live streams (MRW_EVENT_STREAMS_MAX); retry after `Retry-After` seconds' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'resume after this event id (the `id:` of the last message received)',
    schema: { type: 'string', pattern: POSITION.source, maxLength: 20 },
  })
  @ModelScope({ query: 'model' })
  async stream(
    @Query() query: EventStreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Res() response: Response,
  ): Promise<void> {
    const after = resumeAfter(lastEventId, query.lastEventId);
    await this.streams.serve({ after, models: query.model ? [query.model] : scopeFilter(principal), tokenId: principal.tokenId }, response);
  }
}
