import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { modelVersionStream } from '@mrw/contracts';
import { EVENT_STORE, verifyChain, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { RequireRole } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { parseAsOf, parseModelName, parseVersion } from '../shared/http-params';
import { AuditQueries } from './audit.queries';

export class AuditQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) model?: string;
  @ApiPropertyOptional({ description: 'actor id (token subject or service name)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor?: string;
  @ApiPropertyOptional({ example: 'ApprovalGranted' })
  @IsOptional()
  @Matches(/^[A-Z][A-Za-z]{1,80}$/)
  type?: string;
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z' }) @IsOptional() @IsString() since?: string;
  @ApiPropertyOptional({ example: '2026-11-30T00:00:00Z' }) @IsOptional() @IsString() until?: string;
  @ApiPropertyOptional({ description: 'cursor: the `next` of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;
  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

const auditEntry = (e: RecordedEvent) => ({
  position: Number(e.position),
  revision: e.revision,
  type: e.type,
  occurredAt: e.metadata.occurredAt,
  actor: e.metadata.actor,
  eventId: e.metadata.eventId,
  correlationId: e.metadata.correlationId,
  causationId: e.metadata.causationId,
  prevHash: e.metadata.prevHash,
  hash: e.metadata.hash,
  data: e.data,
});

/** Who did what, when, on what evidence: the streams themselves, and an index over all of them. */
@ApiTags('audit')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('api/v1')
export class AuditTrailController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly streams: RegistryStreams,
    private readonly audit: AuditQueries,
  ) {}

  @Get('models/:name/versions/:version/audit')
  async versionAudit(@Param('name') name: string, @Param('version') version: string) {
    const model = parseModelName(name);
    const v = parseVersion(version);
    await this.streams.existingVersion(model, v);
    const events = await this.store.readStream(modelVersionStream(model, v));
    return { stream: modelVersionStream(model, v), events: events.map(auditEntry) };
  }

  @Get('models/:name/versions/:version/audit/verify')
  async verify(@Param('name') name: string, @Param('version') version: string) {
    const model = parseModelName(name);
    const v = parseVersion(version);
    await this.streams.existingVersion(model, v);
    const stream = modelVersionStream(model, v);
    return { stream, ...verifyChain(await this.store.readStream(stream)) };
  }

  @Get('audit')
  search(@Query() query: AuditQuery) {
    const since = parseAsOf(query.since);
    const until = parseAsOf(query.until);
    return this.audit.search({
      ...(query.model ? { model: query.model } : {}),
      ...(query.actor ? { actor: query.actor } : {}),
      ...(query.type ? { type: query.type } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(query.after !== undefined ? { after: query.after } : {}),
      limit: query.limit ?? 100,
    });
  }
}
