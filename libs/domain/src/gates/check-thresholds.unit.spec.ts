import type { Comparison, MetricComparison } from '@mrw/contracts';
import { checkThresholds, greaterIsBetter, relativeImprovement, verdictOf } from './check-thresholds';

/** A comparison with champion v5 on the same rows. */
const against = (metrics: Record<string, MetricComparison>): Comparison => ({ championVersion: 5, metrics });
const compared = (candidate: number, champion: number, ci?: { lower: number; upper: number }): MetricComparison => ({
  candidate,
  champion,
  difference: candidate - champion,
  ...(ci ? { ci: { ...ci, level: 0.95 } } : {}),
});

describe('checkThresholds: MLflow MetricThreshold semantics', () => {
  describe('threshold', () => {
    it('passes a greater-is-better metric at or above the threshold', () => {
      expect(checkThresholds({ accuracy: { threshold: 0.9 } }, { accuracy: 0.93 }, null)).toEqual([
        { metric: 'accuracy', rule: 'threshold', passed: true, value: 0.93, expected: 0.9, detail: 'accuracy 0.93 meets the threshold >= 0.9' },
      ]);
      expect(checkThresholds({ accuracy: { threshold: 0.9 } }, { accuracy: 0.9 }, null)[0]?.passed).toBe(true);
    });

    it('fails a greater-is-better metric below the threshold', () => {
      expect(checkThresholds({ accuracy: { threshold: 0.9 } }, { accuracy: 0.88 }, null)).toEqual([
        { metric: 'accuracy', rule: 'threshold', passed: false, value: 0.88, expected: 0.9, detail: 'accuracy 0.88 misses the threshold >= 0.9' },
      ]);
    });

    it('treats log_loss, mae, rmse and the fairness gaps as lower-is-better', () => {
      expect(checkThresholds({ log_loss: { threshold: 0.35 } }, { log_loss: 0.21 }, null)).toEqual([
        { metric: 'log_loss', rule: 'threshold', passed: true, value: 0.21, expected: 0.35, detail: 'log_loss 0.21 meets the threshold <= 0.35' },
      ]);
      expect(checkThresholds({ log_loss: { threshold: 0.35 } }, { log_loss: 0.41 }, null)[0]?.passed).toBe(false);
      expect(checkThresholds({ demographic_parity_difference: { threshold: 0.1 } }, { demographic_parity_difference: 0.04 }, null)[0]?.passed).toBe(true);
      for (const metric of ['log_loss', 'mae', 'rmse', 'mse', 'demographic_parity_difference', 'equalized_odds_difference']) {
        expect(greaterIsBetter(metric, {})).toBe(false);
      }
      for (const metric of ['accuracy', 'roc_auc', 'f1_macro', 'r2', 'business_kpi']) {
        expect(greaterIsBetter(metric, {})).toBe(true);
      }
    });

    it('follows greaterIsBetter when the policy sets it', () => {
      // A KPI measured as cost per retained customer: lower is better.
      expect(checkThresholds({ business_kpi: { threshold: 12.5, greaterIsBetter: false } }, { business_kpi: 11.8 }, null)[0]).toMatchObject({
        passed: true,
        detail: 'business_kpi 11.8 meets the threshold <= 12.5',
      });
      expect(greaterIsBetter('log_loss', { greaterIsBetter: true })).toBe(true);
    });
  });

  describe('min_absolute_change against the champion', () => {
    it('passes when the candidate improves by at least the minimum', () => {
      expect(
        checkThresholds({ accuracy: { minAbsoluteChange: 0.01 } }, { accuracy: 0.93 }, against({ accuracy: compared(0.93, 0.91) })),
      ).toEqual([
        {
          metric: 'accuracy',
          rule: 'min_absolute_change',
          passed: true,
          value: 0.93,
          baseline: 0.91,
          expected: 0.01,
          detail: 'accuracy improves on v5 by 0.02 (point estimate); required 0.01',
        },
      ]);
    });

    it('fails when the improvement is smaller than the minimum', () => {
      const [check] = checkThresholds(
        { accuracy: { minAbsoluteChange: 0.01 } },
        { accuracy: 0.915 },
        against({ accuracy: { candidate: 0.915, champion: 0.91, difference: 0.005 } }),
      );
      expect(check).toMatchObject({ passed: false, value: 0.915, baseline: 0.91, expected: 0.01 });
    });

    it('passes at exactly the minimum', () => {
      const [check] = checkThresholds(
        { roc_auc: { minAbsoluteChange: 0.01 } },
        { roc_auc: 0.95 },
        against({ roc_auc: { candidate: 0.95, champion: 0.94, difference: 0.01 } }),
      );
      expect(check?.passed).toBe(true);
    });

    it('with minAbsoluteChange 0 accepts a tie and refuses a regression', () => {
      const tie = checkThresholds({ f1: { minAbsoluteChange: 0 } }, { f1: 0.88 }, against({ f1: compared(0.88, 0.88) }));
      const worse = checkThresholds({ f1: { minAbsoluteChange: 0 } }, { f1: 0.87 }, against({ f1: { candidate: 0.87, champion: 0.88, difference: -0.01 } }));
      expect(tie[0]?.passed).toBe(true);
      expect(worse[0]?.passed).toBe(false);
    });

    it('counts a decrease as the improvement of a lower-is-better metric', () => {
      const better = against({ log_loss: { candidate: 0.21, champion: 0.24, difference: -0.03 } });
      const worse = against({ log_loss: { candidate: 0.25, champion: 0.24, difference: 0.01 } });
      expect(checkThresholds({ log_loss: { minAbsoluteChange: 0.02 } }, { log_loss: 0.21 }, better)[0]).toMatchObject({
        passed: true,
        detail: 'log_loss improves on v5 by 0.03 (point estimate); required 0.02',
      });
      expect(checkThresholds({ log_loss: { minAbsoluteChange: 0.02 } }, { log_loss: 0.25 }, worse)[0]?.passed).toBe(false);
    });
  });

  describe('min_relative_change against the champion', () => {
    it('measures the improvement relative to the champion', () => {
      // 0.93 vs 0.91: +0.02 / 0.91 ≈ +2.2 %
      const comparison = against({ accuracy: compared(0.93, 0.91) });
      expect(checkThresholds({ accuracy: { minRelativeChange: 0.02 } }, { accuracy: 0.93 }, comparison)[0]).toMatchObject({
        rule: 'min_relative_change',
        passed: true,
        detail: 'accuracy improves on v5 by 0.021978 (relative) (point estimate); required 0.02',
      });
      expect(checkThresholds({ accuracy: { minRelativeChange: 0.03 } }, { accuracy: 0.93 }, comparison)[0]?.passed).toBe(false);
    });

    it('divides by |champion| so a negative baseline is not inverted (R² -0.5 → -0.25 is +50 %)', () => {
      const comparison = against({ r2: { candidate: -0.25, champion: -0.5, difference: 0.25 } });
      expect(checkThresholds({ r2: { minRelativeChange: 0.4 } }, { r2: -0.25 }, comparison)).toEqual([
        {
          metric: 'r2',
          rule: 'min_relative_change',
          passed: true,
          value: -0.25,
          baseline: -0.5,
          expected: 0.4,
          detail: 'r2 improves on v5 by 0.5 (relative) (point estimate); required 0.4',
        },
      ]);
      expect(relativeImprovement(0.25, -0.5)).toBe(0.5);
    });

    it('refuses a regression from a negative baseline (R² -0.5 → -0.75 is -50 %)', () => {
      const comparison = against({ r2: { candidate: -0.75, champion: -0.5, difference: -0.25 } });
      expect(checkThresholds({ r2: { minRelativeChange: 0 } }, { r2: -0.75 }, comparison)[0]).toMatchObject({
        passed: false,
        detail: 'r2 improves on v5 by -0.5 (relative) (point estimate); required 0',
      });
    });

    it('with a zero baseline passes any strict improvement and refuses a tie or regression', () => {
      const rule = { business_kpi: { minRelativeChange: 0.05 } };
      expect(checkThresholds(rule, { business_kpi: 0.1 }, against({ business_kpi: compared(0.1, 0) }))[0]).toMatchObject({
        passed: true,
        detail: 'business_kpi improves on v5 by Infinity (relative) (point estimate); required 0.05',
      });
      expect(checkThresholds(rule, { business_kpi: 0 }, against({ business_kpi: compared(0, 0) }))[0]?.passed).toBe(false);
      expect(checkThresholds(rule, { business_kpi: -0.1 }, against({ business_kpi: compared(-0.1, 0) }))[0]?.passed).toBe(false);
      expect(relativeImprovement(0, 0)).toBe(0);
      expect(relativeImprovement(0.1, 0)).toBe(Infinity);
      expect(relativeImprovement(-0.1, 0)).toBe(-Infinity);
    });

    it('measures a lower-is-better metric by its relative decrease', () => {
      // rmse 40 → 36 is a 10 % improvement
      const comparison = against({ rmse: { candidate: 36, champion: 40, difference: -4 } });
      expect(checkThresholds({ rmse: { minRelativeChange: 0.1 } }, { rmse: 36 }, comparison)[0]?.passed).toBe(true);
      expect(checkThresholds({ rmse: { minRelativeChange: 0.11 } }, { rmse: 36 }, comparison)[0]?.passed).toBe(false);
    });
  });

  describe('requireConfidenceBound: change rules must hold for the worst end of the 95% CI', () => {
    it('refuses a point estimate that passes when the CI lower bound does not', () => {
      const comparison = against({ accuracy: compared(0.93, 0.91, { lower: 0.004, upper: 0.036 }) });
      expect(
        checkThresholds({ accuracy: { minAbsoluteChange: 0.01, requireConfidenceBound: true } }, { accuracy: 0.93 }, comparison)[0],
      ).toMatchObject({ passed: false, detail: 'accuracy improves on v5 by 0.004 (95% CI bound); required 0.01' });
      expect(checkThresholds({ accuracy: { minAbsoluteChange: 0.01 } }, { accuracy: 0.93 }, comparison)[0]?.passed).toBe(true);
    });

    it('passes when even the CI lower bound clears the minimum', () => {
      const comparison = against({ accuracy: compared(0.93, 0.91, { lower: 0.012, upper: 0.028 }) });
      expect(
        checkThresholds({ accuracy: { minAbsoluteChange: 0.01, requireConfidenceBound: true } }, { accuracy: 0.93 }, comparison)[0],
      ).toMatchObject({ passed: true, detail: 'accuracy improves on v5 by 0.012 (95% CI bound); required 0.01' });
    });

    it('takes the upper bound as the worst end for a lower-is-better metric', () => {
      const rule = { log_loss: { minAbsoluteChange: 0.01, requireConfidenceBound: true } };
      const narrow = against({ log_loss: { candidate: 0.21, champion: 0.24, difference: -0.03, ci: { lower: -0.05, upper: -0.015, level: 0.95 } } });
      const wide = against({ log_loss: { candidate: 0.21, champion: 0.24, difference: -0.03, ci: { lower: -0.05, upper: -0.005, level: 0.95 } } });
      expect(checkThresholds(rule, { log_loss: 0.21 }, narrow)[0]).toMatchObject({ passed: true, detail: expect.stringContaining('by 0.015 (95% CI bound)') });
      expect(checkThresholds(rule, { log_loss: 0.21 }, wide)[0]).toMatchObject({ passed: false, detail: expect.stringContaining('by 0.005 (95% CI bound)') });
    });

    it('applies the bound to relative change too', () => {
      // worst case +0.0091 over 0.91 = +1 %
      const comparison = against({ accuracy: compared(0.93, 0.91, { lower: 0.0091, upper: 0.031 }) });
      const rule = (min: number) => ({ accuracy: { minRelativeChange: min, requireConfidenceBound: true } });
      expect(checkThresholds(rule(0.009), { accuracy: 0.93 }, comparison)[0]?.passed).toBe(true);
      expect(checkThresholds(rule(0.02), { accuracy: 0.93 }, comparison)[0]?.passed).toBe(false);
    });

    it('refuses when the evaluation recorded no confidence interval', () => {
      const comparison = against({ roc_auc: compared(0.954, 0.941) });
      expect(checkThresholds({ roc_auc: { minAbsoluteChange: 0, requireConfidenceBound: true } }, { roc_auc: 0.954 }, comparison)).toEqual([
        {
          metric: 'roc_auc',
          rule: 'min_absolute_change',
          passed: false,
          value: 0.954,
          baseline: 0.941,
          detail: 'min_absolute_change requires a confidence bound but none was recorded for roc_auc',
        },
      ]);
    });
  });

  describe('without a champion', () => {
    it('passes change rules as not applicable and lets the absolute threshold decide', () => {
      expect(
        checkThresholds({ accuracy: { threshold: 0.9, minAbsoluteChange: 0.01, minRelativeChange: 0.01, requireConfidenceBound: true } }, { accuracy: 0.93 }, null),
      ).toEqual([
        { metric: 'accuracy', rule: 'threshold', passed: true, value: 0.93, expected: 0.9, detail: 'accuracy 0.93 meets the threshold >= 0.9' },
        { metric: 'accuracy', rule: 'min_absolute_change', passed: true, detail: 'no champion serves yet: min_absolute_change does not apply' },
        { metric: 'accuracy', rule: 'min_relative_change', passed: true, detail: 'no champion serves yet: min_relative_change does not apply' },
      ]);
    });
  });

  describe('missing numbers', () => {
    it('fails a metric the evaluation did not compute, without checking its rules', () => {
      expect(checkThresholds({ roc_auc: { threshold: 0.9, minAbsoluteChange: 0 } }, { accuracy: 0.93 }, null)).toEqual([
        { metric: 'roc_auc', rule: 'present', passed: false, detail: 'roc_auc was not computed by the evaluation' },
      ]);
    });

    it('fails a metric that came back as NaN', () => {
      expect(checkThresholds({ roc_auc: { threshold: 0.9 } }, { roc_auc: Number.NaN }, null)[0]).toMatchObject({ rule: 'present', passed: false });
    });

    it('fails a change rule for a metric that was not compared with the champion', () => {
      expect(checkThresholds({ f1: { minAbsoluteChange: 0 } }, { f1: 0.88 }, against({ accuracy: compared(0.93, 0.91) }))).toEqual([
        { metric: 'f1', rule: 'min_absolute_change', passed: false, detail: 'f1 was not compared with champion v5' },
      ]);
    });
  });

  it('checks every rule of every metric, in order', () => {
    const checks = checkThresholds(
      { accuracy: { threshold: 0.9, minAbsoluteChange: 0.01, minRelativeChange: 0.05 }, log_loss: { threshold: 0.3 } },
      { accuracy: 0.93, log_loss: 0.21 },
      against({ accuracy: compared(0.93, 0.91) }),
    );
    expect(checks.map((c) => [c.metric, c.rule, c.passed])).toEqual([
      ['accuracy', 'threshold', true],
      ['accuracy', 'min_absolute_change', true],
      ['accuracy', 'min_relative_change', false],
      ['log_loss', 'threshold', true],
    ]);
  });

  it('has nothing to check without thresholds', () => {
    expect(checkThresholds({}, { accuracy: 0.93 }, null)).toEqual([]);
  });
});

describe('verdictOf', () => {
  it('passes only when every check passed', () => {
    const pass = { metric: 'accuracy', rule: 'threshold', passed: true, detail: '' };
    const miss = { metric: 'f1', rule: 'threshold', passed: false, detail: '' };
    expect(verdictOf([pass, pass])).toEqual({ passed: true, checks: [pass, pass] });
    expect(verdictOf([pass, miss])).toEqual({ passed: false, checks: [pass, miss] });
    expect(verdictOf([])).toEqual({ passed: true, checks: [] });
  });
});
