import { renderWebhook } from './render-webhook';
import { SAMPLE_DIGEST, sampleNotice } from './testing/sample-notice';

describe('renderWebhook', () => {
  it('is a Standard Webhooks payload {type, timestamp, data} with every field of the notice', () => {
    const payload = renderWebhook(sampleNotice());
    expect(payload.type).toBe('approval.requested');
    expect(payload.timestamp).toBe('2026-03-01T09:30:00.000Z');
    expect(payload.data).toMatchObject({
      kind: 'approval-requested',
      noticeId: 'ntc_apr-0001_requested',
      approvalId: 'apr-0001',
      requestId: null,
      model: 'churn',
      version: 7,
      targetStage: 'Production',
      requester: { kind: 'user', id: 'alice' },
      expiresAt: '2026-03-04T09:30:00.000Z',
      required: 1,
      collected: 0,
      reason: null,
      evidence: { evaluationId: 'eval-7f3a', dataset: { name: 'churn-holdout', digest: SAMPLE_DIGEST }, championVersion: 6 },
    });
    expect(payload.data.keyMetrics[0]).toEqual({ metric: 'accuracy', candidate: 0.912, champion: 0.89, difference: 0.022, ci: { lower: 0.01, upper: 0.034, level: 0.95 } });
  });

  it('names a refusal by its request, with no approval', () => {
    const payload = renderWebhook({ ...sampleNotice(), kind: 'gate-refused', requestId: 'req-9' });
    expect([payload.type, payload.data.approvalId, payload.data.requestId]).toEqual(['transition.refused', null, 'req-9']);
  });
});
