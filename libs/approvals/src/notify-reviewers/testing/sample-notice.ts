import type { ApprovalRequestedNotice, NoticeLinks } from '../approval-notice';

/** A comment written to break every channel's markup: HTML, Slack mrkdwn and mentions, Markdown links. */
export const HOSTILE_COMMENT = 'Ship it <script>alert("pwned")</script> & <!channel> [click me](https://evil.example/steal) **now**';

export const SAMPLE_DIGEST = 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

export const linksFor = (who: string, approvalId = 'apr-0001'): NoticeLinks => ({
  approve: `https://registry.example.com/api/v1/approvals/${approvalId}/approve?token=${who}-approve-token`,
  reject: `https://registry.example.com/api/v1/approvals/${approvalId}/reject?token=${who}-reject-token`,
  view: `https://registry.example.com/approvals/${approvalId}`,
});

/** An approval request for churn v7 → Production against champion v6, with evidence and checks. */
export const sampleNotice = (overrides: Partial<ApprovalRequestedNotice> = {}): ApprovalRequestedNotice => ({
  kind: 'approval-requested',
  id: 'ntc_apr-0001_requested',
  occurredAt: '2026-03-01T09:30:00.000Z',
  approvalId: 'apr-0001',
  model: 'churn',
  version: 7,
  purpose: 'promotion',
  targetStage: 'Production',
  requester: { kind: 'user', id: 'alice' },
  comment: HOSTILE_COMMENT,
  expiresAt: '2026-03-04T09:30:00.000Z',
  required: 1,
  collected: 0,
  evidence: { evaluationId: 'eval-7f3a', dataset: { name: 'churn-holdout', digest: SAMPLE_DIGEST }, championVersion: 6 },
  keyMetrics: [
    { metric: 'accuracy', candidate: 0.912, champion: 0.89, difference: 0.022, ci: { lower: 0.01, upper: 0.034, level: 0.95 } },
    { metric: 'roc_auc', candidate: 0.951, champion: 0.948, difference: 0.003, ci: { lower: -0.002, upper: 0.008, level: 0.95 } },
  ],
  checks: [
    { metric: 'accuracy', rule: 'threshold', passed: true, value: 0.912, expected: 0.85, detail: '0.912 >= 0.85' },
    { metric: 'roc_auc', rule: 'min_absolute_change', passed: true, value: 0.003, expected: 0, detail: '+0.003 >= 0 over v6' },
  ],
  links: linksFor('shared'),
  ...overrides,
});
