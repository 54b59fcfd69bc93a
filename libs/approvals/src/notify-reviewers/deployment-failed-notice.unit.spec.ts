import type { RecordedDecision } from '../follow-approvals/approval-book';
import { isDecidable } from './approval-notice';
import { deploymentFailedNotice, failureAudience, type DeploymentFailure } from './deployment-failed-notice';
import { renderEmail } from './render-email';
import { renderSlack } from './render-slack';
import { renderTeams } from './render-teams';
import { renderWebhook } from './render-webhook';

const REASON = 'webhook (production): https://deploy.example.com answered 400: bad request.';

const failure = (overrides: Partial<DeploymentFailure> = {}): DeploymentFailure => ({
  model: 'churn',
  version: 7,
  deployment: {
    deploymentId: 'dep-7',
    requestId: 'req-7',
    purpose: 'promotion',
    previousStage: 'Staging',
    replacing: 6,
    environment: 'production',
    target: 'webhook',
  },
  reason: REASON,
  failedAt: '2026-03-02T10:00:00.000Z',
  requester: { kind: 'user', id: 'carol' },
  comment: 'better recall',
  approvalId: 'apr-7',
  publicUrl: 'https://mrw.example.com',
  ...overrides,
});

const granted = (id: string): RecordedDecision => ({
  approvalId: 'apr-7',
  decision: 'approve',
  by: { kind: 'user', id },
  channel: 'link',
  comment: '',
  at: '2026-03-02T09:00:00.000Z',
  eventId: `evt-${id}`,
});

describe('the notice of a failed deployment', () => {
  const notice = deploymentFailedNotice(failure());

  it('says what failed, why, that the champion keeps serving and where the candidate went, and decides nothing', () => {
    expect(notice).toMatchObject({
      kind: 'deployment-failed',
      deploymentId: 'dep-7',
      approvalId: 'apr-7',
      requestId: 'req-7',
      servingVersion: 6,
      returnedTo: 'Staging',
      links: { view: 'https://mrw.example.com/api/v1/deployments/dep-7' },
      versionLink: 'https://mrw.example.com/api/v1/models/churn/versions/7',
    });
    expect(isDecidable(notice)).toBe(false);
  });

  it('by email: the reason, the champion that keeps serving, the stage, and links to the deployment and the version', () => {
    const email = renderEmail(notice);
    expect(email.subject).toBe('[model registry] Deployment failed: churn v7 → Production');
    expect(email.text).toContain(
      'The deployment of churn v7 failed on production (webhook): webhook (production): https://deploy.example.com answered 400: bad request. The champion v6 keeps serving; v7 went back to Staging.',
    );
    expect(email.text).toContain(`Reason: ${REASON}`);
    expect(email.text).toContain('Deployment: https://mrw.example.com/api/v1/deployments/dep-7');
    expect(email.text).toContain('Version: https://mrw.example.com/api/v1/models/churn/versions/7');
    expect(email.text).not.toMatch(/Approve:|Reject:|Evaluation set:/);
    expect(email.html).toContain('href="https://mrw.example.com/api/v1/deployments/dep-7"');
  });

  it('tells a rollback as one, and a first deployment as leaving nothing serving', () => {
    const rollback = renderEmail(
      deploymentFailedNotice(failure({ deployment: { ...failure().deployment, purpose: 'rollback', previousStage: 'Archived', replacing: 8 }, version: 5 })),
    );
    expect(rollback.subject).toBe('[model registry] Deployment failed: rollback of churn to v5');
    expect(rollback.text).toContain('The rollback of churn to v5 failed on production (webhook)');
    expect(rollback.text).toContain('The champion v8 keeps serving; v5 went back to Archived.');
    const first = renderEmail(deploymentFailedNotice(failure({ deployment: { ...failure().deployment, replacing: null } })));
    expect(first.text).toContain('No version of churn serves (none did before); v7 went back to Staging.');
  });

  it('in Slack and Teams: the same words, the facts, links to open and no decision buttons', () => {
    const slack = renderSlack(notice);
    const json = JSON.stringify(slack);
    expect(slack.text).toBe('Deployment failed: churn v7 → Production');
    expect(json).toContain('The champion v6 keeps serving; v7 went back to Staging.');
    expect(json).toContain('answered 400');
    expect(json).toContain('<https://mrw.example.com/api/v1/deployments/dep-7|View the deployment>');
    expect(json).toContain('<https://mrw.example.com/api/v1/models/churn/versions/7|View the version>');
    expect(slack.blocks.some((block) => block['type'] === 'actions')).toBe(false);
    const fields = slack.blocks.find((block) => Array.isArray(block['fields']))?.['fields'] as unknown[];
    expect(fields.length).toBeLessThanOrEqual(10);

    const teams = renderTeams(notice).attachments[0].content;
    expect(teams.actions.map((action) => action['title'])).toEqual(['Deployment', 'Version']);
  });

  it('as a generic webhook: `deployment.failed` with the deployment facts', () => {
    const payload = renderWebhook(notice);
    expect(payload.type).toBe('deployment.failed');
    expect(payload.data).toMatchObject({ approvalId: 'apr-7', requestId: 'req-7', reason: REASON });
    expect(payload.data.deployment).toEqual({
      id: 'dep-7',
      environment: 'production',
      target: 'webhook',
      reason: REASON,
      servingVersion: 6,
      returnedTo: 'Staging',
      versionLink: 'https://mrw.example.com/api/v1/models/churn/versions/7',
    });
    expect(renderWebhook(deploymentFailedNotice(failure({ approvalId: undefined }))).data.approvalId).toBeNull();
  });
});

describe('who hears of a failed deployment', () => {
  const email = [{ kind: 'email' as const }];

  it('the requester and the reviewers who approved, not the others of the group', () => {
    const audience = failureAudience({
      channels: email,
      requester: { kind: 'user', id: 'carol' },
      approval: { afterTheFact: false, approvals: [granted('rita')] },
      ruleReviewers: ['rita', 'ray'],
    });
    expect(audience).toEqual({ channels: email, reviewers: ['rita'], direct: ['carol'] });
  });

  it("an emergency rollback's requester and the rule's reviewers, as its review is after the fact", () => {
    const audience = failureAudience({
      channels: email,
      requester: { kind: 'user', id: 'dana' },
      approval: { afterTheFact: true, approvals: [] },
      ruleReviewers: ['rita', 'ray'],
    });
    expect(audience).toEqual({ channels: email, reviewers: ['rita', 'ray'], direct: ['dana'] });
  });

  it('nobody when the rule names no channel; a service requester is not emailed', () => {
    expect(failureAudience({ channels: [], requester: { kind: 'user', id: 'carol' }, approval: undefined, ruleReviewers: ['rita'] })).toBeUndefined();
    expect(failureAudience({ channels: email, requester: { kind: 'service', id: 'ci' }, approval: undefined, ruleReviewers: ['rita'] })?.direct).toEqual([]);
  });
});
