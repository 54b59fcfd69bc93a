export * from './approvals.module';
export { ApprovalsBusController } from './approvals.bus.controller';
export { APPROVAL_TIMERS } from './expire-approvals/approval-expiry';
export { APPROVAL_TIMER_KINDS, approvalTimerIds, EXPIRY_GRACE_MS } from './expire-approvals/approval-timers';
export { DecisionLinks, type DecisionLinkPair } from './decide-by-link/decision-links';
export { PeopleDirectory, type Person } from './manage-people/people-directory';
export { ApprovalBook, statusAt, type KnownApproval } from './follow-approvals/approval-book';
