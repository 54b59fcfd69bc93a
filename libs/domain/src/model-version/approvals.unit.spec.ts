import { deriveId, type Actor } from '@mrw/contracts';
import {
  alice,
  APPROVAL_EXPIRES_AT,
  approvalExpired,
  approvalGranted,
  approvalRejected,
  approvalRequested,
  asContributor,
  asReviewer,
  awaitingApproval,
  bob,
  carol,
  CHAMPION,
  commandsOf,
  CONTEXT,
  dave,
  deciderSpec,
  deploymentRequested,
  erin,
  evaluatedInStaging,
  evaluationRequested,
  MODEL,
  NOW,
  PRODUCTION_APPROVAL,
  PRODUCTION_TARGETS,
  quorumReached,
  registry,
  stageTransitioned,
  transitionRequested,
} from '@mrw/testing';
import type { GateContext } from '../gates/promotion-gates';
import type { ModelVersionCommand, Principal } from './model-version.commands';
import { decideModelVersion, isEligibleReviewer } from './model-version.decider';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();

interface GrantOptions {
  readonly principal?: Principal;
  readonly at?: string;
  readonly approvalId?: string;
  readonly context?: GateContext;
}

const grant = (by: Actor, { principal = asReviewer, at = NOW, approvalId = 'appr-1', context = CONTEXT }: GrantOptions = {}) =>
  versionCommand(
    'GrantApproval',
    { approvalId, comment: `${by.id}: looks good`, principal, context },
    { by, at, id: `cmd-grant-${by.id}` },
  );

const reject = (by: Actor, { principal = asReviewer, at = NOW, approvalId = 'appr-1' }: GrantOptions = {}) =>
  versionCommand(
    'RejectApproval',
    { approvalId, comment: 'recall on the enterprise slice dropped 4 points', principal },
    { by, at, id: `cmd-reject-${by.id}` },
  );

const expire = (at: string, approvalId = 'appr-1') =>
  versionCommand('ExpireApproval', { approvalId }, { by: registry, at, id: `cmd-expire-${at}` });

const granted = (by: Actor, count: number, required = 2) =>
  approvalGranted('appr-1', by, count, required, `${by.id}: looks good`);

/** appr-1 needs two reviewers; carol approved already. */
const approvedByCarol = () => [...awaitingApproval(), granted(carol, 1)];

describe('rule 4: approvals need a quorum of distinct eligible reviewers', () => {
  it('counts a first approval without reaching quorum', () => {
    spec.given(...awaitingApproval()).when(grant(carol)).then(granted(carol, 1));
  });

  it('on quorum moves the version to Production and requests the deployment, replacing the serving champion', () => {
    const deploymentId = deriveId('cmd-grant-dave', 'deployment');
    spec
      .given(...approvedByCarol())
      .when(grant(dave))
      .then(
        granted(dave, 2),
        quorumReached('appr-1', [carol, dave]),
        stageTransitioned('Staging', 'Production', { kind: 'approval', requestId: 'req-prod', approvalId: 'appr-1' }),
        deploymentRequested(deploymentId, 'req-prod', {
          idempotencyKey: `${MODEL}@7/${deploymentId}`,
          purpose: 'promotion',
          targets: PRODUCTION_TARGETS,
          previousStage: 'Staging',
          replacing: CHAMPION,
        }),
      );
  });

  it('after quorum the request is deploying and the old champion still serves (this version does not yet)', () => {
    spec
      .given(...approvedByCarol())
      .when(grant(dave))
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Production',
          serving: false,
          approvals: [{ id: 'appr-1', status: 'approved', approvals: [{ by: carol }, { by: dave, at: NOW }] }],
          requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'deploying', deploymentId: deriveId('cmd-grant-dave', 'deployment') }],
          deployments: [{ status: 'requested', replacing: CHAMPION, previousStage: 'Staging' }],
        });
      });
  });

  it('needs as many approvals as the rule says (2 of 3 is not quorum)', () => {
    spec
      .given(
        ...evaluatedInStaging(),
        transitionRequested('req-prod', 'Staging', 'Production'),
        approvalRequested('appr-1', 'req-prod', { rule: { ...PRODUCTION_APPROVAL, required: 3 } }),
        approvalGranted('appr-1', carol, 1, 3),
      )
      .when(grant(dave))
      .then(approvalGranted('appr-1', dave, 2, 3, 'dave: looks good'));
  });

  it('reaches quorum with a single approval when one is required', () => {
    spec
      .given(
        ...evaluatedInStaging(),
        transitionRequested('req-prod', 'Staging', 'Production'),
        approvalRequested('appr-1', 'req-prod', { rule: { ...PRODUCTION_APPROVAL, required: 1 } }),
      )
      .when(grant(erin))
      .thenEvents((events) => {
        expect(events.map((e) => e.type)).toEqual([
          'ApprovalGranted',
          'ApprovalQuorumReached',
          'StageTransitioned',
          'DeploymentRequested',
        ]);
        expect(events[1]).toEqual(quorumReached('appr-1', [erin]));
      });
  });

  describe('who may approve', () => {
    it('refuses someone outside the reviewer group: NOT_A_REVIEWER', () => {
      spec.given(...awaitingApproval()).when(grant(carol, { principal: asContributor })).thenFails('NOT_A_REVIEWER');
    });

    it('accepts a person named as `user:<subject>` whatever their roles', () => {
      spec
        .given(
          ...evaluatedInStaging(),
          transitionRequested('req-prod', 'Staging', 'Production'),
          approvalRequested('appr-1', 'req-prod', { rule: { ...PRODUCTION_APPROVAL, reviewers: ['user:carol', 'user:dave'] } }),
        )
        .when(grant(carol, { principal: asContributor }))
        .then(granted(carol, 1));
    });

    it('refuses a reviewer by role when the rule names only people: NOT_A_REVIEWER', () => {
      spec
        .given(
          ...evaluatedInStaging(),
          transitionRequested('req-prod', 'Staging', 'Production'),
          approvalRequested('appr-1', 'req-prod', { rule: { ...PRODUCTION_APPROVAL, reviewers: ['user:carol', 'user:dave'] } }),
        )
        .when(grant(erin))
        .thenFails('NOT_A_REVIEWER');
    });

    it('refuses a reviewer whose token is scoped to other models: NOT_A_REVIEWER', () => {
      spec
        .given(...awaitingApproval())
        .when(grant(carol, { principal: { roles: ['reviewer'], models: ['fraud-detector'] } }))
        .thenFails('NOT_A_REVIEWER');
    });

    it('accepts a reviewer whose token is scoped to this model', () => {
      spec
        .given(...awaitingApproval())
        .when(grant(carol, { principal: { roles: ['reviewer'], models: ['fraud-detector', MODEL] } }))
        .then(granted(carol, 1));
    });

    it('does not take a service for the person of the same name', () => {
      const service: Actor = { kind: 'service', id: 'carol' };
      expect(isEligibleReviewer(['user:carol'], service, asReviewer, MODEL)).toBe(false);
      expect(isEligibleReviewer(['user:carol'], carol, asReviewer, MODEL)).toBe(true);
    });

    it('refuses the requester of the promotion: APPROVER_IS_REQUESTER', () => {
      spec.given(...awaitingApproval()).when(grant(bob)).thenFails('APPROVER_IS_REQUESTER');
    });

    it("refuses the version's registrant: APPROVER_IS_REGISTRANT", () => {
      spec.given(...awaitingApproval()).when(grant(alice)).thenFails('APPROVER_IS_REGISTRANT');
    });

    it('counts each person once: ALREADY_APPROVED', () => {
      spec.given(...approvedByCarol()).when(grant(carol)).thenFails('ALREADY_APPROVED');
    });
  });

  describe('which approvals may be granted', () => {
    it('refuses an unknown approval: APPROVAL_NOT_FOUND', () => {
      spec.given(...awaitingApproval()).when(grant(carol, { approvalId: 'appr-404' })).thenFails('APPROVAL_NOT_FOUND');
    });

    it('refuses an approval that expired, even before anyone recorded the expiry: APPROVAL_EXPIRED', () => {
      spec.given(...awaitingApproval()).when(grant(carol, { at: APPROVAL_EXPIRES_AT })).thenFails('APPROVAL_EXPIRED');
    });

    it('accepts an approval one second before it expires', () => {
      spec.given(...awaitingApproval()).when(grant(carol, { at: '2025-03-06T09:05:59.000Z' })).then(granted(carol, 1));
    });

    it('compares instants, not strings: 09:30 at UTC+1 is before an expiry at 09:06 UTC', () => {
      spec.given(...awaitingApproval()).when(grant(carol, { at: '2025-03-06T09:30:00+01:00' })).then(granted(carol, 1));
      spec.given(...awaitingApproval()).when(grant(carol, { at: '2025-03-06T10:06:00+01:00' })).thenFails('APPROVAL_EXPIRED');
    });

    it('refuses an approval that already reached quorum: APPROVAL_NOT_PENDING', () => {
      const error = spec
        .given(...approvedByCarol(), granted(dave, 2), quorumReached('appr-1', [carol, dave]))
        .when(grant(erin))
        .thenFails('APPROVAL_NOT_PENDING');
      expect(error.details).toEqual({ status: 'approved' });
    });

    it('refuses an approval that was rejected: APPROVAL_NOT_PENDING', () => {
      const error = spec
        .given(...awaitingApproval(), approvalRejected('appr-1', dave, 'not convinced'))
        .when(grant(carol))
        .thenFails('APPROVAL_NOT_PENDING');
      expect(error.details).toEqual({ status: 'rejected' });
    });

    it('refuses an approval that expired: APPROVAL_NOT_PENDING', () => {
      const error = spec
        .given(...awaitingApproval(), approvalExpired('appr-1'))
        .when(grant(carol))
        .thenFails('APPROVAL_NOT_PENDING');
      expect(error.details).toEqual({ status: 'expired' });
    });

    it('refuses to approve while a new evaluation runs: EVALUATION_RUNNING', () => {
      spec
        .given(...approvedByCarol(), evaluationRequested('eval-2', { reason: 'requested' }))
        .when(grant(dave))
        .thenFails('EVALUATION_RUNNING');
    });
  });
});

describe('rule 4: any rejection closes the request', () => {
  it('records the rejection with its reason', () => {
    spec
      .given(...awaitingApproval())
      .when(reject(carol))
      .then(approvalRejected('appr-1', carol, 'recall on the enterprise slice dropped 4 points'));
  });

  it('closes the approval and the request even after other approvals', () => {
    spec
      .given(...approvedByCarol())
      .when(reject(dave))
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Staging',
          approvals: [
            {
              id: 'appr-1',
              status: 'rejected',
              approvals: [{ by: carol }],
              rejection: { by: dave, at: NOW, comment: 'recall on the enterprise slice dropped 4 points' },
            },
          ],
          requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'rejected' }],
        });
      });
  });

  it('refuses a rejection from outside the reviewer group: NOT_A_REVIEWER', () => {
    spec.given(...awaitingApproval()).when(reject(carol, { principal: asContributor })).thenFails('NOT_A_REVIEWER');
  });

  it('refuses to reject an unknown approval: APPROVAL_NOT_FOUND', () => {
    spec.given(...awaitingApproval()).when(reject(carol, { approvalId: 'appr-404' })).thenFails('APPROVAL_NOT_FOUND');
  });

  it('refuses to reject an approval that is closed already: APPROVAL_NOT_PENDING', () => {
    spec
      .given(...awaitingApproval(), approvalRejected('appr-1', dave, 'not convinced'))
      .when(reject(carol))
      .thenFails('APPROVAL_NOT_PENDING');
  });

  it('lets the version be requested for Production again once the approval is closed', () => {
    spec
      .given(...awaitingApproval(), approvalRejected('appr-1', dave, 'not convinced'))
      .when(versionCommand('RequestStageTransition', { toStage: 'Production', comment: 'retrained', context: CONTEXT }, { by: bob, at: NOW, id: 'cmd-again' }))
      .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['StageTransitionRequested', 'ApprovalRequested']));
  });
});

describe('rule 4: approval requests expire', () => {
  it('refuses to expire an approval before its time: APPROVAL_NOT_EXPIRED', () => {
    spec.given(...awaitingApproval()).when(expire('2025-03-06T09:05:59.999Z')).thenFails('APPROVAL_NOT_EXPIRED');
  });

  it('compares instants, not strings: 09:30 at UTC+1 is before an expiry at 09:06 UTC', () => {
    spec.given(...awaitingApproval()).when(expire('2025-03-06T09:30:00+01:00')).thenFails('APPROVAL_NOT_EXPIRED');
    spec.given(...awaitingApproval()).when(expire('2025-03-06T10:06:00+01:00')).then(approvalExpired('appr-1', APPROVAL_EXPIRES_AT));
  });

  it('expires an approval at its expiry time', () => {
    spec.given(...awaitingApproval()).when(expire(APPROVAL_EXPIRES_AT)).then(approvalExpired('appr-1', APPROVAL_EXPIRES_AT));
  });

  it('closes the approval and the request as expired, keeping the approvals collected so far', () => {
    spec
      .given(...approvedByCarol())
      .when(expire('2025-03-07T00:00:00.000Z'))
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Staging',
          approvals: [{ id: 'appr-1', status: 'expired', approvals: [{ by: carol }], rejection: null }],
          requests: [{ id: 'req-staging' }, { id: 'req-prod', status: 'expired' }],
        });
      });
  });

  it('does nothing for an approval that closed before its timer fired (quorum, or an expiry already recorded)', () => {
    spec.given(...approvedByCarol(), granted(dave, 2), quorumReached('appr-1', [carol, dave])).when(expire('2025-03-07T00:00:00.000Z')).then();
    spec.given(...awaitingApproval(), approvalExpired('appr-1')).when(expire('2025-03-07T00:00:00.000Z')).then();
  });

  it('refuses to expire an unknown approval: APPROVAL_NOT_FOUND', () => {
    spec.given(...awaitingApproval()).when(expire('2025-03-07T00:00:00.000Z', 'appr-404')).thenFails('APPROVAL_NOT_FOUND');
  });
  const backToNone = (at: string) =>
    versionCommand('RequestStageTransition', { toStage: 'None', comment: 'not this one', context: CONTEXT }, { by: bob, at, id: 'cmd-none' });

  it('lets a past-due approval block nothing: a new request records the expiry first, then is decided', () => {
    spec
      .given(...awaitingApproval())
      .when(backToNone('2025-03-07T00:00:00.000Z'))
      .thenEvents((events) => {
        expect(events.map((e) => e.type)).toEqual(['ApprovalExpired', 'StageTransitionRequested', 'StageTransitioned']);
        expect(events[0]).toEqual(approvalExpired('appr-1', APPROVAL_EXPIRES_AT));
      });
  });

  it('still blocks a new request while the approval runs: APPROVAL_PENDING', () => {
    spec.given(...awaitingApproval()).when(backToNone('2025-03-06T09:05:59.999Z')).thenFails('APPROVAL_PENDING');
  });

  it('records a decision with its channel and the service that relayed it', () => {
    spec
      .given(...awaitingApproval())
      .when(
        versionCommand(
          'RejectApproval',
          { approvalId: 'appr-1', comment: 'no', principal: asReviewer, channel: 'slack', relayedBy: { kind: 'service', id: 'approvals' } },
          { by: carol, at: NOW, id: 'cmd-reject-slack' },
        ),
      )
      .then({ type: 'ApprovalRejected', data: { approvalId: 'appr-1', by: carol, comment: 'no', channel: 'slack', relayedBy: { kind: 'service', id: 'approvals' } } });
  });
});
