import {
  LOWER_IS_BETTER_METRICS,
  type Comparison,
  type GateCheck,
  type MetricThreshold,
  type Verdict,
} from '@mrw/contracts';

/** Whether bigger is better for a metric: the threshold's say, else the metric's nature. */
export const greaterIsBetter = (metric: string, threshold: MetricThreshold): boolean =>
  threshold.greaterIsBetter ?? !LOWER_IS_BETTER_METRICS.includes(metric);

const fmt = (n: number): string => (Number.isFinite(n) ? Number(n.toPrecision(6)).toString() : String(n));

/**
 * Relative improvement over a baseline, safe for negative and zero baselines: the
 * improvement is divided by |baseline| (MLflow multiplies the baseline, which inverts the
 * rule for negative values such as R² below zero). A zero baseline gives ±Infinity for any
 * strict improvement or regression.
 */
export const relativeImprovement = (improvement: number, baseline: number): number => {
  if (baseline !== 0) return improvement / Math.abs(baseline);
  if (improvement === 0) return 0;
  return improvement > 0 ? Infinity : -Infinity;
};

/**
 * MLflow `MetricThreshold` semantics, made stricter where asked: with
 * `requireConfidenceBound` a change rule must hold for the worst end of the 95% CI of the
 * paired difference. With no champion (`comparison` null) change rules do not apply and the
 * absolute thresholds alone decide.
 */
export const checkThresholds = (
  thresholds: Readonly<Record<string, MetricThreshold>>,
  metrics: Readonly<Record<string, number>>,
  comparison: Comparison | null,
): GateCheck[] => {
  const checks: GateCheck[] = [];
  for (const [metric, rule] of Object.entries(thresholds)) {
    const higher = greaterIsBetter(metric, rule);
    const value = metrics[metric];
    if (value === undefined || !Number.isFinite(value)) {
      checks.push({
        metric,
        rule: 'present',
        passed: false,
        detail: `${metric} was not computed by the evaluation`,
      });
      continue;
    }
    if (rule.threshold !== undefined) {
      const passed = higher ? value >= rule.threshold : value <= rule.threshold;
      checks.push({
        metric,
        rule: 'threshold',
        passed,
        value,
        expected: rule.threshold,
        detail: `${metric} ${fmt(value)} ${passed ? 'meets' : 'misses'} the threshold ${higher ? '>=' : '<='} ${fmt(rule.threshold)}`,
      });
    }
    const changeRules: Array<['min_absolute_change' | 'min_relative_change', number]> = [];
    if (rule.minAbsoluteChange !== undefined) changeRules.push(['min_absolute_change', rule.minAbsoluteChange]);
    if (rule.minRelativeChange !== undefined) changeRules.push(['min_relative_change', rule.minRelativeChange]);
    for (const [ruleName, minimum] of changeRules) {
      checks.push(checkChange(metric, ruleName, minimum, higher, rule.requireConfidenceBound ?? false, comparison));
    }
  }
  return checks;
};

const checkChange = (
  metric: string,
  rule: 'min_absolute_change' | 'min_relative_change',
  minimum: number,
  higher: boolean,
  requireBound: boolean,
  comparison: Comparison | null,
): GateCheck => {
  if (comparison === null) {
    return { metric, rule, passed: true, detail: `no champion serves yet: ${rule} does not apply` };
  }
  const compared = comparison.metrics[metric];
  if (!compared) {
    return {
      metric,
      rule,
      passed: false,
      detail: `${metric} was not compared with champion v${comparison.championVersion}`,
    };
  }
  const baseline = compared.champion;
  let improvement = higher ? compared.difference : -compared.difference;
  let basis = 'point estimate';
  if (requireBound) {
    if (!compared.ci) {
      return {
        metric,
        rule,
        passed: false,
        value: compared.candidate,
        baseline,
        detail: `${rule} requires a confidence bound but none was recorded for ${metric}`,
      };
    }
    // The worst case for the candidate within the interval.
    improvement = higher ? compared.ci.lower : -compared.ci.upper;
    basis = `${Math.round(compared.ci.level * 100)}% CI bound`;
  }
  const achieved = rule === 'min_absolute_change' ? improvement : relativeImprovement(improvement, baseline);
  const passed = achieved >= minimum;
  const unit = rule === 'min_relative_change' ? ' (relative)' : '';
  return {
    metric,
    rule,
    passed,
    value: compared.candidate,
    baseline,
    expected: minimum,
    detail: `${metric} improves on v${comparison.championVersion} by ${fmt(achieved)}${unit} (${basis}); required ${fmt(minimum)}`,
  };
};

export const verdictOf = (checks: readonly GateCheck[]): Verdict => ({
  passed: checks.every((c) => c.passed),
  checks: [...checks],
});
