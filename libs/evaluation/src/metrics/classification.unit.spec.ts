import { METRIC_NAMES } from '@mrw/contracts';
import { expectClose, loadReference, type ClassificationCase } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { classificationMetrics, prepareClassification, type ClassificationInputs } from './classification';

const reference = loadReference();

const inputsOf = (c: ClassificationCase): ClassificationInputs => ({
  yTrue: Int32Array.from(c.yTrue),
  yPred: Int32Array.from(c.yPred),
  ...(c.proba === undefined ? {} : { proba: Float64Array.from(c.proba) }),
  ...(c.weights === undefined ? {} : { weights: Float64Array.from(c.weights) }),
  ...(c.groups === undefined ? {} : { groups: Int32Array.from(c.groups) }),
});

const optionsOf = (c: ClassificationCase) => ({
  numClasses: c.k,
  ...(c.groupNames === undefined ? {} : { groupNames: c.groupNames }),
  ...(c.costMatrix === undefined ? {} : { costMatrix: c.costMatrix }),
});

describe('classification metrics against scikit-learn / fairlearn', () => {
  it(`uses reference values from scikit-learn ${reference.versions['scikit-learn']}`, () => {
    expect(reference.classification.length).toBeGreaterThanOrEqual(15);
  });

  describe.each(reference.classification.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = classificationMetrics(c.task, inputsOf(c), optionsOf(c));

    it('matches every reference metric to 1e-9 (relative)', () => {
      for (const [metric, value] of Object.entries(c.expected)) expectClose(result.metrics[metric], value, metric);
    });

    it('reports no metric the reference does not have', () => {
      expect(Object.keys(result.metrics).sort()).toEqual(Object.keys(c.expected).sort());
    });

    it('has the same confusion matrix', () => {
      expect(result.confusionMatrix).toEqual(c.confusionMatrix);
    });

    it('flags exactly the metrics sklearn warns about (plus the documented conventions)', () => {
      expect([...result.undefinedMetrics].sort()).toEqual(c.flags);
      for (const metric of result.undefinedMetrics) expect(result.undefinedReasons[metric]).toEqual(expect.any(String));
    });

    if (c.slices !== undefined) {
      it('matches the per-slice metrics (fairlearn MetricFrame)', () => {
        expect(result.slices?.map((s) => s.name)).toEqual(c.slices?.map((s) => s.name));
        c.slices?.forEach((expected, g) => {
          const slice = result.slices?.[g];
          expect(slice?.count).toBe(expected.count);
          for (const [metric, value] of Object.entries(expected)) {
            if (metric === 'name' || metric === 'count') continue;
            expectClose(slice?.metrics[metric], value as number | null, `${expected.name}.${metric}`);
          }
          if (expected.count === 0) expect(slice?.metrics).toEqual({});
        });
      });
    }

    if (c.weights !== undefined) {
      it('gives the same values with the weights as 16-bit counts (the bootstrap path)', () => {
        const counts = classificationMetrics(c.task, { ...inputsOf(c), weights: Uint16Array.from(c.weights ?? []) }, optionsOf(c));
        for (const [metric, value] of Object.entries(c.expected)) expectClose(counts.metrics[metric], value, metric);
      });
    } else {
      it('gives the same values through the weighted path with unit weights', () => {
        const prepared = prepareClassification(c.task, inputsOf(c), optionsOf(c));
        const ones = prepared.evaluate(new Float64Array(c.yTrue.length).fill(1));
        const counts = prepared.evaluate(new Uint16Array(c.yTrue.length).fill(1));
        for (const [metric, value] of Object.entries(c.expected)) {
          expectClose(ones.metrics[metric], value, metric);
          expectClose(counts.metrics[metric], value, metric);
        }
        expect([...ones.undefinedMetrics].sort()).toEqual(c.flags);
      });
    }
  });
});

describe('classification conventions', () => {
  const yTrue = Int32Array.from([0, 1, 1, 0, 1, 0, 1, 1]);
  const yPred = Int32Array.from([0, 1, 0, 0, 1, 1, 1, 1]);
  const proba = Float64Array.from([0.2, 0.9, 0.4, 0.1, 0.8, 0.6, 0.7, 0.95]);

  it('exports scikit-learn metric names, all of them known to the contracts', () => {
    const binary = classificationMetrics('binary', { yTrue, yPred, proba }, { costMatrix: [[0, -1], [-5, 10]] });
    expect(Object.keys(binary.metrics)).toEqual([
      'accuracy',
      'balanced_accuracy',
      'precision',
      'recall',
      'f1',
      'precision_macro',
      'precision_micro',
      'precision_weighted',
      'recall_macro',
      'recall_micro',
      'recall_weighted',
      'f1_macro',
      'f1_micro',
      'f1_weighted',
      'roc_auc',
      'log_loss',
      'business_kpi',
    ]);
    const multiclass = reference.classification.find((c) => c.name === 'multiclass_random') as ClassificationCase;
    const names = Object.keys(classificationMetrics('multiclass', inputsOf(multiclass), optionsOf(multiclass)).metrics);
    expect(names).toEqual(expect.arrayContaining(['roc_auc_macro', 'roc_auc_micro', 'roc_auc_weighted']));
    expect(names).not.toContain('roc_auc');
    expect(names).not.toContain('f1');
    for (const name of [...Object.keys(binary.metrics), ...names, 'demographic_parity_difference', 'equalized_odds_difference']) {
      expect(METRIC_NAMES).toContain(name);
    }
  });

  it('accepts binary probabilities as n values or as n×2', () => {
    const twoColumns = new Float64Array(16);
    proba.forEach((p, i) => {
      twoColumns[2 * i] = 1 - p;
      twoColumns[2 * i + 1] = p;
    });
    const one = classificationMetrics('binary', { yTrue, yPred, proba });
    const two = classificationMetrics('binary', { yTrue, yPred, proba: twoColumns });
    expect(two.metrics['roc_auc']).toBe(one.metrics['roc_auc']);
    expectClose(two.metrics['log_loss'], one.metrics['log_loss'] as number, 'log_loss', 1e-12);
  });

  it('clips probabilities at float64 eps like sklearn: a confident mistake costs -ln(eps) = 36.04', () => {
    const result = classificationMetrics('binary', {
      yTrue: Int32Array.from([1, 0]),
      yPred: Int32Array.from([0, 0]),
      proba: Float64Array.from([0, 0]),
    });
    expectClose(result.metrics['log_loss'], -Math.log(Number.EPSILON) / 2, 'log_loss');
  });

  it('infers k from the probability width, else from the labels', () => {
    const p = prepareClassification('multiclass', { yTrue: Int32Array.from([0, 1]), yPred: Int32Array.from([0, 1]), proba: new Float64Array(8).fill(0.25) });
    expect(p.classes).toBe(4);
    expect(prepareClassification('multiclass', { yTrue: Int32Array.from([0, 2]), yPred: Int32Array.from([1, 2]) }).classes).toBe(3);
  });

  it('treats weight-0 rows as absent (a bootstrap resample that drew no row of a class)', () => {
    const weights = Float64Array.from([1, 1, 1, 1, 1, 0, 1, 1]); // drops the only (0 → 1) row
    const result = classificationMetrics('binary', { yTrue, yPred, weights });
    expect(result.confusionMatrix).toEqual([[2, 0], [1, 4]]);
    expect(result.metrics['precision']).toBe(1);
  });

  it('returns NaN, with reasons, when every weight is 0', () => {
    const result = classificationMetrics('binary', { yTrue, yPred, proba, weights: new Float64Array(8) });
    expect(result.metrics['accuracy']).toBeNaN();
    expect(result.metrics['roc_auc']).toBeNaN();
    expect(result.undefinedReasons['accuracy']).toMatch(/no rows/);
  });

  it.each([
    ['lengths differ', { yTrue, yPred: Int32Array.from([0]) }, /yPred has 1 values/],
    ['a label outside 0..k-1', { yTrue, yPred: Int32Array.from([0, 1, 2, 0, 1, 1, 1, 1]) }, /yPred\[2\] = 2/],
    ['a probability above 1', { yTrue, yPred, proba: Float64Array.from([0.2, 1.5, 0, 0, 0, 0, 0, 0]) }, /proba\[1\] = 1.5/],
    ['a NaN probability', { yTrue, yPred, proba: Float64Array.from([NaN, 0, 0, 0, 0, 0, 0, 0]) }, /proba\[0\] = NaN/],
    ['a probability array of the wrong size', { yTrue, yPred, proba: new Float64Array(5) }, /expected 16/],
    ['a negative weight', { yTrue, yPred, weights: Float64Array.from([1, 1, -1, 1, 1, 1, 1, 1]) }, /weights\[2\]/],
    ['groups without names', { yTrue, yPred, groups: new Int32Array(8) }, /groupNames/],
    ['no rows', { yTrue: new Int32Array(0), yPred: new Int32Array(0) }, /no rows/],
  ] as const)('refuses %s with an EvaluationInputError', (_what, inputs, message) => {
    expect(() => classificationMetrics('binary', inputs as ClassificationInputs)).toThrow(EvaluationInputError);
    expect(() => classificationMetrics('binary', inputs as ClassificationInputs)).toThrow(message);
  });

  it('refuses a cost matrix of the wrong shape', () => {
    expect(() => classificationMetrics('binary', { yTrue, yPred }, { costMatrix: [[1, 2, 3]] })).toThrow(/2×2/);
  });
});
