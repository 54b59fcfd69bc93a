import { deriveId, type EvaluationMeasurements } from '@mrw/contracts';
import {
  artifactOfVersion,
  bob,
  CANDIDATE_ARTIFACT,
  CANDIDATE_METRICS,
  CHAMPION,
  commandsOf,
  COMPARISON_WITH_CHAMPION,
  CONTEXT,
  contextWith,
  deciderSpec,
  EVAL_SET,
  evaluatedInStaging,
  evaluationCompleted,
  evaluationFailed,
  evaluationMeasured,
  evaluationProgressed,
  evaluationRequested,
  evaluator,
  failedChecks,
  NEWER_SET_DIGEST,
  NOW,
  PASSING_VERDICT,
  policyWith,
  registeredVersion,
  SET_DIGEST,
  versionInStaging,
  versionRegistered,
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

const requestEvaluation = (context: GateContext = CONTEXT) =>
  versionCommand('RequestEvaluation', { context }, { by: bob, at: NOW, id: 'cmd-evaluate' });

const progress = (evaluationId: string, rowsDone: number, rowsTotal: number) =>
  versionCommand('RecordEvaluationProgress', { evaluationId, rowsDone, rowsTotal }, { by: evaluator, at: NOW, id: 'cmd-progress' });

const result = (evaluationId: string, context: GateContext = CONTEXT, change: Partial<EvaluationMeasurements> = {}) =>
  versionCommand(
    'RecordEvaluationResult',
    { ...evaluationMeasured(evaluationId, change), context },
    { by: evaluator, at: NOW, id: 'cmd-result' },
  );

const failure = (evaluationId: string, reason = 'model input has 31 features, the set has 30', code = 'SCHEMA_MISMATCH') =>
  versionCommand('RecordEvaluationFailure', { evaluationId, reason, code }, { by: evaluator, at: NOW, id: 'cmd-failure' });

describe('what an evaluation request carries to the evaluator', () => {
  const requested = (events: readonly { type: string; data?: unknown }[]) =>
    events.find((e) => e.type === 'EvaluationRequested')?.data;

  it("names the set, the candidate's artifact and the serving champion's, so the evaluator reads no registry stream", () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation())
      .thenEvents((events) =>
        expect(requested(events)).toEqual({
          evaluationId: deriveId('cmd-evaluate', 'evaluation'),
          set: { name: EVAL_SET, digest: SET_DIGEST },
          candidate: { source: CANDIDATE_ARTIFACT.source, digest: CANDIDATE_ARTIFACT.digest },
          championVersion: CHAMPION,
          champion: { version: CHAMPION, ...artifactOfVersion(CHAMPION) },
          reason: 'requested',
        }),
      );
  });

  it('carries the artifact as registered, with no digest when the registrant gave none', () => {
    spec
      .given(
        versionRegistered({ source: 'artifacts://sha256/abc', artifactDigest: null }),
        ...versionInStaging().slice(1),
        evaluationFailed('eval-1', 'out of memory', 'OOM'),
      )
      .when(requestEvaluation())
      .thenEvents((events) =>
        expect(requested(events)).toMatchObject({ candidate: { source: 'artifacts://sha256/abc', digest: null } }),
      );
  });

  it('names no champion when none serves', () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation(contextWith({ servingVersion: null })))
      .thenEvents((events) => expect(requested(events)).toMatchObject({ championVersion: null, champion: null }));
  });

  it('names no champion when the version itself serves', () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation(contextWith({ servingVersion: 7 })))
      .thenEvents((events) => expect(requested(events)).toMatchObject({ championVersion: null, champion: null }));
  });

  it("compares with no champion rather than one it cannot name the file of (the gates then ask for a re-evaluation)", () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation(contextWith({ servingArtifact: null })))
      .thenEvents((events) => expect(requested(events)).toMatchObject({ championVersion: null, champion: null }));
  });

  it('carries them on entering Staging too', () => {
    spec
      .given(...registeredVersion())
      .when(versionCommand('RequestStageTransition', { toStage: 'Staging', comment: '', context: CONTEXT }, { by: bob, at: NOW, id: 'cmd-staging' }))
      .thenEvents((events) =>
        expect(requested(events)).toMatchObject({
          candidate: CANDIDATE_ARTIFACT,
          champion: { version: CHAMPION, ...artifactOfVersion(CHAMPION) },
          reason: 'entered-staging',
        }),
      );
  });
});

describe('requesting an evaluation again', () => {
  it('evaluates a version in Staging on the current set, against the current champion', () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation(contextWith({ currentSetDigest: NEWER_SET_DIGEST, servingVersion: 6 })))
      .then(
        evaluationRequested(deriveId('cmd-evaluate', 'evaluation'), {
          set: { name: EVAL_SET, digest: NEWER_SET_DIGEST },
          championVersion: 6,
          reason: 'requested',
        }),
      );
  });

  it('refuses a version outside Staging: NOT_IN_STAGING', () => {
    spec.given(...registeredVersion()).when(requestEvaluation()).thenFails('NOT_IN_STAGING');
  });

  it('refuses when the model has no evaluation set in its policy: NO_EVALUATION_POLICY', () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation(contextWith({ policy: policyWith({ evaluation: undefined }) })))
      .thenFails('NO_EVALUATION_POLICY');
  });

  it('refuses while the last evaluation still runs: EVALUATION_RUNNING', () => {
    spec.given(...versionInStaging()).when(requestEvaluation()).thenFails('EVALUATION_RUNNING');
  });

  it('does not touch the Staging request that already completed', () => {
    spec
      .given(...evaluatedInStaging())
      .when(requestEvaluation())
      .thenState((state) => {
        expect(state).toMatchObject({
          requests: [{ id: 'req-staging', status: 'completed', evaluationId: 'eval-1' }],
          evaluations: [
            { id: 'eval-1', status: 'completed' },
            { id: deriveId('cmd-evaluate', 'evaluation'), status: 'running' },
          ],
        });
      });
  });
});

describe('evaluation progress', () => {
  it('records progress of a running evaluation', () => {
    spec
      .given(...versionInStaging())
      .when(progress('eval-1', 25_000, 100_000))
      .then(evaluationProgressed('eval-1', 25_000, 100_000));
  });

  it('shows the progress on the evaluation', () => {
    spec
      .given(...versionInStaging(), evaluationProgressed('eval-1', 25_000, 100_000))
      .when(progress('eval-1', 50_000, 100_000))
      .thenState((state) => {
        expect(state).toMatchObject({ evaluations: [{ id: 'eval-1', status: 'running', progress: { rowsDone: 50_000, rowsTotal: 100_000 } }] });
      });
  });

  it('refuses progress for an unknown evaluation: EVALUATION_NOT_FOUND', () => {
    spec.given(...versionInStaging()).when(progress('eval-404', 1, 2)).thenFails('EVALUATION_NOT_FOUND');
  });

  it('refuses progress for a finished evaluation: EVALUATION_NOT_RUNNING', () => {
    spec.given(...evaluatedInStaging()).when(progress('eval-1', 1, 2)).thenFails('EVALUATION_NOT_RUNNING');
  });
});

describe('evaluation results', () => {
  it('records a completed evaluation with its metrics, comparison and verdict', () => {
    spec.given(...versionInStaging()).when(result('eval-1')).then(evaluationCompleted('eval-1'));
  });

  it('completes the Staging request and shows the evaluation on the version', () => {
    spec
      .given(...versionInStaging())
      .when(result('eval-1'))
      .thenState((state) => {
        expect(state).toMatchObject({
          requests: [{ id: 'req-staging', status: 'completed' }],
          evaluations: [
            {
              id: 'eval-1',
              status: 'completed',
              set: { name: EVAL_SET, digest: SET_DIGEST },
              championVersion: 5,
              finishedAt: NOW,
              metrics: CANDIDATE_METRICS,
              comparison: COMPARISON_WITH_CHAMPION,
              verdict: PASSING_VERDICT,
              reason: null,
            },
          ],
        });
      });
  });

  it('refuses a result for an unknown evaluation: EVALUATION_NOT_FOUND', () => {
    spec.given(...versionInStaging()).when(result('eval-404')).thenFails('EVALUATION_NOT_FOUND');
  });

  it('refuses a second result for the same evaluation: EVALUATION_NOT_RUNNING', () => {
    spec.given(...evaluatedInStaging()).when(result('eval-1')).thenFails('EVALUATION_NOT_RUNNING');
  });

  it('refuses a result for an evaluation that already failed: EVALUATION_NOT_RUNNING', () => {
    spec
      .given(...versionInStaging(), evaluationFailed('eval-1', 'out of memory', 'OOM'))
      .when(result('eval-1'))
      .thenFails('EVALUATION_NOT_RUNNING');
  });
});

describe("the registry's verdict on the evaluator's measurements", () => {
  const verdictOfResult = (events: readonly { type: string; data?: unknown }[]) =>
    (events.find((e) => e.type === 'EvaluationCompleted')?.data as { verdict: { passed: boolean; checks: Array<{ metric: string; rule: string; passed: boolean }> } })
      .verdict;

  it("judges the metrics against the policy's thresholds: a missed threshold fails the verdict", () => {
    spec
      .given(...versionInStaging())
      .when(result('eval-1', CONTEXT, { metrics: { ...CANDIDATE_METRICS, accuracy: 0.87 } }))
      .thenEvents((events) => {
        const verdict = verdictOfResult(events);
        expect(verdict.passed).toBe(false);
        expect(failedChecks(verdict.checks)).toEqual(['accuracy/threshold']);
      });
  });

  it('judges the comparison with the champion: too small an improvement fails the verdict', () => {
    const comparison = {
      ...COMPARISON_WITH_CHAMPION,
      metrics: {
        ...COMPARISON_WITH_CHAMPION.metrics,
        roc_auc: { candidate: 0.943, champion: 0.941, difference: 0.002, ci: { lower: -0.003, upper: 0.007, level: 0.95 } },
      },
    };
    spec
      .given(...versionInStaging())
      .when(result('eval-1', CONTEXT, { comparison }))
      .thenEvents((events) => {
        const verdict = verdictOfResult(events);
        expect(verdict.passed).toBe(false);
        expect(failedChecks(verdict.checks)).toEqual(['roc_auc/min_absolute_change']);
      });
  });

  it('lets the absolute thresholds alone decide when no champion was compared', () => {
    spec
      .given(...versionInStaging())
      .when(result('eval-1', contextWith({ servingVersion: null }), { comparison: null }))
      .thenEvents((events) => {
        const verdict = verdictOfResult(events);
        expect(verdict.passed).toBe(true);
        expect(verdict.checks).toEqual(
          expect.arrayContaining([expect.objectContaining({ metric: 'roc_auc', rule: 'min_absolute_change', passed: true })]),
        );
      });
  });

  it('uses the policy as it stands when the result is recorded, not when the evaluation was requested', () => {
    const stricter = policyWith({ evaluation: { set: EVAL_SET, thresholds: { accuracy: { threshold: 0.95 } } } });
    spec
      .given(...versionInStaging())
      .when(result('eval-1', contextWith({ policy: stricter })))
      .thenEvents((events) => {
        const verdict = verdictOfResult(events);
        expect(verdict.passed).toBe(false);
        expect(failedChecks(verdict.checks)).toEqual(['accuracy/threshold']);
      });
  });

  it('passes with no checks when the policy sets no thresholds', () => {
    spec
      .given(...versionInStaging())
      .when(result('eval-1', contextWith({ policy: policyWith({ evaluation: { set: EVAL_SET } }) })))
      .thenEvents((events) => expect(verdictOfResult(events)).toEqual({ passed: true, checks: [] }));
  });
});

describe('evaluation failures', () => {
  it('records the failure with its reason and code', () => {
    spec
      .given(...versionInStaging())
      .when(failure('eval-1'))
      .then(evaluationFailed('eval-1', 'model input has 31 features, the set has 30', 'SCHEMA_MISMATCH'));
  });

  it('shows the failed evaluation and completes the Staging request (the stage change itself succeeded)', () => {
    spec
      .given(...versionInStaging())
      .when(failure('eval-1'))
      .thenState((state) => {
        expect(state).toMatchObject({
          stage: 'Staging',
          requests: [{ id: 'req-staging', status: 'completed' }],
          evaluations: [
            { id: 'eval-1', status: 'failed', finishedAt: NOW, reason: 'model input has 31 features, the set has 30', code: 'SCHEMA_MISMATCH' },
          ],
        });
      });
  });

  it('refuses a failure for an unknown evaluation: EVALUATION_NOT_FOUND', () => {
    spec.given(...versionInStaging()).when(failure('eval-404')).thenFails('EVALUATION_NOT_FOUND');
  });

  it('refuses a failure for a completed evaluation: EVALUATION_NOT_RUNNING', () => {
    spec.given(...evaluatedInStaging()).when(failure('eval-1')).thenFails('EVALUATION_NOT_RUNNING');
  });

  it('lets a new evaluation be requested after a failure', () => {
    spec
      .given(...versionInStaging(), evaluationFailed('eval-1', 'out of memory', 'OOM'))
      .when(requestEvaluation())
      .thenEvents((events) => expect(events).toEqual([evaluationRequested(deriveId('cmd-evaluate', 'evaluation'), { reason: 'requested' })]));
  });
});
