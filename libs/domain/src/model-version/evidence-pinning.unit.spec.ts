import type { Actor, ApprovalEvidenceChanged, EvaluationMeasurements } from '@mrw/contracts';
import {
  approvalGranted,
  approvalRequested,
  asReviewer,
  awaitingApproval,
  CANDIDATE_METRICS,
  carol,
  CHAMPION,
  commandsOf,
  CONTEXT,
  contextWith,
  dave,
  deciderSpec,
  evaluationCompleted,
  evaluationFailed,
  evaluationMeasured,
  evaluationRequested,
  evaluator,
  failedChecks,
  NEWER_SET_DIGEST,
  NOW,
  policyWith,
  registeredVersion,
  SET_DIGEST,
  stageTransitioned,
  transitionRequested,
} from '@mrw/testing';
import type { GateContext } from '../gates/promotion-gates';
import { decideModelVersion } from './model-version.decider';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';
import type { ModelVersionCommand } from './model-version.commands';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();

const grant = (by: Actor, context: GateContext = CONTEXT) =>
  versionCommand(
    'GrantApproval',
    { approvalId: 'appr-1', comment: 'ok', principal: asReviewer, context },
    { by, at: NOW, id: `cmd-grant-${by.id}` },
  );

const result = (evaluationId: string, change: Partial<EvaluationMeasurements> = {}, context = CONTEXT) =>
  versionCommand(
    'RecordEvaluationResult',
    { ...evaluationMeasured(evaluationId, change), context },
    { by: evaluator, at: NOW, id: 'cmd-result' },
  );

const PINNED = { evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: CHAMPION };

/** appr-1 is pending with carol's approval; bob asked for `eval-2` on the same candidate, still running. */
const reEvaluatingWhileApproved = () => [
  ...awaitingApproval(),
  approvalGranted('appr-1', carol, 1, 2, 'ok'),
  evaluationRequested('eval-2', { reason: 'requested' }),
];

const evidenceChanged = (events: readonly { type: string }[]): ApprovalEvidenceChanged['data'] => {
  const changed = events.find((e): e is ApprovalEvidenceChanged => e.type === 'ApprovalEvidenceChanged');
  if (!changed) throw new Error(`expected ApprovalEvidenceChanged among ${events.map((e) => e.type).join(', ')}`);
  return changed.data;
};

describe('rule 5: approvals pin their evidence', () => {
  it('pins evaluation id, dataset digest and champion when the approval opens', () => {
    spec
      .given(...awaitingApproval())
      .when(grant(carol))
      .thenState((state) => {
        expect(state).toMatchObject({ approvals: [{ id: 'appr-1', evidence: PINNED }] });
      });
  });

  describe('a new evaluation result before quorum', () => {
    it('voids the approvals collected so far and re-opens the request on the new evidence', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(result('eval-2'))
        .thenEvents((events) => {
          expect(events).toEqual([
            evaluationCompleted('eval-2'),
            {
              type: 'ApprovalEvidenceChanged',
              data: {
                approvalId: 'appr-1',
                previous: PINNED,
                current: { evaluationId: 'eval-2', datasetDigest: SET_DIGEST, championVersion: CHAMPION },
                voided: [carol],
                outcome: 'reopened',
                checks: expect.any(Array),
              },
            },
          ]);
          expect(failedChecks(evidenceChanged(events).checks)).toEqual([]);
        });
    });

    it('keeps the approval pending with no approvals, records whose were voided, and keeps the request awaiting approval', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(result('eval-2'))
        .thenState((state) => {
          expect(state).toMatchObject({
            stage: 'Staging',
            approvals: [
              {
                id: 'appr-1',
                status: 'pending',
                approvals: [],
                voided: [{ by: carol, at: NOW }],
                evidence: { evaluationId: 'eval-2', datasetDigest: SET_DIGEST, championVersion: CHAMPION },
              },
            ],
            requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'awaiting-approval' }],
          });
        });
    });

    it('pins the newer set digest when the candidate was re-evaluated on a newer set version', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(
          result('eval-2', { set: { name: 'churn-holdout', digest: NEWER_SET_DIGEST } }, contextWith({ currentSetDigest: NEWER_SET_DIGEST })),
        )
        .thenEvents((events) => {
          expect(evidenceChanged(events)).toMatchObject({
            current: { evaluationId: 'eval-2', datasetDigest: NEWER_SET_DIGEST, championVersion: CHAMPION },
            outcome: 'reopened',
          });
        });
    });

    it('closes the request when the new result fails the gates', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(result('eval-2', { metrics: { ...CANDIDATE_METRICS, accuracy: 0.87 } }))
        .thenEvents((events) => {
          const changed = evidenceChanged(events);
          expect(changed).toMatchObject({ voided: [carol], outcome: 'closed' });
          expect(failedChecks(changed.checks)).toEqual(['accuracy/threshold']);
        });
    });

    it('shows a closed approval and a refused request, with the failing checks', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(result('eval-2', { metrics: { ...CANDIDATE_METRICS, accuracy: 0.87 } }))
        .thenState((state) => {
          expect(state).toMatchObject({
            approvals: [{ id: 'appr-1', status: 'closed', approvals: [], voided: [{ by: carol }] }],
            requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'refused', checks: expect.arrayContaining([expect.objectContaining({ metric: 'accuracy', passed: false })]) }],
          });
        });
    });

    it('counts the voided reviewer again on the new evidence, and from zero', () => {
      spec
        .given(...reEvaluatingWhileApproved(), evaluationCompleted('eval-2'), {
          type: 'ApprovalEvidenceChanged',
          data: {
            approvalId: 'appr-1',
            previous: PINNED,
            current: { ...PINNED, evaluationId: 'eval-2' },
            voided: [carol],
            outcome: 'reopened',
            checks: [],
          },
        })
        .when(grant(carol))
        .then(approvalGranted('appr-1', carol, 1, 2, 'ok'));
    });
  });

  describe('evidence that changed by the time a reviewer approves', () => {
    it('voids the approvals instead of counting the grant when another champion serves now', () => {
      spec
        .given(...awaitingApproval(), approvalGranted('appr-1', carol, 1, 2, 'ok'))
        .when(grant(dave, contextWith({ servingVersion: 6 })))
        .thenEvents((events) => {
          expect(events.map((e) => e.type)).toEqual(['ApprovalEvidenceChanged']);
          const changed = evidenceChanged(events);
          expect(changed).toMatchObject({
            approvalId: 'appr-1',
            previous: PINNED,
            current: { evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: 6 },
            voided: [carol],
            // The evaluation compared v7 with v5: it does not pass the gates against v6.
            outcome: 'closed',
          });
          expect(failedChecks(changed.checks)).toEqual(['champion/champion']);
        });
    });

    it('voids the approvals instead of counting the grant when the standard set has a newer version', () => {
      spec
        .given(...awaitingApproval(), approvalGranted('appr-1', carol, 1, 2, 'ok'))
        .when(grant(dave, contextWith({ currentSetDigest: NEWER_SET_DIGEST })))
        .thenEvents((events) => {
          expect(events.map((e) => e.type)).toEqual(['ApprovalEvidenceChanged']);
          const changed = evidenceChanged(events);
          expect(changed).toMatchObject({ voided: [carol], outcome: 'closed' });
          expect(failedChecks(changed.checks)).toEqual(['evaluation/current-set']);
        });
    });

    it('re-opens without counting the grant when only the champion changed and no evaluation gate applies', () => {
      const context = contextWith({ policy: policyWith({ evaluation: undefined }), servingVersion: 6 });
      spec
        .given(
          ...registeredVersion(),
          transitionRequested('req-staging', 'None', 'Staging'),
          stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
          transitionRequested('req-prod', 'Staging', 'Production'),
          approvalRequested('appr-1', 'req-prod', { evidence: { evaluationId: null, datasetDigest: null, championVersion: CHAMPION } }),
          approvalGranted('appr-1', carol, 1, 2, 'ok'),
        )
        .when(grant(dave, context))
        .thenEvents((events) => {
          expect(events.map((e) => e.type)).toEqual(['ApprovalEvidenceChanged']);
          expect(evidenceChanged(events)).toMatchObject({
            previous: { evaluationId: null, datasetDigest: null, championVersion: CHAMPION },
            current: { evaluationId: null, datasetDigest: null, championVersion: 6 },
            voided: [carol],
            outcome: 'reopened',
          });
        });
    });

    it('counts the grant when the evidence still holds', () => {
      spec
        .given(...awaitingApproval())
        .when(grant(carol))
        .then(approvalGranted('appr-1', carol, 1, 2, 'ok'));
    });
  });

  describe('an evaluation failure before quorum', () => {
    it('closes the approval, voiding what was collected', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(
          versionCommand(
            'RecordEvaluationFailure',
            { evaluationId: 'eval-2', reason: 'evaluation set unreadable', code: 'SET_UNREADABLE' },
            { by: evaluator, at: NOW, id: 'cmd-failure' },
          ),
        )
        .then(evaluationFailed('eval-2', 'evaluation set unreadable', 'SET_UNREADABLE'), {
          type: 'ApprovalEvidenceChanged',
          data: {
            approvalId: 'appr-1',
            previous: PINNED,
            current: { evaluationId: 'eval-2', datasetDigest: null, championVersion: CHAMPION },
            voided: [carol],
            outcome: 'closed',
            checks: [
              {
                metric: 'evaluation',
                rule: 'completed',
                passed: false,
                detail: 'evaluation failed: evaluation set unreadable',
              },
            ],
          },
        });
    });

    it('leaves the request refused and the approval closed', () => {
      spec
        .given(...reEvaluatingWhileApproved())
        .when(
          versionCommand(
            'RecordEvaluationFailure',
            { evaluationId: 'eval-2', reason: 'evaluation set unreadable', code: 'SET_UNREADABLE' },
            { by: evaluator, at: NOW, id: 'cmd-failure' },
          ),
        )
        .thenState((state) => {
          expect(state).toMatchObject({
            approvals: [{ id: 'appr-1', status: 'closed' }],
            requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'refused' }],
          });
        });
    });
  });
});
