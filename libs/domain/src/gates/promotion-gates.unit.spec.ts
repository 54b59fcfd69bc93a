import type { ModelVersionEvent } from '@mrw/contracts';
import {
  CANDIDATE_METRICS,
  CHAMPION,
  CONTEXT,
  contextWith,
  evaluatedInStaging,
  evaluationCompleted,
  evaluationFailed,
  failedChecks,
  NEWER_SET_DIGEST,
  policyWith,
  registeredVersion,
  SET_DIGEST,
  stamped,
  versionInStaging,
} from '@mrw/testing';
import { foldModelVersion, type RegisteredVersion } from '../model-version/model-version.state';
import { checkPromotionGates, sameEvidence } from './promotion-gates';

const version = (...events: ModelVersionEvent[]): RegisteredVersion => {
  const state = foldModelVersion(stamped(...events));
  if (state.status !== 'registered') throw new Error('expected a registered version');
  return state;
};

describe('checkPromotionGates (rule 3)', () => {
  it('passes a completed evaluation on the current set that beats the serving champion, pinning its evidence', () => {
    const outcome = checkPromotionGates(version(...evaluatedInStaging()), CONTEXT);
    expect(outcome.passed).toBe(true);
    expect(outcome.evidence).toEqual({ evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: CHAMPION });
    expect(outcome.checks.map((c) => `${c.metric}/${c.rule}`)).toEqual([
      'evaluation/completed',
      'evaluation/current-set',
      'champion/champion',
      'accuracy/threshold',
      'roc_auc/min_absolute_change',
    ]);
  });

  it('needs an evaluation', () => {
    const outcome = checkPromotionGates(version(...registeredVersion()), CONTEXT);
    expect(outcome).toMatchObject({ passed: false, evidence: { evaluationId: null, datasetDigest: null, championVersion: CHAMPION } });
    expect(failedChecks(outcome.checks)).toEqual(['evaluation/completed']);
  });

  it('needs the evaluation to have completed', () => {
    expect(checkPromotionGates(version(...versionInStaging()), CONTEXT)).toMatchObject({
      passed: false,
      checks: [{ rule: 'completed', passed: false, detail: 'evaluation eval-1 is still running' }],
    });
    expect(
      checkPromotionGates(version(...versionInStaging(), evaluationFailed('eval-1', 'OOM after 2M rows', 'OOM')), CONTEXT),
    ).toMatchObject({ passed: false, checks: [{ rule: 'completed', passed: false, detail: 'evaluation eval-1 failed: OOM after 2M rows' }] });
  });

  it('judges the latest evaluation, not an earlier one that passed', () => {
    const outcome = checkPromotionGates(
      version(
        ...evaluatedInStaging(),
        { type: 'EvaluationRequested', data: { evaluationId: 'eval-2', set: { name: 'churn-holdout', digest: SET_DIGEST }, championVersion: CHAMPION, reason: 'requested' } },
      ),
      CONTEXT,
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.evidence.evaluationId).toBe('eval-2');
  });

  it('needs the current version of the standard set', () => {
    const outcome = checkPromotionGates(version(...evaluatedInStaging()), contextWith({ currentSetDigest: NEWER_SET_DIGEST }));
    expect(outcome.passed).toBe(false);
    expect(failedChecks(outcome.checks)).toEqual(['evaluation/current-set']);
    expect(outcome.checks[1]?.detail).toBe(
      `evaluated on churn-holdout ${SET_DIGEST}, but the standard set is now churn-holdout ${NEWER_SET_DIGEST}: re-evaluate`,
    );
  });

  it('needs the comparison to be against the champion that serves now', () => {
    const outcome = checkPromotionGates(version(...evaluatedInStaging()), contextWith({ servingVersion: 6 }));
    expect(outcome).toMatchObject({ passed: false, evidence: { championVersion: 6 } });
    expect(failedChecks(outcome.checks)).toEqual(['champion/champion']);
  });

  it('ignores an old comparison when nothing serves any more: absolute thresholds alone decide', () => {
    const outcome = checkPromotionGates(
      version(
        ...versionInStaging(),
        evaluationCompleted('eval-1', {
          comparison: {
            championVersion: CHAMPION,
            metrics: { roc_auc: { candidate: 0.942, champion: 0.941, difference: 0.001 } },
          },
        }),
      ),
      contextWith({ servingVersion: null }),
    );
    expect(outcome.passed).toBe(true);
    expect(outcome.checks.find((c) => c.rule === 'champion')?.detail).toBe('no champion serves: absolute thresholds alone decide');
  });

  it('does not take the version itself for its champion', () => {
    const outcome = checkPromotionGates(version(...versionInStaging(), evaluationCompleted('eval-1', { comparison: null })), contextWith({ servingVersion: 7 }));
    expect(outcome.passed).toBe(true);
    expect(outcome.evidence.championVersion).toBeNull();
  });

  it('applies the policy thresholds to the evaluation metrics', () => {
    const outcome = checkPromotionGates(
      version(...versionInStaging(), evaluationCompleted('eval-1', { metrics: { ...CANDIDATE_METRICS, accuracy: 0.895 } })),
      CONTEXT,
    );
    expect(failedChecks(outcome.checks)).toEqual(['accuracy/threshold']);
  });

  it('passes with only the evidence checks when the policy has no thresholds', () => {
    const context = contextWith({ policy: policyWith({ evaluation: { set: 'churn-holdout' } }) });
    const outcome = checkPromotionGates(version(...evaluatedInStaging()), context);
    expect(outcome.passed).toBe(true);
    expect(outcome.checks).toHaveLength(3);
  });

  it('has no automated gate without an evaluation policy', () => {
    const outcome = checkPromotionGates(version(...registeredVersion()), contextWith({ policy: {} }));
    expect(outcome).toEqual({
      passed: true,
      checks: [{ metric: 'evaluation', rule: 'policy', passed: true, detail: 'the model has no evaluation policy: no automated gate applies' }],
      evidence: { evaluationId: null, datasetDigest: null, championVersion: CHAMPION },
    });
  });
});

describe('sameEvidence', () => {
  const pinned = { evaluationId: 'eval-1', datasetDigest: SET_DIGEST, championVersion: 5 };

  it('is the same only when evaluation, dataset digest and champion all match', () => {
    expect(sameEvidence(pinned, { ...pinned })).toBe(true);
    expect(sameEvidence(pinned, { ...pinned, evaluationId: 'eval-2' })).toBe(false);
    expect(sameEvidence(pinned, { ...pinned, datasetDigest: NEWER_SET_DIGEST })).toBe(false);
    expect(sameEvidence(pinned, { ...pinned, championVersion: 6 })).toBe(false);
    expect(sameEvidence(pinned, { ...pinned, championVersion: null })).toBe(false);
  });
});
