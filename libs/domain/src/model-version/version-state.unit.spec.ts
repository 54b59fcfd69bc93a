import type { ModelVersionEvent } from '@mrw/contracts';
import {
  approvalExpired,
  approvalRejected,
  approvalRequested,
  archivedAfterServing,
  awaitingApproval,
  carol,
  deployingToProduction,
  deploymentFailed,
  deploymentRequested,
  evaluatedInStaging,
  evaluationCompleted,
  evaluationRequested,
  frank,
  givenAt,
  promotionRefused,
  registeredVersion,
  rollbackRequested,
  servingInProduction,
  stageTransitioned,
  stamped,
  transitionRequested,
  versionInStaging,
} from '@mrw/testing';
import {
  deploymentInFlight,
  evolveModelVersion,
  foldModelVersion,
  initialModelVersionState,
  latestEvaluation,
  pendingApproval,
  type RegisteredVersion,
  type TransitionStatus,
} from './model-version.state';

const fold = (events: ModelVersionEvent[]): RegisteredVersion => {
  const state = foldModelVersion(stamped(...events));
  if (state.status !== 'registered') throw new Error('expected a registered version');
  return state;
};

const statusOf = (events: ModelVersionEvent[], requestId: string): TransitionStatus | undefined =>
  fold(events).requests.find((r) => r.id === requestId)?.status;

describe('the version state view (evolve)', () => {
  it('starts absent and ignores events of a version that was never registered', () => {
    const state = evolveModelVersion(initialModelVersionState(), { ...stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'r' }), at: givenAt(0) });
    expect(state).toEqual({ status: 'absent' });
  });

  it('shows a registered version in None, with its registrant and time', () => {
    expect(fold(registeredVersion())).toMatchObject({
      status: 'registered',
      model: 'churn-classifier',
      version: 7,
      stage: 'None',
      stageSince: givenAt(0),
      registeredAt: givenAt(0),
      registeredBy: { kind: 'user', id: 'alice' },
      serving: false,
      hasServed: false,
      evaluations: [],
      approvals: [],
      deployments: [],
      requests: [],
    });
  });

  describe('request statuses', () => {
    it('a Staging request is evaluating until its evaluation completes', () => {
      expect(statusOf(versionInStaging(), 'req-staging')).toBe('evaluating');
      expect(statusOf(evaluatedInStaging(), 'req-staging')).toBe('completed');
    });

    it('a Staging request without evaluation completes at once', () => {
      expect(
        statusOf(
          [
            ...registeredVersion(),
            transitionRequested('req-staging', 'None', 'Staging'),
            stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
          ],
          'req-staging',
        ),
      ).toBe('completed');
    });

    it('an evaluation asked for by hand does not reopen the Staging request', () => {
      expect(statusOf([...evaluatedInStaging(), evaluationRequested('eval-2', { reason: 'requested' })], 'req-staging')).toBe('completed');
    });

    it('a Production request goes awaiting-approval → deploying → completed', () => {
      expect(statusOf(awaitingApproval(), 'req-prod')).toBe('awaiting-approval');
      expect(statusOf(deployingToProduction(), 'req-prod')).toBe('deploying');
      expect(statusOf(servingInProduction(), 'req-prod')).toBe('completed');
    });

    it('a Production request whose deployment failed is failed', () => {
      expect(statusOf([...deployingToProduction(), deploymentFailed('dep-1', 'timeout')], 'req-prod')).toBe('failed');
    });

    it('a Production request refused by the gates is refused, with its checks', () => {
      const checks = [{ metric: 'evaluation', rule: 'completed', passed: false, detail: 'evaluation eval-1 is still running' }];
      const state = fold([...versionInStaging(), transitionRequested('req-prod', 'Staging', 'Production'), promotionRefused('req-prod', checks)]);
      expect(state.requests.find((r) => r.id === 'req-prod')).toMatchObject({ status: 'refused', checks });
    });

    it('a rejected approval leaves its request rejected', () => {
      expect(statusOf([...awaitingApproval(), approvalRejected('appr-1', carol, 'no')], 'req-prod')).toBe('rejected');
    });

    it('an expired approval leaves its request expired', () => {
      expect(statusOf([...awaitingApproval(), approvalExpired('appr-1')], 'req-prod')).toBe('expired');
    });

    it('a rollback is a request of its own: awaiting-approval → deploying → completed', () => {
      const requested = [
        ...archivedAfterServing(),
        rollbackRequested('rb-1'),
        approvalRequested('appr-rb', 'rb-1', { purpose: 'rollback', requestedBy: frank }),
      ];
      expect(fold(requested).requests.find((r) => r.id === 'rb-1')).toMatchObject({
        kind: 'rollback',
        fromStage: 'Archived',
        toStage: 'Production',
        status: 'awaiting-approval',
      });
      const deploying = [
        ...requested,
        stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'rb-1' }),
        deploymentRequested('dep-rb', 'rb-1', { purpose: 'rollback', previousStage: 'Archived', replacing: 8 }),
      ];
      expect(statusOf(deploying, 'rb-1')).toBe('deploying');
      expect(statusOf([...deploying, { type: 'DeploymentSucceeded', data: { deploymentId: 'dep-rb', endpoint: null } }], 'rb-1')).toBe('completed');
    });

    it('rejecting an after-the-fact review does not undo the emergency rollback request', () => {
      const emergency = [
        ...archivedAfterServing(),
        rollbackRequested('rb-1', { emergency: true }),
        stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'rb-1' }),
        deploymentRequested('dep-rb', 'rb-1', { purpose: 'rollback', previousStage: 'Archived', replacing: 8 }),
        approvalRequested('review-1', 'rb-1', { purpose: 'rollback', requestedBy: frank, afterTheFact: true }),
      ];
      expect(statusOf(emergency, 'rb-1')).toBe('deploying');
      const reviewed = fold([...emergency, approvalRejected('review-1', carol, 'should have waited')]);
      expect(reviewed.requests.find((r) => r.id === 'rb-1')?.status).toBe('deploying');
      expect(reviewed.approvals.find((a) => a.id === 'review-1')?.status).toBe('rejected');
    });
  });

  describe('queries on the state', () => {
    it('pendingApproval finds the pending promotion approval, not an after-the-fact review', () => {
      expect(pendingApproval(fold(awaitingApproval()))?.id).toBe('appr-1');
      expect(pendingApproval(fold(deployingToProduction()))).toBeUndefined();
      expect(
        pendingApproval(fold([...archivedAfterServing(), approvalRequested('review-1', 'rb-1', { purpose: 'rollback', afterTheFact: true })])),
      ).toBeUndefined();
    });

    it('deploymentInFlight finds a requested or started deployment only', () => {
      expect(deploymentInFlight(fold(deployingToProduction()))?.id).toBe('dep-1');
      expect(deploymentInFlight(fold(servingInProduction()))).toBeUndefined();
    });

    it('latestEvaluation is the last one requested', () => {
      expect(latestEvaluation(fold(registeredVersion()))).toBeUndefined();
      expect(latestEvaluation(fold([...evaluatedInStaging(), evaluationRequested('eval-2', { reason: 'requested' })]))).toMatchObject({
        id: 'eval-2',
        status: 'running',
      });
    });
  });

  describe('time travel', () => {
    it('the state as of a time is the fold of the events up to that time', () => {
      const history = stamped(...archivedAfterServing());
      const asOf = (at: string) => foldModelVersion(history.filter((e) => e.at <= at));
      const deploymentSucceededAt = history.find((e) => e.type === 'DeploymentSucceeded')?.at as string;
      expect(asOf(givenAt(0))).toMatchObject({ stage: 'None' });
      expect(asOf(givenAt(2))).toMatchObject({ stage: 'Staging' });
      expect(asOf(deploymentSucceededAt)).toMatchObject({ stage: 'Production', serving: true });
      expect(asOf(history.at(-1)?.at as string)).toMatchObject({ stage: 'Archived', serving: false, hasServed: true });
    });
  });

  it('an evaluation completed on a result event keeps the set it was actually run on', () => {
    const state = fold([
      ...versionInStaging(),
      evaluationCompleted('eval-1', { set: { name: 'churn-holdout', digest: 'sha256:' + 'c'.repeat(64) } }),
    ]);
    expect(state.evaluations[0]?.set).toEqual({ name: 'churn-holdout', digest: 'sha256:' + 'c'.repeat(64) });
  });
});
