import { approvalIdOf, isDecidable } from './approval-notice';
import { liveMetricBreachedNotice, type LiveMetricBreach } from './live-metric-breached-notice';
import { renderEmail } from './render-email';
import { renderSlack } from './render-slack';
import { renderTeams } from './render-teams';
import { renderWebhook } from './render-webhook';

const WINDOW = { from: '2026-03-02T09:00:00.000Z', to: '2026-03-02T10:00:00.000Z', for: 'PT1H', samples: 12, worst: 0.71, mean: 0.78 };
const VERSION_LINK = 'https://mrw.example.com/api/v1/models/churn/versions/7';

const breach = (rollbackRequested: boolean): LiveMetricBreach => ({
  eventId: '0b6f7a4e-6a53-4f57-9f2f-6c1c7f2b9a10',
  occurredAt: '2026-03-02T10:00:01.000Z',
  model: 'churn',
  version: 7,
  data: { metric: 'accuracy', direction: 'below', threshold: 0.85, window: WINDOW, rollbackRequested },
  reportedBy: { kind: 'service', id: 'archival' },
  publicUrl: 'https://mrw.example.com',
});

describe('the notice of a live-metric breach on the serving version', () => {
  const notice = liveMetricBreachedNotice(breach(true));

  it('is about the breach event, decides nothing and records on no approval', () => {
    expect(notice).toMatchObject({ kind: 'live-metric-breached', id: '0b6f7a4e-6a53-4f57-9f2f-6c1c7f2b9a10', links: { view: VERSION_LINK } });
    expect(isDecidable(notice)).toBe(false);
    expect(approvalIdOf(notice)).toBeUndefined();
  });

  it('by email: the metric, its threshold, the window with its samples, the rollback, and a link to the version', () => {
    const email = renderEmail(notice);
    expect(email.subject).toBe('[model registry] Live metric breached: churn v7 accuracy below 0.8500');
    expect(email.text).toContain(
      'The live accuracy of churn v7, which serves, stayed below 0.8500 for PT1H, from 2026-03-02 09:00 UTC to 2026-03-02 10:00 UTC. ' +
        'The registry requested a rollback to the version that served before, under the rollback policy.',
    );
    for (const line of ['Version: v7 (serving)', 'Reported by: archival', 'Threshold: below 0.8500', 'Samples: 12', 'Worst: 0.7100', 'Mean: 0.7800', 'Rollback: requested', `Version: ${VERSION_LINK}`]) {
      expect(email.text).toContain(line);
    }
    expect(email.text).not.toMatch(/Approve:|Reject:|Requested by:|Target stage:/);
    const quiet = renderEmail(liveMetricBreachedNotice(breach(false)));
    expect(quiet.text).toContain('No rollback was requested: it keeps serving until someone acts.');
    expect(quiet.text).toContain('Rollback: not requested');
  });

  it('in Slack and Teams: the same words, the figures, a link to the version and no decision buttons', () => {
    const slack = renderSlack(notice);
    const json = JSON.stringify(slack);
    expect(slack.text).toBe('Live metric breached: churn v7 accuracy below 0.8500');
    expect(json).toContain('*Worst*\\n0.7100');
    expect(json).toContain(`<${VERSION_LINK}|View the version>`);
    expect(slack.blocks.some((block) => block['type'] === 'actions')).toBe(false);
    const teams = renderTeams(notice).attachments[0].content;
    expect(teams.actions.map((action) => action['title'])).toEqual(['Version']);
  });

  it('as a generic webhook: `live-metric.breached` with the breach, about no approval', () => {
    const payload = renderWebhook(notice);
    expect(payload.type).toBe('live-metric.breached');
    expect(payload.data).toMatchObject({ kind: 'live-metric-breached', approvalId: null, requestId: null, deployment: null });
    expect(payload.data.breach).toEqual({ metric: 'accuracy', direction: 'below', threshold: 0.85, window: WINDOW, rollbackRequested: true, versionLink: VERSION_LINK });
  });
});
