import { applyDecorators, Body, Catch, Controller, Get, Inject, Param, Post, Query, Res, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { currentCorrelationId } from '@mrw/logging';
import { ApiProblems, CLOCK, FORM_MEDIA_TYPE, ProblemException, ProblemFilter, Public, statusForCode, type Clock } from '@mrw/platform';
import { ApprovalBook, statusAt, type KnownApproval } from '../follow-approvals/approval-book';
import { DecisionRelay } from '../relay-decisions/decision-relay';
import { DecisionLinkForm, DecisionLinkQuery } from './decision-link.dto';
import { confirmationPage, outcomePage, refusalPage, sendPage } from './decision-link.page';
import { DecisionLinkUses } from './decision-link-uses';
import { DecisionLinks, LINK_DECISIONS, linkCommandId, type DecisionLinkClaims, type LinkDecision } from './decision-links';

/** How long a link's POST waits for the registry's answer before saying "sent". */
export const LINK_OUTCOME_WAIT_MS = 5_000;

/**
 * Refusals of link routes as a page for browsers (they prefer text/html) and as a problem
 * document for everyone else (`Accept: *\/*` prefers problem+json), so scripts and the API's
 * conventions still hold.
 */
@Catch()
export class LinkPageFilter implements ExceptionFilter {
  private readonly problems = new ProblemFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    if (exception instanceof ProblemException && request.accepts(['application/problem+json', 'application/json', 'text/html']) === 'text/html') {
      const page = refusalPage(exception.status, exception.code, exception.message);
      sendPage(host.switchToHttp().getResponse<Response>(), exception.status, page.title, page.body);
      return;
    }
    this.problems.catch(exception, host);
  }
}

const LinkParams = (): MethodDecorator =>
  applyDecorators(
    ApiParam({ name: 'approvalId', schema: { type: 'string', format: 'uuid' } }),
    ApiParam({ name: 'decision', schema: { type: 'string', enum: [...LINK_DECISIONS] } }),
  );

const HTML = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

/**
 * One-click decision links from notifications, for people without a token at hand: `GET` shows
 * what would be decided and a button, and decides nothing (mail scanners and link previews
 * follow links); `POST` from that page decides, once, as the person the link was sent to,
 * relayed to the registry which applies every rule as on the API. No bearer token: the signed,
 * expiring, single-use link is the credential, and there is no ambient one for a forged form
 * to ride on.
 */
@Public()
@ApiTags('approvals')
@UseFilters(LinkPageFilter)
@Controller('api/v1/approval-links')
export class DecisionLinkController {
  constructor(
    private readonly links: DecisionLinks,
    private readonly uses: DecisionLinkUses,
    private readonly book: ApprovalBook,
    private readonly relay: DecisionRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':approvalId/:decision')
  @LinkParams()
  @ApiProduces('text/html')
  @ApiOkResponse(HTML('The confirmation page: the model, version and evidence, and a button; nothing is decided'))
  @ApiProblems(403, 404, 409, 410)
  async show(@Param('approvalId') approvalId: string, @Param('decision') decision: string, @Query() query: DecisionLinkQuery, @Res() response: Response) {
    const { claims, approval } = await this.check(approvalId, decision, query.token);
    const page = confirmationPage(approval, claims.dec, claims.sub, query.token);
    sendPage(response, 200, page.title, page.body);
  }

  @Post(':approvalId/:decision')
  @LinkParams()
  @ApiConsumes(FORM_MEDIA_TYPE)
  @ApiBody({ type: DecisionLinkForm })
  @ApiProduces('text/html')
  @ApiOkResponse(HTML('Recorded: what the registry recorded'))
  @ApiResponse({ status: 202, ...HTML('Sent: the registry will record it shortly') })
  @ApiProblems(403, 404, 409, 410, 503)
  async decide(
    @Param('approvalId') approvalId: string,
    @Param('decision') decision: string,
    @Body() form: DecisionLinkForm,
    @Res() response: Response,
  ) {
    const { claims, approval } = await this.check(approvalId, decision, form.token);
    const correlationId = currentCorrelationId();
    await this.uses.claim(claims, correlationId);
    let outcome;
    try {
      outcome = await this.relay.relay(
        {
          approval,
          subject: claims.sub,
          decision: claims.dec,
          comment: form.comment ?? '',
          channel: 'link',
          commandId: linkCommandId(claims.non),
          correlationId,
        },
        LINK_OUTCOME_WAIT_MS,
      );
    } catch (error) {
      await this.uses.release(claims, `not sent: ${(error as Error)?.message ?? String(error)}`, correlationId);
      throw new ProblemException('SERVICE_UNAVAILABLE', 'The registry could not be reached, so nothing was decided and the link is still good: try it again in a moment.', {}, 503);
    }
    if (outcome.kind === 'refused') {
      const { code, message } = outcome.refusal;
      throw new ProblemException(code, `The registry did not record your decision: ${message}`, {}, statusForCode(code));
    }
    const page =
      outcome.kind === 'recorded'
        ? outcomePage(approval, { kind: 'recorded', decision: claims.dec, ...pick(outcome.decision) })
        : outcomePage(approval, { kind: 'sent', decision: claims.dec });
    sendPage(response, outcome.kind === 'recorded' ? 200 : 202, page.title, page.body);
  }

  /**
   * A genuine, unexpired, unused link for this approval and decision, whose approval can still
   * be decided; refusals in that order, so a used link says it was used even once its approval
   * has closed.
   */
  private async check(approvalId: string, decision: string, token: string): Promise<{ claims: DecisionLinkClaims; approval: KnownApproval }> {
    if (!(LINK_DECISIONS as readonly string[]).includes(decision)) {
      throw new ProblemException('NOT_FOUND', `a link decides approve or reject, not ${decision.slice(0, 40)}`, {}, 404);
    }
    const claims = this.links.verify(token, approvalId, decision as LinkDecision, this.clock.now());
    await this.uses.assertUnused(claims);
    const approval = this.book.get(claims.aid);
    if (!approval) throw new ProblemException('APPROVAL_NOT_FOUND', 'This approval request is not known here (yet); try again in a moment.');
    const status = statusAt(approval, this.clock.now());
    if (status !== 'pending') {
      throw new ProblemException('APPROVAL_CLOSED', `This request is no longer open (${status}), so this link decides nothing.`, { status }, 409);
    }
    return { claims, approval };
  }
}

const pick = (decision: { count?: number; required?: number }) => ({
  ...(decision.count !== undefined ? { count: decision.count } : {}),
  ...(decision.required !== undefined ? { required: decision.required } : {}),
});
