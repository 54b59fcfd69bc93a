import { DEFAULT_ROLLBACK_APPROVAL, deriveId, type ModelPolicy } from '@mrw/contracts';
import {
  approvalGranted,
  approvalRequested,
  archivedAfterServing,
  asContributor,
  asDeployer,
  asReviewer,
  carol,
  commandsOf,
  CONTEXT,
  contextWith,
  deciderSpec,
  deployer,
  deployingToProduction,
  deploymentFailed,
  deploymentRequested,
  deploymentStarted,
  deploymentSucceeded,
  erin,
  evaluationRequested,
  frank,
  MODEL,
  NOW,
  POLICY,
  PRODUCTION_TARGETS,
  quorumReached,
  registeredVersion,
  rollbackRequested,
  servingEnded,
  servingInProduction,
  stageTransitioned,
  transitionRequested,
} from '@mrw/testing';
import type { ModelVersionCommand, Principal } from './model-version.commands';
import { decideModelVersion } from './model-version.decider';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();

const started = (deploymentId = 'dep-1') =>
  versionCommand(
    'RecordDeploymentStarted',
    { deploymentId, environment: 'production', target: 'kubernetes' },
    { by: deployer, at: NOW, id: `cmd-started-${deploymentId}` },
  );
const succeeded = (deploymentId = 'dep-1') =>
  versionCommand(
    'RecordDeploymentSucceeded',
    { deploymentId, endpoint: 'https://ml.example.com/churn' },
    { by: deployer, at: NOW, id: `cmd-succeeded-${deploymentId}` },
  );
const failed = (deploymentId = 'dep-1', reason = 'readiness probe failed: model load timed out after 120s') =>
  versionCommand('RecordDeploymentFailed', { deploymentId, reason }, { by: deployer, at: NOW, id: `cmd-failed-${deploymentId}` });

const V8_SERVES = 8;
const ROLLBACK_REASON = 'v8 doubles false positives on mobile traffic';

const rollback = ({
  emergency = false,
  principal = asDeployer,
  policy = POLICY,
  servingVersion = V8_SERVES as number | null,
}: { emergency?: boolean; principal?: Principal; policy?: ModelPolicy; servingVersion?: number | null } = {}) =>
  versionCommand(
    'RequestRollback',
    { reason: ROLLBACK_REASON, emergency, principal, policy, servingVersion },
    { by: frank, at: NOW, id: 'cmd-rollback' },
  );

const rollbackDeployment = (change: Partial<ReturnType<typeof deploymentRequested>['data']> = {}) => {
  const deploymentId = deriveId('cmd-rollback', 'deployment');
  return deploymentRequested(deploymentId, 'cmd-rollback', {
    idempotencyKey: `${MODEL}@7/${deploymentId}`,
    purpose: 'rollback',
    previousStage: 'Archived',
    replacing: V8_SERVES,
    ...change,
  });
};

/** v7 served, v8 replaced it; frank asked to roll back to v7 and `appr-rb` (one reviewer) is pending. */
const rollbackAwaitingApproval = () => [
  ...archivedAfterServing(),
  rollbackRequested('rb-1'),
  approvalRequested('appr-rb', 'rb-1', {
    purpose: 'rollback',
    rule: DEFAULT_ROLLBACK_APPROVAL,
    requestedBy: frank,
    expiresAt: '2025-03-05T09:00:00.000Z',
    evidence: { evaluationId: null, datasetDigest: null, championVersion: V8_SERVES },
  }),
];

/** The rollback to v7 was approved: v7 is back in Production and its deployment `dep-rb` runs. */
const rollingBack = () => [
  ...rollbackAwaitingApproval(),
  approvalGranted('appr-rb', carol, 1, 1),
  quorumReached('appr-rb', [carol]),
  stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'rb-1' }),
  deploymentRequested('dep-rb', 'rb-1', { purpose: 'rollback', previousStage: 'Archived', replacing: V8_SERVES }),
];

describe('deployments', () => {
  describe('started', () => {
    it('records that the deployer started a requested deployment', () => {
      spec
        .given(...deployingToProduction())
        .when(started())
        .then(deploymentStarted('dep-1'));
    });

    it('does nothing when the deployment was already started (redelivered message)', () => {
      spec
        .given(...deployingToProduction(), deploymentStarted('dep-1'))
        .when(started())
        .then();
    });

    it('refuses an unknown deployment: DEPLOYMENT_NOT_FOUND', () => {
      spec.given(...deployingToProduction()).when(started('dep-404')).thenFails('DEPLOYMENT_NOT_FOUND');
    });

    it('refuses a deployment that already finished: DEPLOYMENT_NOT_ACTIVE', () => {
      spec.given(...servingInProduction()).when(started()).thenFails('DEPLOYMENT_NOT_ACTIVE');
    });

    it('shows where and since when the deployment runs', () => {
      spec
        .given(...deployingToProduction())
        .when(started())
        .thenState((state) => {
          expect(state).toMatchObject({
            deployments: [{ id: 'dep-1', status: 'started', startedAt: NOW, environment: 'production', target: 'kubernetes' }],
          });
        });
    });
  });

  describe('succeeded', () => {
    it('records the success of a started deployment', () => {
      spec
        .given(...deployingToProduction(), deploymentStarted('dep-1'))
        .when(succeeded())
        .then(deploymentSucceeded('dep-1', 'https://ml.example.com/churn'));
    });

    it('accepts a success reported without a separate start', () => {
      spec
        .given(...deployingToProduction())
        .when(succeeded())
        .then(deploymentSucceeded('dep-1', 'https://ml.example.com/churn'));
    });

    it('makes the version serve and completes the request', () => {
      spec
        .given(...deployingToProduction(), deploymentStarted('dep-1'))
        .when(succeeded())
        .thenState((state) => {
          expect(state).toMatchObject({
            stage: 'Production',
            serving: true,
            hasServed: true,
            deployments: [{ id: 'dep-1', status: 'succeeded', finishedAt: NOW, endpoint: 'https://ml.example.com/churn' }],
            requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'completed' }],
          });
        });
    });

    it('refuses an unknown deployment: DEPLOYMENT_NOT_FOUND', () => {
      spec.given(...deployingToProduction()).when(succeeded('dep-404')).thenFails('DEPLOYMENT_NOT_FOUND');
    });

    it('refuses a second outcome for the same deployment: DEPLOYMENT_NOT_ACTIVE', () => {
      spec.given(...servingInProduction()).when(succeeded()).thenFails('DEPLOYMENT_NOT_ACTIVE');
    });
  });

  describe('rule 7: failed, with the compensating step', () => {
    it('sends a promoted candidate back to Staging', () => {
      spec
        .given(...deployingToProduction(), deploymentStarted('dep-1'))
        .when(failed())
        .then(
          deploymentFailed('dep-1', 'readiness probe failed: model load timed out after 120s'),
          stageTransitioned('Production', 'Staging', { kind: 'deployment-failed', deploymentId: 'dep-1' }),
        );
    });

    it('leaves the candidate in Staging, not serving, with the request failed', () => {
      spec
        .given(...deployingToProduction())
        .when(failed())
        .thenState((state) => {
          expect(state).toMatchObject({
            stage: 'Staging',
            serving: false,
            hasServed: false,
            deployments: [{ id: 'dep-1', status: 'failed', reason: 'readiness probe failed: model load timed out after 120s' }],
            requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'failed' }],
          });
        });
    });

    it('lets the candidate be requested for Production again after the failure', () => {
      spec
        .given(...deployingToProduction(), deploymentFailed('dep-1', 'timeout'), stageTransitioned('Production', 'Staging', { kind: 'deployment-failed', deploymentId: 'dep-1' }))
        .when(
          versionCommand('RequestStageTransition', { toStage: 'Production', comment: 'retry', context: CONTEXT }, { by: frank, at: NOW, id: 'cmd-retry' }),
        )
        .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['StageTransitionRequested', 'ApprovalRequested']));
    });

    it('sends a rolled-back version back to Archived', () => {
      spec
        .given(...rollingBack())
        .when(failed('dep-rb', 'image pull failed'))
        .then(
          deploymentFailed('dep-rb', 'image pull failed'),
          stageTransitioned('Production', 'Archived', { kind: 'deployment-failed', deploymentId: 'dep-rb' }),
        );
    });

    it('needs no stage change when the version never left its stage', () => {
      const keptInProduction = [...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded')];
      spec
        .given(...keptInProduction, rollbackRequested('rb-1'), deploymentRequested('dep-rb', 'rb-1', { purpose: 'rollback', previousStage: 'Production' }))
        .when(failed('dep-rb', 'quota exceeded'))
        .then(deploymentFailed('dep-rb', 'quota exceeded'));
    });

    it('does not forget that a version served when its redeployment fails: it stays a rollback target', () => {
      spec
        .given(
          ...servingInProduction(),
          servingEnded(8, 'dep-v8', 'superseded'),
          rollbackRequested('rb-1'),
          deploymentRequested('dep-rb', 'rb-1', { purpose: 'rollback', previousStage: 'Production' }),
        )
        .when(failed('dep-rb', 'quota exceeded'))
        .thenState((state) => {
          expect(state).toMatchObject({ stage: 'Production', serving: false, hasServed: true });
        });
    });

    it('refuses an unknown deployment: DEPLOYMENT_NOT_FOUND', () => {
      spec.given(...deployingToProduction()).when(failed('dep-404')).thenFails('DEPLOYMENT_NOT_FOUND');
    });

    it('refuses a deployment that already succeeded: DEPLOYMENT_NOT_ACTIVE', () => {
      spec.given(...servingInProduction()).when(failed()).thenFails('DEPLOYMENT_NOT_ACTIVE');
    });

    it('refuses a deployment that already failed: DEPLOYMENT_NOT_ACTIVE', () => {
      spec
        .given(...deployingToProduction(), deploymentFailed('dep-1', 'timeout'))
        .when(failed())
        .thenFails('DEPLOYMENT_NOT_ACTIVE');
    });
  });
});

describe('rule 8: rollback', () => {
  describe('which versions can be rolled back to', () => {
    it('refuses the version that serves: ALREADY_SERVING', () => {
      spec.given(...servingInProduction()).when(rollback({ servingVersion: 7 })).thenFails('ALREADY_SERVING');
    });

    it('refuses a version that never served: ROLLBACK_TARGET_NEVER_SERVED', () => {
      spec.given(...registeredVersion()).when(rollback()).thenFails('ROLLBACK_TARGET_NEVER_SERVED');
    });

    it('refuses a former champion that went back to Staging: ROLLBACK_TARGET_NOT_ELIGIBLE', () => {
      spec
        .given(
          ...archivedAfterServing(),
          transitionRequested('req-restage', 'Archived', 'Staging'),
          stageTransitioned('Archived', 'Staging', { kind: 'request', requestId: 'req-restage' }),
          evaluationRequested('eval-2', { championVersion: V8_SERVES }),
        )
        .when(rollback())
        .thenFails('ROLLBACK_TARGET_NOT_ELIGIBLE');
    });

    it('refuses while a rollback approval is pending: APPROVAL_PENDING', () => {
      spec.given(...rollbackAwaitingApproval()).when(rollback()).thenFails('APPROVAL_PENDING');
    });

    it('refuses while the rollback deployment runs: DEPLOYMENT_IN_PROGRESS', () => {
      spec.given(...rollingBack()).when(rollback()).thenFails('DEPLOYMENT_IN_PROGRESS');
    });
  });

  describe('approval', () => {
    it('asks one reviewer by default, pinning the champion it replaces', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback())
        .then(rollbackRequested('cmd-rollback', { fromVersion: V8_SERVES, reason: ROLLBACK_REASON, emergency: false, requestedBy: frank }), {
          type: 'ApprovalRequested',
          data: {
            approvalId: deriveId('cmd-rollback', 'approval'),
            requestId: 'cmd-rollback',
            purpose: 'rollback',
            targetStage: 'Production',
            rule: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P1D' },
            requestedBy: frank,
            expiresAt: '2025-03-05T10:00:00.000Z',
            evidence: { evaluationId: null, datasetDigest: null, championVersion: V8_SERVES },
            checks: [],
            afterTheFact: false,
          },
        });
    });

    it('asks as many reviewers as `rollback.required` says', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ policy: { ...POLICY, rollback: { required: 2 } } }))
        .thenEvents(([, opened]) => {
          expect(opened).toMatchObject({ type: 'ApprovalRequested', data: { rule: { ...DEFAULT_ROLLBACK_APPROVAL, required: 2 } } });
        });
    });

    it('uses the policy’s own Rollback approval rule when it has one', () => {
      const rule = { required: 1, reviewers: ['user:carol'], expiresIn: 'PT4H' };
      spec
        .given(...archivedAfterServing())
        .when(rollback({ policy: { ...POLICY, approval: { ...POLICY.approval, Rollback: rule } } }))
        .thenEvents(([, opened]) => {
          expect(opened).toMatchObject({ type: 'ApprovalRequested', data: { rule, expiresAt: '2025-03-04T14:00:00.000Z' } });
        });
    });

    it('shows the rollback as a request awaiting approval', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback())
        .thenState((state) => {
          if (state.status !== 'registered') throw new Error('expected a registered version');
          expect(state.requests.at(-1)).toMatchObject({
            id: 'cmd-rollback',
            kind: 'rollback',
            fromStage: 'Archived',
            toStage: 'Production',
            comment: ROLLBACK_REASON,
            requestedBy: frank,
            status: 'awaiting-approval',
          });
        });
    });

    it('on quorum moves the version from Archived to Production and deploys it, replacing the champion', () => {
      const deploymentId = deriveId('cmd-grant-carol', 'deployment');
      spec
        .given(...rollbackAwaitingApproval())
        .when(
          versionCommand(
            'GrantApproval',
            { approvalId: 'appr-rb', comment: 'agreed, v8 is hurting', principal: asReviewer, context: contextWith({ servingVersion: V8_SERVES }) },
            { by: carol, at: NOW, id: 'cmd-grant-carol' },
          ),
        )
        .then(
          approvalGranted('appr-rb', carol, 1, 1, 'agreed, v8 is hurting'),
          quorumReached('appr-rb', [carol]),
          stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'rb-1' }),
          deploymentRequested(deploymentId, 'rb-1', {
            idempotencyKey: `${MODEL}@7/${deploymentId}`,
            purpose: 'rollback',
            targets: PRODUCTION_TARGETS,
            previousStage: 'Archived',
            replacing: V8_SERVES,
          }),
        );
    });

    it('refuses the quorum when the version already serves again: ALREADY_SERVING', () => {
      spec
        .given(...rollbackAwaitingApproval())
        .when(
          versionCommand(
            'GrantApproval',
            { approvalId: 'appr-rb', comment: 'ok', principal: asReviewer, context: contextWith({ servingVersion: 7 }) },
            { by: carol, at: NOW, id: 'cmd-grant-carol' },
          ),
        )
        .thenFails('ALREADY_SERVING');
    });

    it('with `required: 0` deploys at once', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ policy: { ...POLICY, rollback: { required: 0 } } }))
        .then(
          rollbackRequested('cmd-rollback', { fromVersion: V8_SERVES, emergency: false }),
          stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'cmd-rollback' }),
          rollbackDeployment(),
        );
    });

    it('redeploys a former champion kept in Production without a stage change', () => {
      spec
        .given(...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded'))
        .when(rollback({ policy: { ...POLICY, rollback: { required: 0 } } }))
        .then(rollbackRequested('cmd-rollback', { fromVersion: V8_SERVES }), rollbackDeployment({ previousStage: 'Production' }));
    });
  });

  describe('emergency', () => {
    it('lets a deployer deploy at once and opens a review after the fact', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true }))
        .then(
          rollbackRequested('cmd-rollback', { fromVersion: V8_SERVES, emergency: true }),
          stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'cmd-rollback' }),
          rollbackDeployment(),
          approvalRequested(deriveId('cmd-rollback', 'approval'), 'cmd-rollback', {
            purpose: 'rollback',
            rule: DEFAULT_ROLLBACK_APPROVAL,
            requestedBy: frank,
            expiresAt: '2025-03-05T10:00:00.000Z',
            evidence: { evaluationId: null, datasetDigest: null, championVersion: V8_SERVES },
            afterTheFact: true,
          }),
        );
    });

    it('still asks at least one reviewer after the fact when rollbacks need no approval', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true, policy: { ...POLICY, rollback: { required: 0 } } }))
        .thenEvents((events) => {
          expect(events.at(-1)).toMatchObject({ type: 'ApprovalRequested', data: { afterTheFact: true, rule: { required: 1 } } });
        });
    });

    it('keeps the request deploying while the review is open, and the review blocks nothing', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true }))
        .thenState((state) => {
          if (state.status !== 'registered') throw new Error('expected a registered version');
          expect(state.stage).toBe('Production');
          expect(state.requests.at(-1)).toMatchObject({ id: 'cmd-rollback', kind: 'rollback', status: 'deploying' });
          expect(state.approvals.at(-1)).toMatchObject({ status: 'pending', afterTheFact: true });
        });
    });

    it('reviews after the fact: quorum records the review and deploys nothing more', () => {
      const reviewId = deriveId('cmd-rollback', 'approval');
      spec
        .given(
          ...archivedAfterServing(),
          rollbackRequested('cmd-rollback', { emergency: true }),
          stageTransitioned('Archived', 'Production', { kind: 'rollback', rollbackId: 'cmd-rollback' }),
          rollbackDeployment(),
          approvalRequested(reviewId, 'cmd-rollback', {
            purpose: 'rollback',
            rule: DEFAULT_ROLLBACK_APPROVAL,
            requestedBy: frank,
            evidence: { evaluationId: null, datasetDigest: null, championVersion: V8_SERVES },
            afterTheFact: true,
          }),
        )
        .when(
          versionCommand(
            'GrantApproval',
            { approvalId: reviewId, comment: 'justified: FP rate doubled', principal: asReviewer, context: contextWith({ servingVersion: 7 }) },
            { by: erin, at: NOW, id: 'cmd-review' },
          ),
        )
        .then(approvalGranted(reviewId, erin, 1, 1, 'justified: FP rate doubled'), quorumReached(reviewId, [erin]));
    });

    it('does not let the deployer review their own emergency rollback: APPROVER_IS_REQUESTER', () => {
      const reviewId = deriveId('cmd-rollback', 'approval');
      spec
        .given(
          ...archivedAfterServing(),
          rollbackRequested('cmd-rollback', { emergency: true }),
          approvalRequested(reviewId, 'cmd-rollback', {
            purpose: 'rollback',
            rule: { ...DEFAULT_ROLLBACK_APPROVAL, reviewers: ['role:reviewer', 'role:deployer'] },
            requestedBy: frank,
            afterTheFact: true,
          }),
        )
        .when(
          versionCommand(
            'GrantApproval',
            { approvalId: reviewId, comment: 'fine', principal: asDeployer, context: CONTEXT },
            { by: frank, at: NOW, id: 'cmd-self-review' },
          ),
        )
        .thenFails('APPROVER_IS_REQUESTER');
    });

    it('refuses an emergency from someone without the deployer role: EMERGENCY_NOT_ALLOWED', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true, principal: asContributor }))
        .thenFails('EMERGENCY_NOT_ALLOWED');
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true, principal: asReviewer }))
        .thenFails('EMERGENCY_NOT_ALLOWED');
    });

    it('refuses an emergency when the policy forbids it: EMERGENCY_NOT_ALLOWED', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ emergency: true, policy: { ...POLICY, rollback: { allowEmergency: false } } }))
        .thenFails('EMERGENCY_NOT_ALLOWED');
    });

    it('lets anyone request a non-emergency rollback, which then waits for approval', () => {
      spec
        .given(...archivedAfterServing())
        .when(rollback({ principal: asContributor }))
        .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['RollbackRequested', 'ApprovalRequested']));
    });
  });
});
