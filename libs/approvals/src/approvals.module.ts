import { Module } from '@nestjs/common';
import { durableTimersProviders } from '@mrw/platform';
import { ApprovalsBusController } from './approvals.bus.controller';
import { APPROVAL_TIMERS, ApprovalExpiry } from './expire-approvals/approval-expiry';
import { DecisionLinkController } from './decide-by-link/decision-link.http.controller';
import { DecisionLinkUses } from './decide-by-link/decision-link-uses';
import { DecisionLinks } from './decide-by-link/decision-links';
import { ApprovalBook } from './follow-approvals/approval-book';
import { ApprovalBookFeed } from './follow-approvals/approval-book.feed';
import { PeopleDirectory } from './manage-people/people-directory';
import { NoticeOutcomes } from './notify-reviewers/notice-outcomes';
import { NotifyReviewers } from './notify-reviewers/notify-reviewers';
import { ReviewFacts } from './notify-reviewers/review-facts';
import { PeopleFeed } from './manage-people/people.feed';
import { PeopleHandler } from './manage-people/people.handler';
import { PeopleController } from './manage-people/people.http.controller';
import { CommandRefusals } from './relay-decisions/command-refusals';
import { DecisionRelay } from './relay-decisions/decision-relay';
import { SlackInteractivityController } from './slack-interactivity/slack-interactivity.http.controller';

/** The approvals service: consumer group `mrw-approvals` on the registry's events, and its durable timers. */
@Module({
  controllers: [ApprovalsBusController, PeopleController, DecisionLinkController, SlackInteractivityController],
  providers: [
    ...durableTimersProviders(APPROVAL_TIMERS, 'approvals'),
    ApprovalExpiry,
    // What the service knows, folded from the log: approvals and decisions, refusals of its commands, people.
    ApprovalBook,
    CommandRefusals,
    ApprovalBookFeed,
    PeopleDirectory,
    PeopleFeed,
    PeopleHandler,
    // Telling reviewers, on the channels the approval rule names.
    ReviewFacts,
    NotifyReviewers,
    NoticeOutcomes,
    // People's decisions from links and chat, relayed to the registry.
    DecisionRelay,
    DecisionLinks,
    DecisionLinkUses,
  ],
  exports: [APPROVAL_TIMERS, DecisionLinks, PeopleDirectory, ApprovalBook],
})
export class ApprovalsModule {}
