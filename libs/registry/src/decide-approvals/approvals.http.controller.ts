import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { isUuid } from '@mrw/contracts';
import {
  CurrentPrincipal,
  inScope,
  ModelScope,
  ProblemException,
  RequireRole,
  scopeFilter,
  SUITE_CONFIG,
  type AuthPrincipal,
  type SuiteConfig,
} from '@mrw/platform';
import { CommandMetadataFactory } from '../application/command-metadata.factory';
import { RegistryStreams } from '../application/registry-streams';
import { RegistryProjector } from '../projections/registry-projector';
import { ApiIdempotencyKey, APPROVAL_LIST_SCHEMA, APPROVAL_SCHEMA } from '../shared/api-schemas';
import { ApprovalQueries, type ApprovalSummary } from './approval.queries';
import { ApprovalsQuery, DecideApprovalDto } from './decide-approval.dto';

/**
 * The reviewers' inbox and their decisions. A decision is the registry's domain command with
 * the person as actor and `api` as its channel: segregation of duties (APPROVER_IS_REQUESTER,
 * APPROVER_IS_REGISTRANT), reviewer groups and scope, one vote per person (ALREADY_APPROVED),
 * expiry and evidence pinning are the decider's rules, answered with their codes.
 */
@ApiTags('approvals')
@ApiBearerAuth()
@ModelScope('no-single-model')
@Controller('api/v1/approvals')
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalQueries,
    private readonly streams: RegistryStreams,
    private readonly metadata: CommandMetadataFactory,
    private readonly projector: RegistryProjector,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ schema: APPROVAL_LIST_SCHEMA })
  list(@Query() query: ApprovalsQuery, @CurrentPrincipal() principal: AuthPrincipal) {
    if (query.model && !inScope(principal, query.model)) throw outOfScope(principal, query.model);
    const scope = scopeFilter(principal);
    const page = this.approvals.list({
      ...(query.status ? { status: query.status } : {}),
      ...(query.model ? { model: query.model } : {}),
      ...(query.reviewer === 'me' ? { reviewer: principal } : {}),
      ...(scope ? { scope } : {}),
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    });
    return { total: page.total, items: page.items.map((a) => this.view(a)) };
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ schema: APPROVAL_SCHEMA })
  get(@Param('id') id: string, @CurrentPrincipal() principal: AuthPrincipal) {
    return this.view(this.find(id, principal));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @RequireRole('reviewer')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ description: 'The request after the decision (approved once the quorum is reached)', schema: APPROVAL_SCHEMA })
  @ApiBody({ type: DecideApprovalDto, required: false })
  @ApiIdempotencyKey()
  approve(@Param('id') id: string, @Body() body: DecideApprovalDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    return this.decide('GrantApproval', id, body, principal, request);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @RequireRole('reviewer')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ description: 'The request, rejected: any rejection closes it', schema: APPROVAL_SCHEMA })
  @ApiBody({ type: DecideApprovalDto, required: false })
  @ApiIdempotencyKey()
  reject(@Param('id') id: string, @Body() body: DecideApprovalDto, @CurrentPrincipal() principal: AuthPrincipal, @Req() request: Request) {
    return this.decide('RejectApproval', id, body, principal, request);
  }

  private async decide(
    type: 'GrantApproval' | 'RejectApproval',
    id: string,
    body: DecideApprovalDto,
    principal: AuthPrincipal,
    request: Request,
  ) {
    const approval = this.find(id, principal);
    const metadata = this.metadata.fromRequest(principal, request);
    const reviewer = { roles: principal.roles, models: principal.models };
    const decision = { approvalId: approval.id, comment: body.comment ?? '', principal: reviewer, channel: 'api' as const };
    const result =
      type === 'GrantApproval'
        ? await this.streams.executeVersion(approval.model, approval.version, {
            type,
            data: { ...decision, context: await this.streams.gateContext(await this.streams.existingModel(approval.model)) },
            metadata,
          })
        : await this.streams.executeVersion(approval.model, approval.version, { type, data: decision, metadata });
    await this.projector.waitFor(result.position);
    return this.view(this.find(id, principal));
  }

  private find(id: string, principal: AuthPrincipal): ApprovalSummary {
    const approval = isUuid(id) ? this.approvals.get(id) : undefined;
    if (!approval) throw new ProblemException('APPROVAL_NOT_FOUND', `no approval request ${id.slice(0, 100)}`);
    if (!inScope(principal, approval.model)) throw outOfScope(principal, approval.model);
    return approval;
  }

  private view(approval: ApprovalSummary) {
    const api = `${this.config.publicUrl}/api/v1`;
    return {
      ...approval,
      links: {
        self: `${api}/approvals/${approval.id}`,
        approve: `${api}/approvals/${approval.id}/approve`,
        reject: `${api}/approvals/${approval.id}/reject`,
        version: `${api}/models/${approval.model}/versions/${approval.version}`,
      },
    };
  }
}

const outOfScope = (principal: AuthPrincipal, model: string): ProblemException =>
  new ProblemException('MODEL_OUT_OF_SCOPE', `this token is limited to the models ${principal.models.join(', ')}; it cannot act on or see ${model}`, { model });
