import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { MODEL_NAME_PATTERN, modelVersionStream } from '@mrw/contracts';
import { EVENT_STORE, verifyChain, type EventStore, type RecordedEvent } from '@mrw/event-store';
import type { Request } from 'express';
import { CurrentPrincipal, logHeadOf, ModelScope, QueryInteger, QueryText, RequireRole, scopeFilter, type AuthPrincipal } from '@mrw/platform';
import { RegistryStreams } from '../application/registry-streams';
import { AUDIT_SEARCH_SCHEMA, CHAIN_VERIFICATION_SCHEMA, STREAM_AUDIT_SCHEMA } from '../shared/api-schemas';
import { ApiPathParams, parseAsOf, parseModelName, parseVersion, TIMESTAMP } from '../shared/http-params';
import { AuditQueries } from './audit.queries';

export class AuditQuery {
  @QueryText({ maxLength: 128, pattern: MODEL_NAME_PATTERN })
  model?: string;

  @QueryText({ maxLength: 256, description: 'actor id (token subject or service name)' })
  actor?: string;

  @QueryText({ maxLength: 81, pattern: /^[A-Z][A-Za-z]{1,80}$/, example: 'ApprovalGranted' })
  type?: string;

  @QueryText({ maxLength: 40, pattern: TIMESTAMP, example: '2026-11-01T00:00:00Z' })
  since?: string;

  @QueryText({ maxLength: 40, pattern: TIMESTAMP, example: '2026-11-30T00:00:00Z' })
  until?: string;

  @QueryInteger({ min: 0, max: Number.MAX_SAFE_INTEGER, description: 'cursor: the `next` of the previous page' })
  after?: number;

  @QueryInteger({ min: 1, max: 1000, default: 100 })
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
  @ApiOkResponse({ description: "The version's stream, every event with its hash", schema: STREAM_AUDIT_SCHEMA })
  @ApiPathParams.modelVersion()
  @ModelScope({ param: 'name' })
  async versionAudit(@Param('name') name: string, @Param('version') version: string) {
    const model = parseModelName(name);
    const v = parseVersion(version);
    await this.streams.existingVersion(model, v);
    const events = await this.store.readStream(modelVersionStream(model, v));
    return { stream: modelVersionStream(model, v), events: events.map(auditEntry) };
  }

  @Get('models/:name/versions/:version/audit/verify')
  @ApiOkResponse({ description: 'The hash-chain verdict', schema: CHAIN_VERIFICATION_SCHEMA })
  @ApiPathParams.modelVersion()
  @ModelScope({ param: 'name' })
  async verify(@Param('name') name: string, @Param('version') version: string) {
    const model = parseModelName(name);
    const v = parseVersion(version);
    await this.streams.existingVersion(model, v);
    const stream = modelVersionStream(model, v);
    return { stream, ...verifyChain(await this.store.readStream(stream)) };
  }

  /** A scoped caller sees its models' events only; token and set events belong to no model. */
  @Get('audit')
  @ApiOkResponse({ schema: AUDIT_SEARCH_SCHEMA })
  @ModelScope({ query: 'model' })
  search(@Query() query: AuditQuery, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    const scope = scopeFilter(principal);
    const since = parseAsOf(query.since, 'since');
    const until = parseAsOf(query.until, 'until');
    return this.audit.search(
      {
        ...(query.model ? { model: query.model } : {}),
        ...(scope ? { scope } : {}),
        ...(query.actor ? { actor: query.actor } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(query.after !== undefined ? { after: query.after } : {}),
        limit: query.limit ?? 100,
      },
      // Read by the replicas' catch-up as the request arrived (PostgreSQL): not read twice.
      logHeadOf(request),
    );
  }
}
