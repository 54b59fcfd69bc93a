import { modelStream, modelVersionStream, type Actor, type DomainEvent } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import {
  CANDIDATE,
  MODEL,
  approvalExpired,
  approvalGranted,
  approvalRejected,
  approvalRequested,
  bob,
  carol,
  deploymentFailed,
  deploymentRequested,
  deploymentStarted,
  deploymentSucceeded,
  evaluationCompleted,
  evaluationFailed,
  evaluationRequested,
  promotionRefused,
  servingEnded,
  stageTransitioned,
  tagSet,
  transitionRequested,
  versionRegistered,
} from '@mrw/testing';
import {
  SAMPLE_EVENT_ID,
  WEBHOOK_EVENT_NAMES,
  WEBHOOK_TEXT_LIMIT,
  isWebhookEventName,
  sampleEvent,
  webhookNamesOf,
  webhookPayload,
  type WebhookEventName,
} from './webhook-events';

const AT = '2025-03-04T10:00:00.000Z';
const VERSION_STREAM = modelVersionStream(MODEL, CANDIDATE);

/** An event as the store hands it to the delivery engine. */
const recorded = (
  event: DomainEvent,
  stream = VERSION_STREAM,
  actor: Actor = bob,
  change: Partial<Pick<RecordedEvent, 'revision' | 'position'>> = {},
): RecordedEvent => ({
  streamName: stream,
  revision: change.revision ?? 3,
  position: change.position ?? 9_007_199_254_740_993n,
  type: event.type,
  data: event.data,
  metadata: {
    eventId: '0b7f3a52-5d0e-4c4e-9a43-2f1c9f0e8d11',
    occurredAt: AT,
    actor,
    correlationId: 'corr-1',
    causationId: null,
    schemaVersion: 1,
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  },
});

const modelCreated = recorded(
  { type: 'ModelCreated', data: { model: MODEL, description: 'churn', tags: {} } },
  modelStream(MODEL),
  { kind: 'user', id: 'alice' },
);
const liveMetricBreached = recorded(
  {
    type: 'LiveMetricBreached',
    data: {
      metric: 'accuracy',
      direction: 'below',
      threshold: 0.85,
      window: { from: '2025-03-04T09:00:00.000Z', to: '2025-03-04T10:00:00.000Z', for: 'PT1H', samples: 12, worst: 0.812, mean: 0.83 },
      rollbackRequested: true,
    },
  },
  VERSION_STREAM,
  { kind: 'service', id: 'archival' },
);
const toProduction = recorded(
  stageTransitioned('Staging', 'Production', { kind: 'approval', requestId: 'req-prod', approvalId: 'appr-1' }),
  VERSION_STREAM,
  { kind: 'user', id: 'rita' },
);

/** Every event that has names, with its names, most specific first. */
const NAMED: Array<[string, RecordedEvent, WebhookEventName[]]> = [
  ['a registered version', recorded(versionRegistered()), ['MODEL_VERSION_CREATED']],
  [
    'a transition to Staging',
    recorded(stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'r' })),
    ['MODEL_VERSION_TRANSITIONED_TO_STAGING', 'MODEL_VERSION_TRANSITIONED_STAGE'],
  ],
  ['a transition to Production', toProduction, ['MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', 'MODEL_VERSION_TRANSITIONED_STAGE']],
  [
    'an archival',
    recorded(stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'superseded', detail: 'v8 took over' })),
    ['MODEL_VERSION_TRANSITIONED_TO_ARCHIVED', 'MODEL_VERSION_ARCHIVED', 'MODEL_VERSION_TRANSITIONED_STAGE'],
  ],
  [
    'a move to Archived by a rollback',
    recorded(stageTransitioned('Production', 'Archived', { kind: 'rollback', rollbackId: 'rb-1' })),
    ['MODEL_VERSION_TRANSITIONED_TO_ARCHIVED', 'MODEL_VERSION_ARCHIVED', 'MODEL_VERSION_TRANSITIONED_STAGE'],
  ],
  [
    'a return to Staging after a failed deployment',
    recorded(stageTransitioned('Production', 'Staging', { kind: 'deployment-failed', deploymentId: 'dep-1' })),
    ['MODEL_VERSION_TRANSITIONED_TO_STAGING', 'MODEL_VERSION_TRANSITIONED_STAGE'],
  ],
  [
    'a transition back to None',
    recorded(stageTransitioned('Staging', 'None', { kind: 'request', requestId: 'r' })),
    ['MODEL_VERSION_TRANSITIONED_STAGE'],
  ],
  [
    'a request for Production without a comment',
    recorded(transitionRequested('req-prod', 'Staging', 'Production')),
    ['TRANSITION_REQUEST_TO_PRODUCTION_CREATED', 'TRANSITION_REQUEST_CREATED'],
  ],
  [
    'a request for Staging with a blank comment',
    recorded(transitionRequested('req', 'None', 'Staging', bob, '   ')),
    ['TRANSITION_REQUEST_TO_STAGING_CREATED', 'TRANSITION_REQUEST_CREATED'],
  ],
  [
    'a request for Archived with a comment',
    recorded(transitionRequested('req', 'Production', 'Archived', bob, 'retired')),
    ['TRANSITION_REQUEST_TO_ARCHIVED_CREATED', 'TRANSITION_REQUEST_CREATED', 'COMMENT_CREATED'],
  ],
  ['a created model', modelCreated, ['REGISTERED_MODEL_CREATED']],
  ['a tag set', recorded(tagSet('team', 'retention')), ['MODEL_VERSION_TAG_SET']],
  ['a completed evaluation', recorded(evaluationCompleted('eval-1')), ['EVALUATION_COMPLETED']],
  ['a failed evaluation', recorded(evaluationFailed('eval-1', 'model file missing', 'ARTIFACT_NOT_FOUND')), ['EVALUATION_FAILED']],
  ['an approval request', recorded(approvalRequested('appr-1', 'req-prod')), ['APPROVAL_REQUESTED']],
  ['an approval without a comment', recorded(approvalGranted('appr-1', carol, 1)), ['APPROVAL_GRANTED']],
  [
    'an approval with a comment',
    recorded(approvalGranted('appr-1', carol, 1, 2, 'looks good')),
    ['APPROVAL_GRANTED', 'COMMENT_CREATED'],
  ],
  ['a rejection with a comment', recorded(approvalRejected('appr-1', carol, 'not yet')), ['APPROVAL_REJECTED', 'COMMENT_CREATED']],
  ['a rejection without a comment', recorded(approvalRejected('appr-1', carol, '')), ['APPROVAL_REJECTED']],
  ['an expired approval', recorded(approvalExpired('appr-1')), ['APPROVAL_EXPIRED']],
  ['a started deployment', recorded(deploymentStarted('dep-1')), ['DEPLOYMENT_STARTED']],
  ['a successful deployment', recorded(deploymentSucceeded('dep-1')), ['DEPLOYMENT_SUCCEEDED']],
  ['a failed deployment', recorded(deploymentFailed('dep-1', 'image pull failed')), ['DEPLOYMENT_FAILED']],
  ['a version rolled back from', recorded(servingEnded(6, 'dep-rb', 'rolled-back')), ['MODEL_VERSION_ROLLED_BACK']],
  ['a live metric breach', liveMetricBreached, ['LIVE_METRIC_BREACHED']],
];

describe('webhookNamesOf', () => {
  it.each(NAMED)('names %s', (_, event, names) => {
    expect(webhookNamesOf(event)).toEqual(names);
  });

  it('has an event for every name it lists', () => {
    const named = new Set(NAMED.flatMap(([, event]) => webhookNamesOf(event)));
    expect(WEBHOOK_EVENT_NAMES.filter((name) => !named.has(name))).toEqual([]);
  });

  it.each<[string, RecordedEvent]>([
    ['a superseded version (not a rollback)', recorded(servingEnded(8, 'dep-v8', 'superseded'))],
    ['an evaluation request', recorded(evaluationRequested('eval-1'))],
    ['a deployment request', recorded(deploymentRequested('dep-1', 'req-prod'))],
    ['a refused promotion', recorded(promotionRefused('req-prod', []))],
    ['a removed tag', recorded({ type: 'ModelVersionTagRemoved', data: { key: 'team' } })],
    [
      'an alias set on the model',
      recorded({ type: 'ModelAliasSet', data: { model: MODEL, alias: 'champion', version: 7, previousVersion: 5 } }, modelStream(MODEL)),
    ],
    [
      'a version-level type on the model stream',
      recorded(stageTransitioned('Staging', 'Production', { kind: 'request', requestId: 'r' }), modelStream(MODEL)),
    ],
    [
      'an access token',
      recorded({ type: 'AccessTokenIssued', data: { tokenId: 't', subject: 's', kind: 'user', roles: [], models: [] } }, 'accessToken-t'),
    ],
    ['a model event on an evaluation set stream', recorded(modelCreated, 'evaluationSet-churn-holdout')],
  ])('names nothing for %s', (_, event) => {
    expect(webhookNamesOf(event)).toEqual([]);
  });

  it.each(['tokenCredential-t1', 'person-carol', 'decisionLink-n0nce', 'deploymentRun-dep-1'])(
    'names nothing on the private stream %s, whatever the event',
    (stream) => {
      expect(webhookNamesOf(recorded(approvalGranted('appr-1', carol, 1, 2, 'ok'), stream))).toEqual([]);
      expect(webhookNamesOf(recorded(deploymentFailed('dep-1', 'boom'), stream))).toEqual([]);
    },
  );

  it('lists every name of the issue once, and only those are names', () => {
    expect(new Set(WEBHOOK_EVENT_NAMES).size).toBe(24);
    expect(isWebhookEventName('MODEL_VERSION_TRANSITIONED_TO_PRODUCTION')).toBe(true);
    expect(isWebhookEventName('MODEL_VERSION_DELETED')).toBe(false);
    expect(isWebhookEventName(42)).toBe(false);
  });
});

describe('webhookPayload', () => {
  const matched: WebhookEventName[] = ['MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', 'MODEL_VERSION_TRANSITIONED_STAGE'];

  it('describes a transition with Databricks keys and the audit trail ids', () => {
    expect(webhookPayload(toProduction, 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', 'hook-1', matched)).toEqual({
      event: 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION',
      webhook_id: 'hook-1',
      event_timestamp: Date.UTC(2025, 2, 4, 10, 0, 0),
      model_name: MODEL,
      version: '7',
      from_stage: 'Staging',
      to_stage: 'Production',
      text: 'churn-classifier v7 moved from Staging to Production (approval by rita)',
      event_id: '0b7f3a52-5d0e-4c4e-9a43-2f1c9f0e8d11',
      event_type: 'StageTransitioned',
      stream: VERSION_STREAM,
      revision: 3,
      position: '9007199254740993',
      occurred_at: AT,
      actor: { kind: 'user', id: 'rita' },
      correlation_id: 'corr-1',
      matched_events: matched,
      data: toProduction.data,
    });
  });

  it('serialises to JSON (the position is a string, not a bigint)', () => {
    const body = JSON.parse(JSON.stringify(webhookPayload(toProduction, 'MODEL_VERSION_TRANSITIONED_STAGE', 'hook-1', matched)));
    expect(body.position).toBe('9007199254740993');
    expect(body.data.trigger).toEqual({ kind: 'approval', requestId: 'req-prod', approvalId: 'appr-1' });
  });

  it('gives a transition request its stages', () => {
    const payload = webhookPayload(recorded(transitionRequested('req', 'None', 'Staging')), 'TRANSITION_REQUEST_CREATED', 'h', []);
    expect(payload).toMatchObject({ from_stage: 'None', to_stage: 'Staging', version: '7' });
  });

  it('leaves version and stages out of a model-level event', () => {
    const payload = webhookPayload(modelCreated, 'REGISTERED_MODEL_CREATED', 'hook-2', ['REGISTERED_MODEL_CREATED']);
    expect(payload).toMatchObject({ event: 'REGISTERED_MODEL_CREATED', model_name: MODEL, stream: modelStream(MODEL) });
    expect(Object.keys(payload)).not.toEqual(expect.arrayContaining(['version']));
    expect('version' in payload || 'from_stage' in payload || 'to_stage' in payload).toBe(false);
  });

  it('leaves stages out of version events that are not transitions', () => {
    const payload = webhookPayload(recorded(approvalRequested('appr-1', 'req-prod')), 'APPROVAL_REQUESTED', 'h', []);
    expect(payload.version).toBe('7');
    expect('from_stage' in payload || 'to_stage' in payload).toBe(false);
  });

  it('refuses an event of no model (a caller bug)', () => {
    expect(() => webhookPayload(recorded(modelCreated, 'evaluationSet-x'), 'REGISTERED_MODEL_CREATED', 'h', [])).toThrow(
      /evaluationSet-x/,
    );
  });
});

describe('webhook text', () => {
  const textOf = (event: RecordedEvent, name?: WebhookEventName): string =>
    webhookPayload(event, name ?? (webhookNamesOf(event)[0] as WebhookEventName), 'h', []).text;

  it.each<[string, RecordedEvent, string]>([
    ['a created model', modelCreated, 'Model churn-classifier created by alice'],
    [
      'a registered version',
      recorded(versionRegistered(), VERSION_STREAM, { kind: 'user', id: 'alice' }),
      'churn-classifier v7 registered by alice: gradient boosting on February features',
    ],
    ['a transition on approval', toProduction, 'churn-classifier v7 moved from Staging to Production (approval by rita)'],
    [
      'a transition on request',
      recorded(stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'r' })),
      'churn-classifier v7 moved from None to Staging (request by bob)',
    ],
    [
      'an archival',
      recorded(stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'superseded', detail: 'v8 took over serving' }), VERSION_STREAM, {
        kind: 'service',
        id: 'archival',
      }),
      'churn-classifier v7 moved from Production to Archived (archival: v8 took over serving)',
    ],
    [
      'a return after a failed deployment',
      recorded(stageTransitioned('Production', 'Staging', { kind: 'deployment-failed', deploymentId: 'dep-1' })),
      'churn-classifier v7 moved from Production to Staging (deployment dep-1 failed)',
    ],
    [
      'a transition request',
      recorded(transitionRequested('req', 'Staging', 'Production', bob, 'beats v5 on holdout')),
      'bob requested churn-classifier v7 move from Staging to Production: beats v5 on holdout',
    ],
    ['a tag', recorded(tagSet('team', 'retention')), 'churn-classifier v7: tag team set to retention by bob'],
    [
      'a passing evaluation',
      recorded(evaluationCompleted('eval-1')),
      'churn-classifier v7: evaluation completed on churn-holdout sha256:2735725c…: accuracy 0.93, roc_auc 0.954 (passed)',
    ],
    [
      'a failing evaluation',
      recorded(
        evaluationCompleted('eval-1', {
          verdict: {
            passed: false,
            checks: [{ metric: 'accuracy', rule: 'threshold', passed: false, value: 0.87, expected: 0.9, detail: '' }],
          },
        }),
      ),
      'churn-classifier v7: evaluation completed on churn-holdout sha256:2735725c…: accuracy 0.93 (failed: accuracy)',
    ],
    [
      'a failed evaluation',
      recorded(evaluationFailed('eval-1', 'model file missing', 'ARTIFACT_NOT_FOUND')),
      'churn-classifier v7: evaluation failed (ARTIFACT_NOT_FOUND): model file missing',
    ],
    [
      'an approval request',
      recorded(approvalRequested('appr-1', 'req-prod')),
      'churn-classifier v7: approval requested for Production by bob (2 approvals needed, expires 2025-03-06T09:06:00.000Z)',
    ],
    [
      'an after-the-fact review',
      recorded(approvalRequested('appr-2', 'rb-1', { purpose: 'rollback', afterTheFact: true, rule: { required: 1, reviewers: [], expiresIn: 'P1D' } })),
      'churn-classifier v7: after-the-fact review requested for an emergency rollback by bob (1 approval needed, expires 2025-03-06T09:06:00.000Z)',
    ],
    [
      'an approval',
      recorded(approvalGranted('appr-1', carol, 1, 2, 'solid gains', 'slack')),
      'churn-classifier v7: carol approved (1 of 2) via slack: solid gains',
    ],
    ['a rejection', recorded(approvalRejected('appr-1', carol, 'wait for the March data')), 'churn-classifier v7: carol rejected: wait for the March data'],
    [
      'an expiry',
      recorded(approvalExpired('appr-1')),
      'churn-classifier v7: approval appr-1 expired at 2025-03-06T09:06:00.000Z without a decision',
    ],
    ['a started deployment', recorded(deploymentStarted('dep-1')), 'churn-classifier v7: deployment to production started (kubernetes)'],
    [
      'a successful deployment',
      recorded(deploymentSucceeded('dep-1')),
      'churn-classifier v7: deployment dep-1 succeeded, serving at https://ml.example.com/churn',
    ],
    [
      'a failed deployment',
      recorded(deploymentFailed('dep-1', 'ImagePullBackOff')),
      'churn-classifier v7: deployment dep-1 failed: ImagePullBackOff',
    ],
    [
      'a rollback',
      recorded(servingEnded(6, 'dep-rb', 'rolled-back')),
      'churn-classifier v7 rolled back: v6 serves again (deployment dep-rb)',
    ],
    [
      'a live metric breach',
      liveMetricBreached,
      'churn-classifier v7: live accuracy stayed below 0.85 for PT1H (worst 0.812, mean 0.83, 12 samples); rollback requested',
    ],
  ])('tells %s in one sentence', (_, event, text) => {
    expect(textOf(event)).toBe(text);
  });

  it('tells a comment as a comment when delivered as COMMENT_CREATED', () => {
    expect(textOf(recorded(approvalRejected('appr-1', carol, 'wait for March')), 'COMMENT_CREATED')).toBe(
      'carol commented on churn-classifier v7: wait for March',
    );
    expect(textOf(recorded(transitionRequested('req', 'Staging', 'Production', bob, 'ship it')), 'COMMENT_CREATED')).toBe(
      'bob commented on churn-classifier v7: ship it',
    );
  });

  it.each<[string, RecordedEvent]>([
    ['a huge deployment failure reason', recorded(deploymentFailed('dep-1', 'x'.repeat(100_000)))],
    ['a huge evaluation failure reason', recorded(evaluationFailed('eval-1', 'y '.repeat(50_000), 'SCORING_FAILED'))],
    ['a huge comment', recorded(approvalGranted('appr-1', carol, 1, 2, 'z'.repeat(10_000)))],
    ['a huge tag', recorded(tagSet('k'.repeat(5_000), 'v'.repeat(5_000)))],
    ['a huge archival detail', recorded(stageTransitioned('Production', 'Archived', { kind: 'archival', rule: 'r', detail: 'd'.repeat(9_999) }))],
  ])('keeps the text within the limit for %s', (_, event) => {
    for (const name of webhookNamesOf(event)) {
      const text = textOf(event, name);
      expect(text.length).toBeLessThanOrEqual(WEBHOOK_TEXT_LIMIT);
      expect(text).toMatch(/…/);
    }
  });

  it('keeps the sentence around a long reason and the full reason in data', () => {
    const reason = 'r'.repeat(1_000);
    const payload = webhookPayload(recorded(deploymentFailed('dep-1', reason)), 'DEPLOYMENT_FAILED', 'h', []);
    expect(payload.text.startsWith('churn-classifier v7: deployment dep-1 failed: rrr')).toBe(true);
    expect(payload.data).toEqual({ deploymentId: 'dep-1', reason });
  });

  it('flattens a comment to one line and defuses chat mentions and links', () => {
    const text = textOf(recorded(approvalRejected('appr-1', carol, 'no\n\n<!channel> see <https://evil.example|docs>')));
    expect(text).toBe('churn-classifier v7: carol rejected: no ‹!channel› see ‹https://evil.example|docs›');
  });
});

describe('sampleEvent', () => {
  it('is a Staging → Production transition marked as a test', () => {
    const sample = sampleEvent('fraud', '2025-05-01T08:30:00.000Z');
    expect(sample).toMatchObject({ type: 'StageTransitioned', streamName: 'modelVersion-fraud@1' });
    expect(sample.metadata).toMatchObject({ eventId: SAMPLE_EVENT_ID, actor: { kind: 'service', id: 'webhook-test' } });
    expect(SAMPLE_EVENT_ID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(webhookNamesOf(sample)).toEqual(['MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', 'MODEL_VERSION_TRANSITIONED_STAGE']);

    const payload = webhookPayload(sample, 'MODEL_VERSION_TRANSITIONED_STAGE', 'hook-9', ['MODEL_VERSION_TRANSITIONED_STAGE']);
    expect(payload).toMatchObject({
      model_name: 'fraud',
      version: '1',
      from_stage: 'Staging',
      to_stage: 'Production',
      event_timestamp: Date.UTC(2025, 4, 1, 8, 30),
      text: '[test] fraud v1 moved from Staging to Production (request by webhook-test)',
    });
  });
});
