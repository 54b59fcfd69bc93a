import type { GateCheck } from '@mrw/contracts';
import type { Evaluation, ModelVersion, TransitionRequest, VersionApproval, VersionDeployment } from './api-types';
import { requestOutcome } from './follow-request';

const actor = { kind: 'user' as const, id: 'carol' };
const passed: GateCheck = { metric: 'evaluation', rule: 'completed', passed: true, detail: 'evaluation e1 completed' };
const missed: GateCheck = { metric: 'accuracy', rule: 'threshold', passed: false, value: 0.97, expected: 0.999, detail: 'accuracy 0.97 misses the threshold >= 0.999' };

const request = (over: Partial<TransitionRequest>): TransitionRequest => ({
  id: 'r1',
  kind: 'transition',
  fromStage: 'Staging',
  toStage: 'Production',
  status: 'evaluating',
  comment: '',
  requestedBy: actor,
  requestedAt: '2026-11-30T00:00:00Z',
  evaluationId: null,
  approvalId: null,
  deploymentId: null,
  ...over,
});

const evaluation = (over: Partial<Evaluation>): Evaluation => ({
  id: 'e1',
  status: 'completed',
  set: { name: 'holdout' },
  championVersion: null,
  requestedAt: '2026-11-30T00:00:00Z',
  finishedAt: '2026-11-30T00:00:01Z',
  progress: null,
  metrics: { accuracy: 0.97 },
  comparison: null,
  verdict: { passed: true, checks: [] },
  ...over,
});

const version = (r: TransitionRequest, extra: { evaluations?: Evaluation[]; approvals?: VersionApproval[]; deployments?: VersionDeployment[] } = {}): ModelVersion =>
  ({
    model: 'churn',
    version: 2,
    stage: 'Staging',
    requests: [r],
    evaluations: extra.evaluations ?? [],
    approvals: extra.approvals ?? [],
    deployments: extra.deployments ?? [],
  }) as unknown as ModelVersion;

/** How `mrw promote --wait` and the SDK read a request: in flight, or ended and how. */
describe('requestOutcome', () => {
  it.each(['evaluating', 'awaiting-approval', 'deploying'] as const)('is undefined while the request is %s', (status) => {
    expect(requestOutcome(version(request({ status })), 'r1')).toBeUndefined();
  });

  it('succeeds when a request completes (a Staging one with a passing evaluation, or none)', () => {
    expect(requestOutcome(version(request({ status: 'completed' })), 'r1')?.kind).toBe('succeeded');
    const staged = request({ toStage: 'Staging', status: 'completed', evaluationId: 'e1' });
    expect(requestOutcome(version(staged, { evaluations: [evaluation({})] }), 'r1')?.kind).toBe('succeeded');
  });

  it('counts a Staging request whose evaluation failed its thresholds as refused, with the failing checks', () => {
    const staged = request({ toStage: 'Staging', status: 'completed', evaluationId: 'e1' });
    const outcome = requestOutcome(version(staged, { evaluations: [evaluation({ verdict: { passed: false, checks: [passed, missed] } })] }), 'r1');
    expect(outcome).toMatchObject({ kind: 'refused', checks: [missed], reasons: [missed.detail] });
  });

  it('counts a Staging request whose evaluation could not run as failed, with the reason', () => {
    const staged = request({ toStage: 'Staging', status: 'completed', evaluationId: 'e1' });
    const outcome = requestOutcome(version(staged, { evaluations: [evaluation({ status: 'failed', verdict: null, code: 'INPUT_MISMATCH', reason: 'the model takes 10 features' })] }), 'r1');
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'evaluation failed (INPUT_MISMATCH): the model takes 10 features' });
  });

  it('refuses with the failing checks of the gates', () => {
    const outcome = requestOutcome(version(request({ status: 'refused', checks: [passed, missed], reasons: [missed.detail] })), 'r1');
    expect(outcome).toMatchObject({ kind: 'refused', checks: [missed], reasons: [missed.detail] });
  });

  it('refuses with who rejected and why, or when the approval expired', () => {
    const approval = { id: 'a1', requestId: 'r1', status: 'rejected', expiresAt: '2026-12-01T00:00:00Z', approvals: [], rejection: { by: { kind: 'user' as const, id: 'rita' }, at: '2026-11-30T01:00:00Z', comment: 'not on a Friday' } };
    expect(requestOutcome(version(request({ status: 'rejected', approvalId: 'a1' }), { approvals: [approval] }), 'r1')).toMatchObject({ kind: 'refused', reasons: ['rejected by rita: not on a Friday'] });
    expect(requestOutcome(version(request({ status: 'expired', approvalId: 'a1' }), { approvals: [{ ...approval, rejection: null }] }), 'r1')).toMatchObject({
      kind: 'refused',
      reasons: ['the approval expired at 2026-12-01T00:00:00Z without a decision'],
    });
  });

  it('fails with the deployment failure reason', () => {
    const deployment = { id: 'd1', requestId: 'r1', status: 'failed' as const, environment: null, target: 'github-actions', endpoint: null, reason: 'workflow run 42 failed' };
    expect(requestOutcome(version(request({ status: 'failed', deploymentId: 'd1' }), { deployments: [deployment] }), 'r1')).toMatchObject({
      kind: 'failed',
      reason: 'deployment failed: workflow run 42 failed',
    });
  });

  it('says so when the request is not the version’s', () => {
    expect(() => requestOutcome(version(request({})), 'other')).toThrow('churn@2 has no request other');
  });
});
