import type { Comparison } from '@mrw/contracts';
import { expectClose, loadReference, type ClassificationCase } from '../reference/reference';
import { EvaluationInputError } from './errors';
import { compareModels, computeMetrics, toComparison } from './evaluate';

const reference = loadReference();

describe('computeMetrics', () => {
  it('dispatches binary, multiclass and regression, with the task and row count', () => {
    const c = reference.classification.find((x) => x.name === 'multiclass_random') as ClassificationCase;
    const multiclass = computeMetrics(
      'multiclass',
      { yTrue: Int32Array.from(c.yTrue), yPred: Int32Array.from(c.yPred), proba: Float64Array.from(c.proba ?? []), groups: Int32Array.from(c.groups ?? []) },
      { groupNames: c.groupNames ?? [], costMatrix: c.costMatrix ?? [] },
    );
    expect(multiclass).toMatchObject({ task: 'multiclass', rows: 600, undefinedMetrics: [] });
    expect(multiclass.confusionMatrix).toEqual(c.confusionMatrix);
    expect(multiclass.slices?.map((s) => s.name)).toEqual(['web', 'store']);
    expectClose(multiclass.metrics['roc_auc_macro'], c.expected['roc_auc_macro'] ?? null, 'roc_auc_macro');

    const r = reference.regression[0];
    const regression = computeMetrics('regression', { yTrue: Float64Array.from(r?.yTrue ?? []), yPred: Float64Array.from(r?.yPred ?? []) });
    expect(regression).toMatchObject({ task: 'regression', rows: 400 });
    expect(regression.confusionMatrix).toBeUndefined();
    expectClose(regression.metrics['r2'], r?.expected['r2'] ?? null, 'r2');
  });

  it('refuses labels of the wrong array type and unknown tasks', () => {
    const y = Float64Array.from([0, 1]);
    expect(() => computeMetrics('binary', { yTrue: y as unknown as Int32Array, yPred: Int32Array.from([0, 1]) })).toThrow(EvaluationInputError);
    expect(() => computeMetrics('regression', { yTrue: Int32Array.from([0, 1]) as unknown as Float64Array, yPred: y })).toThrow(/Float64Array/);
    expect(() => computeMetrics('ranking' as 'binary', { yTrue: Int32Array.from([0]), yPred: Int32Array.from([0]) })).toThrow(/unknown task/);
  });
});

describe('compareModels', () => {
  const b = reference.bootstrap;
  const yTrue = Int32Array.from(b.yTrue);
  const predictions = (p: number[]) => ({ yPred: Int32Array.from(p, (x) => (x >= 0.5 ? 1 : 0)), proba: Float64Array.from(p) });
  const comparison = compareModels(
    'binary',
    { yTrue, candidate: predictions(b.candidateProba), champion: predictions(b.championProba) },
    { resamples: b.resamples, seed: b.seed },
  );

  it('gives every metric candidate, champion, difference and the Python bootstrap CI', () => {
    for (const [metric, expected] of Object.entries(b.expected)) {
      const m = comparison.metrics[metric];
      expectClose(m?.difference, expected.difference, metric);
      expectClose(m?.ci?.lower, expected.ci.lower, `${metric} lower`);
      expectClose(m?.ci?.upper, expected.ci.upper, `${metric} upper`);
      expect(m?.ci?.level).toBe(0.95);
    }
    expect(Object.keys(comparison.metrics)).toEqual(Object.keys(comparison.candidate.metrics));
    expect(comparison.bootstrap).toEqual({ resamples: 200, seed: 7, level: 0.95, method: 'percentile', prng: 'xoshiro128**' });
  });

  it('runs McNemar on paired correctness like statsmodels', () => {
    expect(comparison.mcnemar).toMatchObject({ b: b.mcnemar.b, c: b.mcnemar.c, method: b.mcnemar.exact ? 'exact' : 'chi2' });
    expectClose(comparison.mcnemar?.statistic, b.mcnemar.statistic, 'statistic');
    expectClose(comparison.mcnemar?.pValue, b.mcnemar.pvalue, 'p');
  });

  it('maps onto the contracts Comparison', () => {
    const recorded: Comparison = toComparison(comparison, 3);
    expect(recorded.championVersion).toBe(3);
    expect(recorded.bootstrap).toEqual({ resamples: 200, seed: 7 });
    expect(recorded.mcnemar).toEqual({ statistic: comparison.mcnemar?.statistic, pValue: comparison.mcnemar?.pValue });
    expect(recorded.metrics['roc_auc']).toEqual({
      candidate: comparison.metrics['roc_auc']?.candidate,
      champion: comparison.metrics['roc_auc']?.champion,
      difference: comparison.metrics['roc_auc']?.difference,
      ci: comparison.metrics['roc_auc']?.ci,
    });
    expect(JSON.parse(JSON.stringify(recorded))).toEqual(recorded);
  });

  it('compares with slices and a cost matrix (fairness and business metrics get CIs too)', () => {
    const c = reference.classification.find((x) => x.name === 'binary_random') as ClassificationCase;
    const y = Int32Array.from(c.yTrue);
    const proba = Float64Array.from(c.proba ?? []);
    const result = compareModels(
      'binary',
      {
        yTrue: y,
        groups: Int32Array.from(c.groups ?? []),
        candidate: { yPred: Int32Array.from(c.yPred), proba },
        champion: { yPred: Int32Array.from(proba, (p) => (p >= 0.7 ? 1 : 0)), proba },
      },
      { groupNames: c.groupNames ?? [], costMatrix: c.costMatrix ?? [], resamples: 100 },
    );
    for (const metric of ['demographic_parity_difference', 'equalized_odds_difference', 'business_kpi']) {
      expectClose(result.metrics[metric]?.candidate, c.expected[metric] ?? null, metric);
      expect(result.metrics[metric]?.ci?.lower).toBeLessThanOrEqual(result.metrics[metric]?.ci?.upper ?? NaN);
    }
    expect(result.metrics['roc_auc']?.difference).toBe(0); // same probabilities
    expect(result.candidate.slices).toHaveLength(3);
  });

  it('compares regressors without McNemar', () => {
    const r = reference.regression[0];
    const yTrue = Float64Array.from(r?.yTrue ?? []);
    const yPred = Float64Array.from(r?.yPred ?? []);
    const worse = yPred.map((v, i) => v + (i % 2 === 0 ? 1.5 : -1.5));
    const result = compareModels('regression', { yTrue, candidate: { yPred }, champion: { yPred: worse } }, { resamples: 200 });
    expect(result.mcnemar).toBeUndefined();
    expect(Object.keys(result.metrics)).toEqual(['mae', 'mse', 'rmse', 'r2']);
    expect(result.metrics['rmse']?.ci?.upper).toBeLessThan(0); // candidate's error is lower
    expect(result.metrics['r2']?.ci?.lower).toBeGreaterThan(0);
  });

  it('refuses predictions of a different length', () => {
    expect(() =>
      compareModels('binary', { yTrue, candidate: predictions(b.candidateProba), champion: { yPred: Int32Array.from([0, 1]) } }),
    ).toThrow(EvaluationInputError);
  });
});
