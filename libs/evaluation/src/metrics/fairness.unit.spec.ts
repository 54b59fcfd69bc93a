import { expectClose, loadReference, type ClassificationCase } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { fairnessMetrics } from './fairness';

const reference = loadReference();
const withGroups = reference.classification.filter((c) => c.task === 'binary' && c.groups !== undefined);

describe('fairness metrics against fairlearn', () => {
  it.each(withGroups.map((c) => [c.name, c] as const))('%s: demographic parity and equalized odds differences', (_name, c: ClassificationCase) => {
    const result = fairnessMetrics(
      Int32Array.from(c.yTrue),
      Int32Array.from(c.yPred),
      Int32Array.from(c.groups ?? []),
      c.groupNames ?? [],
      c.weights === undefined ? undefined : Float64Array.from(c.weights),
    );
    expectClose(result.demographic_parity_difference, c.expected['demographic_parity_difference'] ?? null, 'dpd');
    expectClose(result.equalized_odds_difference, c.expected['equalized_odds_difference'] ?? null, 'eod');
    expect(result.undefinedMetrics).toEqual(c.flags.filter((f) => f === 'equalized_odds_difference'));
  });

  it('takes the TPR of a group without positives as 0, as fairlearn does, and says so', () => {
    const c = reference.classification.find((x) => x.name === 'fairness_imbalanced_groups') as ClassificationCase;
    const result = fairnessMetrics(Int32Array.from(c.yTrue), Int32Array.from(c.yPred), Int32Array.from(c.groups ?? []), c.groupNames ?? []);
    const groupC = result.slices.find((s) => s.name === 'c');
    expect(groupC?.metrics['true_positive_rate']).toBe(0);
    expect(result.undefinedReasons['equalized_odds_difference']).toMatch(/"c"/);
    // group d has no rows: reported, but with no metrics, and left out of the differences
    expect(result.slices.find((s) => s.name === 'd')).toEqual({ name: 'd', count: 0, metrics: {} });
  });

  it('is 0 for a single group and for identical groups', () => {
    const yTrue = Int32Array.from([0, 1, 0, 1]);
    const yPred = Int32Array.from([0, 1, 1, 1]);
    expect(fairnessMetrics(yTrue, yPred, new Int32Array(4), ['all']).demographic_parity_difference).toBe(0);
    const twins = fairnessMetrics(
      Int32Array.from([0, 1, 0, 1]),
      Int32Array.from([1, 1, 1, 1]),
      Int32Array.from([0, 0, 1, 1]),
      ['x', 'y'],
    );
    expect(twins.demographic_parity_difference).toBe(0);
    expect(twins.equalized_odds_difference).toBe(0);
  });

  it('refuses a group index without a name', () => {
    expect(() => fairnessMetrics(Int32Array.from([0, 1]), Int32Array.from([0, 1]), Int32Array.from([0, 2]), ['a', 'b'])).toThrow(
      EvaluationInputError,
    );
  });
});
