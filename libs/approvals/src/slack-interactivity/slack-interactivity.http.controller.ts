import { Controller, HttpCode, Inject, Logger, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { Request } from 'express';
import { deriveId, isUuid } from '@mrw/contracts';
import { currentLogContext } from '@mrw/logging';
import { ApiProblems, CLOCK, FORM_MEDIA_TYPE, ProblemException, Public, rawBodyOf, SUITE_CONFIG, type Clock, type SuiteConfig } from '@mrw/platform';
import { ApprovalBook, statusAt, type KnownApproval } from '../follow-approvals/approval-book';
import { PeopleDirectory, type Person } from '../manage-people/people-directory';
import { SLACK_ACTIONS } from '../notify-reviewers/render-slack';
import { DecisionRelay, type RelayOutcome } from '../relay-decisions/decision-relay';
import { verifySlackRequest } from './slack-signature';

/** How long a click waits for the registry's answer: Slack wants an answer within 3 seconds. */
export const SLACK_OUTCOME_WAIT_MS = 2_000;

/** The answer to an interaction: a message that replaces the clicked one, or is shown to the clicker only. */
export interface SlackReply {
  readonly response_type: 'ephemeral' | 'in_channel';
  readonly replace_original: boolean;
  readonly text: string;
}

const SLACK_REPLY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['response_type', 'replace_original', 'text'],
  properties: {
    response_type: { type: 'string', enum: ['ephemeral', 'in_channel'] },
    replace_original: { type: 'boolean' },
    text: { type: 'string' },
  },
};

/** Only the clicker sees it; the message with its buttons stays for the other reviewers. */
const toClicker = (text: string): SlackReply => ({ response_type: 'ephemeral', replace_original: false, text });

interface BlockActions {
  readonly type?: unknown;
  readonly user?: { readonly id?: unknown };
  readonly trigger_id?: unknown;
  readonly actions?: ReadonlyArray<{ readonly action_id?: unknown; readonly value?: unknown; readonly action_ts?: unknown }>;
}

const readPayload = (body: unknown): BlockActions => {
  const payload = (body as { payload?: unknown } | undefined)?.payload;
  let parsed: unknown;
  try {
    parsed = typeof payload === 'string' ? JSON.parse(payload) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProblemException('VALIDATION_FAILED', 'the request is invalid: payload: must be the interaction as a JSON object', {
      errors: [{ field: 'payload', message: 'must be the interaction as a JSON object' }],
    });
  }
  return parsed as BlockActions;
};

/**
 * Slack's interactivity endpoint (`POST /api/v1/integrations/slack/interactivity`): the
 * Approve/Reject buttons of approval messages. Slack signs each request (`v0`, with the app's
 * signing secret) instead of sending a bearer token; the clicking Slack user is mapped to a
 * registry subject through the people directory, and the decision is relayed as that person's,
 * through channel `slack`. Slack may deliver one click again: the command id comes from the
 * click (trigger and action time), so it decides once.
 */
@Public()
@ApiTags('integrations')
@Controller('api/v1/integrations/slack')
export class SlackInteractivityController {
  private readonly logger = new Logger('slack-interactivity');

  constructor(
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly people: PeopleDirectory,
    private readonly book: ApprovalBook,
    private readonly relay: DecisionRelay,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('interactivity')
  @HttpCode(200)
  @ApiConsumes(FORM_MEDIA_TYPE)
  @ApiBody({ schema: { type: 'object', required: ['payload'], properties: { payload: { type: 'string', description: 'the interaction, as JSON' } } } })
  @ApiOkResponse({ description: 'What was recorded, as a Slack message', schema: SLACK_REPLY_SCHEMA })
  @ApiProblems(401, 404)
  async interact(@Req() request: Request): Promise<SlackReply> {
    const secret = this.config.slackSigningSecret;
    if (!secret) throw new ProblemException('SLACK_NOT_CONFIGURED', 'Slack interactivity is off: set MRW_SLACK_SIGNING_SECRET to the Slack app\'s signing secret', {}, 404);
    const verdict = verifySlackRequest(
      secret,
      { timestamp: request.header('x-slack-request-timestamp'), signature: request.header('x-slack-signature') },
      rawBodyOf(request) ?? Buffer.alloc(0),
      this.clock.now(),
    );
    if (!verdict.ok) {
      throw verdict.reason === 'BAD_TIMESTAMP' || verdict.reason === 'TIMESTAMP_OUT_OF_RANGE'
        ? new ProblemException('SLACK_TIMESTAMP_INVALID', 'the request is more than 5 minutes old (or its X-Slack-Request-Timestamp is unreadable): a replay is refused', {}, 401)
        : new ProblemException('SLACK_SIGNATURE_INVALID', 'the request is not signed with this Slack app\'s signing secret', {}, 401);
    }
    const payload = readPayload(request.body);
    const action = payload.actions?.[0];
    // The buttons of render-slack: `action_id` names the decision, `value` is the approval id.
    const decision = action?.action_id === SLACK_ACTIONS.approve ? 'approve' : action?.action_id === SLACK_ACTIONS.reject ? 'reject' : undefined;
    const approvalId = typeof action?.value === 'string' ? action.value : '';
    if (payload.type !== 'block_actions' || !decision || !isUuid(approvalId)) {
      return toClicker('This registry only answers the Approve and Reject buttons of its approval messages.');
    }
    const slackUser = typeof payload.user?.id === 'string' ? payload.user.id : '';
    const person = this.people.bySlackUserId(slackUser);
    if (!person) {
      return toClicker(
        `Your Slack account (${slackUser.slice(0, 40) || 'unknown'}) is not linked to a registry identity, so nothing was decided. Ask a registry admin to add your Slack user id to the people directory.`,
      );
    }
    const click = `${String(payload.trigger_id ?? '')}|${String(action?.action_ts ?? '')}`;
    if (click === '|') return toClicker('This click carries neither a trigger nor an action time, so it cannot be told apart from a repeat; nothing was decided.');
    const commandId = deriveId(`slack|${slackUser}|${approvalId}|${decision}|${click}`, 'slack-decision');
    const known = this.relay.known(commandId);
    const approval = this.book.get(approvalId);
    if (!approval) return toClicker('This approval request is not known to the registry; nothing was decided.');
    if (known) return this.reply(known, approval, person, decision);
    const status = statusAt(approval, this.clock.now());
    if (status !== 'pending') return toClicker(`This request is no longer open (${status}); nothing was decided.`);
    const correlation = currentLogContext().correlationId;
    try {
      const outcome = await this.relay.relay(
        {
          approval,
          subject: person.subject,
          decision,
          comment: '',
          channel: 'slack',
          commandId,
          correlationId: typeof correlation === 'string' && isUuid(correlation) ? correlation : commandId,
        },
        SLACK_OUTCOME_WAIT_MS,
      );
      return this.reply(outcome, approval, person, decision);
    } catch (error) {
      this.logger.warn(`a Slack decision on ${approvalId} by ${person.subject} could not be sent: ${(error as Error)?.message ?? String(error)}`);
      return toClicker('The registry could not be reached, so nothing was decided; click again in a moment.');
    }
  }

  private reply(outcome: RelayOutcome, approval: KnownApproval, person: Person, decision: 'approve' | 'reject'): SlackReply {
    const what = `${approval.model} version ${approval.version}`;
    switch (outcome.kind) {
      case 'refused':
        return toClicker(`Not recorded: ${outcome.refusal.message} (${outcome.refusal.code})`);
      case 'sent':
        return toClicker(`Your decision to ${decision} ${what} was sent to the registry as ${person.subject} and will be recorded shortly.`);
      case 'recorded': {
        const d = outcome.decision;
        if (d.decision === 'reject') {
          return { response_type: 'in_channel', replace_original: true, text: `${person.subject} rejected ${what}; the request is closed.` };
        }
        const quorum = d.count !== undefined && d.required !== undefined && d.count >= d.required;
        // The buttons stay while other reviewers are needed; once the quorum is reached the message says so instead.
        return quorum
          ? { response_type: 'in_channel', replace_original: true, text: `${person.subject} approved ${what} (${d.count} of ${d.required}): the quorum is reached.` }
          : toClicker(`Your approval of ${what} is recorded (${d.count ?? '?'} of ${d.required ?? '?'}).`);
      }
    }
  }
}
