import { DEFAULT_PRODUCTION_APPROVAL, deriveId, type Stage } from '@mrw/contracts';
import {
  alice,
  archivedAfterServing,
  awaitingApproval,
  bob,
  CANDIDATE_METRICS,
  CHAMPION,
  commandsOf,
  COMPARISON_WITH_CHAMPION,
  CONTEXT,
  contextWith,
  deciderSpec,
  deployingToProduction,
  deploymentStarted,
  EVAL_SET,
  evaluatedInStaging,
  evaluationCompleted,
  evaluationFailed,
  evaluationRequested,
  failedChecks,
  MODEL,
  NEWER_SET_DIGEST,
  NOW,
  PASSING_VERDICT,
  POLICY,
  policyWith,
  PRODUCTION_APPROVAL,
  PRODUCTION_TARGETS,
  registeredVersion,
  servingEnded,
  servingInProduction,
  SET_DIGEST,
  stageTransitioned,
  transitionRequested,
  versionInStaging,
  versionRegistered,
} from '@mrw/testing';
import { ALLOWED_TRANSITIONS, DEFAULT_DEPLOYMENT_TARGETS, decideModelVersion } from './model-version.decider';
import type { GateContext } from '../gates/promotion-gates';
import { evolveModelVersion, initialModelVersionState } from './model-version.state';
import type { ModelVersionCommand } from './model-version.commands';

const spec = deciderSpec(
  { decide: decideModelVersion, evolve: evolveModelVersion, initialState: initialModelVersionState },
  { timeOf: (command) => command.metadata.now },
);
const versionCommand = commandsOf<ModelVersionCommand>();

const request = (toStage: Stage, context: GateContext = CONTEXT, id = 'cmd-request', comment = '') =>
  versionCommand('RequestStageTransition', { toStage, comment, context }, { by: bob, at: NOW, id });

/** v7 still in Production after v8 took over, kept as rollback target. */
const keptInProductionAfterServing = () => [...servingInProduction(), servingEnded(8, 'dep-v8', 'superseded')];

describe('registering a version', () => {
  it('records the registration with the authenticated actor as registrant', () => {
    const { registeredBy: _ignored, ...data } = versionRegistered().data;
    spec
      .given()
      .when(versionCommand('RegisterModelVersion', data, { by: alice, at: NOW, id: 'cmd-register' }))
      .then(versionRegistered({ registeredBy: alice }));
  });

  it('refuses a second registration of the same version: VERSION_ALREADY_EXISTS', () => {
    const { registeredBy: _ignored, ...data } = versionRegistered().data;
    spec
      .given(...registeredVersion())
      .when(versionCommand('RegisterModelVersion', data, { by: alice, at: NOW, id: 'cmd-register-again' }))
      .thenFails('VERSION_ALREADY_EXISTS');
  });

  it('refuses any other command on a version that was never registered: VERSION_NOT_FOUND', () => {
    spec.given().when(request('Staging')).thenFails('VERSION_NOT_FOUND');
  });
});

describe('rule 1: stages and allowed transitions', () => {
  it('allows exactly None→Staging|Archived, Staging→Production|None|Archived, Production→Archived, Archived→Staging', () => {
    expect(ALLOWED_TRANSITIONS).toEqual({
      None: ['Staging', 'Archived'],
      Staging: ['Production', 'None', 'Archived'],
      Production: ['Archived'],
      Archived: ['Staging'],
    });
  });

  const histories: Record<Stage, () => ReturnType<typeof registeredVersion>> = {
    None: registeredVersion,
    Staging: evaluatedInStaging,
    Production: keptInProductionAfterServing,
    Archived: archivedAfterServing,
  };

  it.each<[Stage, Stage]>([
    ['None', 'Production'],
    ['Production', 'Staging'],
    ['Production', 'None'],
    ['Archived', 'None'],
  ])('refuses %s → %s: TRANSITION_NOT_ALLOWED, naming the allowed stages', (from, to) => {
    const error = spec
      .given(...histories[from]())
      .when(request(to))
      .thenFails('TRANSITION_NOT_ALLOWED');
    expect(error.details).toEqual({ from, allowed: ALLOWED_TRANSITIONS[from] });
  });

  it.each<Stage>(['None', 'Staging', 'Production', 'Archived'])(
    'refuses a request for the stage the version is already in (%s): ALREADY_IN_STAGE',
    (stage) => {
      spec
        .given(...histories[stage]())
        .when(request(stage))
        .thenFails('ALREADY_IN_STAGE');
    },
  );

  it('sends an archived version back to Production only by rollback: ROLLBACK_REQUIRED', () => {
    spec.given(...archivedAfterServing()).when(request('Production')).thenFails('ROLLBACK_REQUIRED');
  });

  it('moves None → Archived at once', () => {
    spec
      .given(...registeredVersion())
      .when(request('Archived', CONTEXT, 'cmd-archive', 'superseded before evaluation'))
      .then(
        transitionRequested('cmd-archive', 'None', 'Archived', bob, 'superseded before evaluation'),
        stageTransitioned('None', 'Archived', { kind: 'request', requestId: 'cmd-archive' }),
      );
  });

  it('moves Staging → None without evaluating again', () => {
    spec
      .given(...evaluatedInStaging())
      .when(request('None', CONTEXT, 'cmd-unstage'))
      .then(
        transitionRequested('cmd-unstage', 'Staging', 'None'),
        stageTransitioned('Staging', 'None', { kind: 'request', requestId: 'cmd-unstage' }),
      );
  });

  it('moves Staging → Archived', () => {
    spec
      .given(...evaluatedInStaging())
      .when(request('Archived', CONTEXT, 'cmd-archive'))
      .then(
        transitionRequested('cmd-archive', 'Staging', 'Archived'),
        stageTransitioned('Staging', 'Archived', { kind: 'request', requestId: 'cmd-archive' }),
      );
  });

  it('records archive_existing_versions on a request to Staging or Production, and shows it on the request', () => {
    const asking = (toStage: Stage, id: string) =>
      versionCommand('RequestStageTransition', { toStage, comment: '', context: CONTEXT, archiveExistingVersions: true }, { by: bob, at: NOW, id });
    spec
      .given(...registeredVersion())
      .when(asking('Staging', 'cmd-stage'))
      .thenState((state, events) => {
        expect(events[0]).toEqual({ ...transitionRequested('cmd-stage', 'None', 'Staging'), data: { ...transitionRequested('cmd-stage', 'None', 'Staging').data, archiveExistingVersions: true } });
        expect(state.status === 'registered' && state.requests.at(-1)).toMatchObject({ id: 'cmd-stage', archiveExistingVersions: true });
      });
    // Archiving others makes no sense on the way out: the flag is dropped, as MLflow ignores it there.
    spec
      .given(...evaluatedInStaging())
      .when(asking('Archived', 'cmd-archive'))
      .then(transitionRequested('cmd-archive', 'Staging', 'Archived'), stageTransitioned('Staging', 'Archived', { kind: 'request', requestId: 'cmd-archive' }));
  });

  it('moves Production → Archived once the version no longer serves', () => {
    spec
      .given(...keptInProductionAfterServing())
      .when(request('Archived', contextWith({ servingVersion: 8 }), 'cmd-archive'))
      .then(
        transitionRequested('cmd-archive', 'Production', 'Archived'),
        stageTransitioned('Production', 'Archived', { kind: 'request', requestId: 'cmd-archive' }),
      );
  });

  it('refuses to archive the version that serves traffic: VERSION_IS_SERVING', () => {
    spec
      .given(...servingInProduction())
      .when(request('Archived', contextWith({ servingVersion: 7 })))
      .thenFails('VERSION_IS_SERVING');
  });

  it('refuses any transition while an approval is pending: APPROVAL_PENDING', () => {
    const error = spec.given(...awaitingApproval()).when(request('None')).thenFails('APPROVAL_PENDING');
    expect(error.details).toEqual({ approvalId: 'appr-1' });
  });

  it('refuses a second Production request while the first awaits approval: APPROVAL_PENDING', () => {
    spec.given(...awaitingApproval()).when(request('Production')).thenFails('APPROVAL_PENDING');
  });

  it('refuses any transition while a deployment is in flight: DEPLOYMENT_IN_PROGRESS', () => {
    const error = spec
      .given(...deployingToProduction())
      .when(request('Archived'))
      .thenFails('DEPLOYMENT_IN_PROGRESS');
    expect(error.details).toEqual({ deploymentId: 'dep-1' });
  });

  it('counts a started deployment as in flight too: DEPLOYMENT_IN_PROGRESS', () => {
    spec
      .given(...deployingToProduction(), deploymentStarted('dep-1'))
      .when(request('Archived'))
      .thenFails('DEPLOYMENT_IN_PROGRESS');
  });
});

describe('rule 2: entering Staging requests an evaluation', () => {
  it('evaluates against the standard set pinned to its current digest, compared with the serving champion', () => {
    spec
      .given(...registeredVersion())
      .when(request('Staging', CONTEXT, 'cmd-stage', 'beats v5 offline'))
      .then(
        transitionRequested('cmd-stage', 'None', 'Staging', bob, 'beats v5 offline'),
        stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'cmd-stage' }),
        evaluationRequested(deriveId('cmd-stage', 'evaluation'), {
          set: { name: EVAL_SET, digest: SET_DIGEST },
          championVersion: CHAMPION,
          reason: 'entered-staging',
        }),
      );
  });

  it('names no champion when nothing serves yet', () => {
    spec
      .given(...registeredVersion())
      .when(request('Staging', contextWith({ servingVersion: null }), 'cmd-stage'))
      .thenEvents((events) => {
        expect(events[2]).toEqual(evaluationRequested(deriveId('cmd-stage', 'evaluation'), { championVersion: null }));
      });
  });

  it('does not evaluate when the model has no evaluation set in its policy', () => {
    spec
      .given(...registeredVersion())
      .when(request('Staging', contextWith({ policy: policyWith({ evaluation: undefined }) }), 'cmd-stage'))
      .then(
        transitionRequested('cmd-stage', 'None', 'Staging'),
        stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'cmd-stage' }),
      );
  });

  it('re-evaluates an archived version on the set and champion of today (Archived → Staging)', () => {
    spec
      .given(...archivedAfterServing())
      .when(request('Staging', contextWith({ currentSetDigest: NEWER_SET_DIGEST, servingVersion: 8 }), 'cmd-restage'))
      .then(
        transitionRequested('cmd-restage', 'Archived', 'Staging'),
        stageTransitioned('Archived', 'Staging', { kind: 'request', requestId: 'cmd-restage' }),
        evaluationRequested(deriveId('cmd-restage', 'evaluation'), {
          set: { name: EVAL_SET, digest: NEWER_SET_DIGEST },
          championVersion: 8,
        }),
      );
  });

  it('shows the request as evaluating until the evaluation finishes', () => {
    spec
      .given(...registeredVersion())
      .when(request('Staging', CONTEXT, 'cmd-stage'))
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Staging',
          stageSince: NOW,
          requests: [{ id: 'cmd-stage', status: 'evaluating', evaluationId: deriveId('cmd-stage', 'evaluation') }],
          evaluations: [{ id: deriveId('cmd-stage', 'evaluation'), status: 'running', requestedAt: NOW }],
        });
      });
  });
});

describe('rule 3: a Production request passes the automated gates before it opens an approval', () => {
  const requestProduction = (context: GateContext = CONTEXT) => request('Production', context, 'cmd-promote', 'ship it');

  describe('refusals, audited as PromotionRefused with the failing checks', () => {
    it('refuses a version that was never evaluated', () => {
      spec
        .given(
          ...registeredVersion(),
          transitionRequested('req-staging', 'None', 'Staging'),
          stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
        )
        .when(requestProduction())
        .then(
          transitionRequested('cmd-promote', 'Staging', 'Production', bob, 'ship it'),
          {
            type: 'PromotionRefused',
            data: {
              requestId: 'cmd-promote',
              toStage: 'Production',
              checks: [
                {
                  metric: 'evaluation',
                  rule: 'completed',
                  passed: false,
                  detail: 'this version has not been evaluated: move it to Staging first',
                },
              ],
            },
          },
        );
    });

    it('refuses while the evaluation is still running', () => {
      spec
        .given(...versionInStaging())
        .when(requestProduction())
        .thenEvents(([, refused]) => {
          expect(refused).toEqual({
            type: 'PromotionRefused',
            data: {
              requestId: 'cmd-promote',
              toStage: 'Production',
              checks: [{ metric: 'evaluation', rule: 'completed', passed: false, detail: 'evaluation eval-1 is still running' }],
            },
          });
        });
    });

    it('refuses when the evaluation failed, quoting the reason', () => {
      spec
        .given(...versionInStaging(), evaluationFailed('eval-1', 'artifact digest mismatch', 'ARTIFACT_DIGEST_MISMATCH'))
        .when(requestProduction())
        .thenEvents(([, refused]) => {
          expect(refused).toMatchObject({
            type: 'PromotionRefused',
            data: {
              checks: [
                {
                  metric: 'evaluation',
                  rule: 'completed',
                  passed: false,
                  detail: 'evaluation eval-1 failed: artifact digest mismatch',
                },
              ],
            },
          });
        });
    });

    it('refuses an evaluation on an outdated version of the standard set (its digest differs)', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ currentSetDigest: NEWER_SET_DIGEST })))
        .thenEvents(([, refused]) => {
          expect(refused?.type).toBe('PromotionRefused');
          if (refused?.type !== 'PromotionRefused') return;
          expect(failedChecks(refused.data.checks)).toEqual(['evaluation/current-set']);
          expect(refused.data.checks.find((c) => c.rule === 'current-set')?.detail).toContain(NEWER_SET_DIGEST);
        });
    });

    it('refuses an evaluation on another set than the one the policy now names', () => {
      const policy = policyWith({ evaluation: { set: 'churn-holdout-2025q2', thresholds: {} } });
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ policy, currentSetDigest: null })))
        .thenEvents(([, refused]) => {
          if (refused?.type !== 'PromotionRefused') throw new Error('expected PromotionRefused');
          expect(failedChecks(refused.data.checks)).toEqual(['evaluation/current-set']);
        });
    });

    it('refuses an evaluation against another champion than the one serving now', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ servingVersion: 6 })))
        .thenEvents(([, refused]) => {
          if (refused?.type !== 'PromotionRefused') throw new Error('expected PromotionRefused');
          expect(failedChecks(refused.data.checks)).toEqual(['champion/champion']);
          expect(refused.data.checks.find((c) => c.rule === 'champion')?.detail).toBe(
            'compared with v5, but v6 serves now: re-evaluate',
          );
        });
    });

    it('refuses an evaluation without comparison when a champion serves', () => {
      spec
        .given(...versionInStaging(), evaluationCompleted('eval-1', { comparison: null }))
        .when(requestProduction())
        .thenEvents(([, refused]) => {
          if (refused?.type !== 'PromotionRefused') throw new Error('expected PromotionRefused');
          expect(failedChecks(refused.data.checks)).toEqual(['champion/champion']);
        });
    });

    it('refuses when the metrics miss the thresholds, listing every miss with its numbers', () => {
      spec
        .given(
          ...versionInStaging(),
          evaluationCompleted('eval-1', {
            metrics: { ...CANDIDATE_METRICS, accuracy: 0.88 },
            comparison: {
              ...COMPARISON_WITH_CHAMPION,
              metrics: {
                ...COMPARISON_WITH_CHAMPION.metrics,
                roc_auc: { candidate: 0.943, champion: 0.941, difference: 0.002 },
              },
            },
          }),
        )
        .when(requestProduction())
        .thenEvents(([, refused]) => {
          if (refused?.type !== 'PromotionRefused') throw new Error('expected PromotionRefused');
          expect(refused.data.checks.filter((c) => !c.passed)).toEqual([
            {
              metric: 'accuracy',
              rule: 'threshold',
              passed: false,
              value: 0.88,
              expected: 0.9,
              detail: 'accuracy 0.88 misses the threshold >= 0.9',
            },
            {
              metric: 'roc_auc',
              rule: 'min_absolute_change',
              passed: false,
              value: 0.943,
              baseline: 0.941,
              expected: 0.005,
              detail: 'roc_auc improves on v5 by 0.002 (point estimate); required 0.005',
            },
          ]);
        });
    });

    it('records the refusal on the request, with its checks', () => {
      spec
        .given(...versionInStaging())
        .when(requestProduction())
        .thenState((state) => {
          if (state.status !== 'registered') throw new Error('expected a registered version');
          expect(state.stage).toBe('Staging');
          expect(state.requests.at(-1)).toMatchObject({
            id: 'cmd-promote',
            kind: 'transition',
            fromStage: 'Staging',
            toStage: 'Production',
            status: 'refused',
            checks: [{ rule: 'completed', passed: false }],
          });
        });
    });
  });

  describe('passing the gates', () => {
    it('opens an approval that pins its evidence and lists the passed checks', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction())
        .then(transitionRequested('cmd-promote', 'Staging', 'Production', bob, 'ship it'), {
          type: 'ApprovalRequested',
          data: {
            approvalId: deriveId('cmd-promote', 'approval'),
            requestId: 'cmd-promote',
            purpose: 'promotion',
            targetStage: 'Production',
            rule: PRODUCTION_APPROVAL,
            requestedBy: bob,
            expiresAt: '2025-03-07T10:00:00.000Z',
            evidence: { evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: CHAMPION },
            checks: [
              { metric: 'evaluation', rule: 'completed', passed: true, detail: 'evaluation eval-1 completed' },
              { metric: 'evaluation', rule: 'current-set', passed: true, detail: `evaluated on ${EVAL_SET} ${SET_DIGEST}` },
              { metric: 'champion', rule: 'champion', passed: true, detail: 'compared with serving champion v5 on the same rows' },
              ...PASSING_VERDICT.checks,
            ],
            afterTheFact: false,
          },
        });
    });

    it('uses the default approval rule (one reviewer, seven days) when the policy names none', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ policy: policyWith({ approval: undefined }) })))
        .thenEvents(([, opened]) => {
          expect(opened).toMatchObject({
            type: 'ApprovalRequested',
            data: { rule: DEFAULT_PRODUCTION_APPROVAL, expiresAt: '2025-03-11T10:00:00.000Z' },
          });
        });
    });

    it('passes on absolute thresholds alone when no champion serves; change rules do not apply', () => {
      spec
        .given(
          ...versionInStaging(),
          evaluationCompleted('eval-1', { comparison: null }),
        )
        .when(requestProduction(contextWith({ servingVersion: null })))
        .thenEvents(([, opened]) => {
          if (opened?.type !== 'ApprovalRequested') throw new Error('expected ApprovalRequested');
          expect(opened.data.evidence).toEqual({ evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: null });
          expect(opened.data.checks.find((c) => c.rule === 'min_absolute_change')).toEqual({
            metric: 'roc_auc',
            rule: 'min_absolute_change',
            passed: true,
            detail: 'no champion serves yet: min_absolute_change does not apply',
          });
        });
    });

    it('accepts the evaluated set by name when the current digest is unknown', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ currentSetDigest: null })))
        .thenEvents(([, opened]) => expect(opened?.type).toBe('ApprovalRequested'));
    });

    it('needs no evaluation when the model has no evaluation policy, and pins only the champion', () => {
      spec
        .given(
          ...registeredVersion(),
          transitionRequested('req-staging', 'None', 'Staging'),
          stageTransitioned('None', 'Staging', { kind: 'request', requestId: 'req-staging' }),
        )
        .when(requestProduction(contextWith({ policy: policyWith({ evaluation: undefined }) })))
        .thenEvents(([, opened]) => {
          if (opened?.type !== 'ApprovalRequested') throw new Error('expected ApprovalRequested');
          expect(opened.data.evidence).toEqual({ evaluationId: null, datasetDigest: null, championVersion: CHAMPION });
          expect(opened.data.checks).toEqual([
            { metric: 'evaluation', rule: 'policy', passed: true, detail: 'the model has no evaluation policy: no automated gate applies' },
          ]);
        });
    });

    it('shows the request as awaiting approval', () => {
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction())
        .thenState((state) => {
          expect(state).toMatchObject({
            stage: 'Staging',
            requests: [
              { id: 'req-staging', status: 'completed' },
              { id: 'cmd-promote', status: 'awaiting-approval', approvalId: deriveId('cmd-promote', 'approval') },
            ],
            approvals: [{ id: deriveId('cmd-promote', 'approval'), status: 'pending', approvals: [], requestedAt: NOW }],
          });
        });
    });

    it('with `required: 0` moves to Production and requests the deployment at once', () => {
      const deploymentId = deriveId('cmd-promote', 'deployment');
      const policy = policyWith({ approval: { Production: { ...PRODUCTION_APPROVAL, required: 0 } } });
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ policy })))
        .then(
          transitionRequested('cmd-promote', 'Staging', 'Production', bob, 'ship it'),
          stageTransitioned('Staging', 'Production', { kind: 'request', requestId: 'cmd-promote' }),
          {
            type: 'DeploymentRequested',
            data: {
              deploymentId,
              requestId: 'cmd-promote',
              idempotencyKey: `${MODEL}@7/${deploymentId}`,
              purpose: 'promotion',
              targets: PRODUCTION_TARGETS,
              previousStage: 'Staging',
              replacing: CHAMPION,
            },
          },
        );
    });

    it('deploys to the default local target when the policy names no deployment target', () => {
      const policy = { ...POLICY, approval: { Production: { ...PRODUCTION_APPROVAL, required: 0 } }, deployment: undefined };
      spec
        .given(...evaluatedInStaging())
        .when(requestProduction(contextWith({ policy })))
        .thenEvents((events) => {
          expect(events.at(-1)).toMatchObject({
            type: 'DeploymentRequested',
            data: { targets: [...DEFAULT_DEPLOYMENT_TARGETS] },
          });
          expect(DEFAULT_DEPLOYMENT_TARGETS).toEqual([{ kind: 'local', environment: 'production' }]);
        });
    });

    it('still refuses a failing version when no approval is required', () => {
      const policy = policyWith({ approval: { Production: { ...PRODUCTION_APPROVAL, required: 0 } } });
      spec
        .given(...versionInStaging())
        .when(requestProduction(contextWith({ policy })))
        .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['StageTransitionRequested', 'PromotionRefused']));
    });
  });
});
