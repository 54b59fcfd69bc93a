import { expectClose, loadReference, type RegressionCase } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { prepareRegression, regressionMetrics, type RegressionInputs } from './regression';

const reference = loadReference();

const inputsOf = (c: RegressionCase): RegressionInputs => ({
  yTrue: Float64Array.from(c.yTrue),
  yPred: Float64Array.from(c.yPred),
  ...(c.weights === undefined ? {} : { weights: Float64Array.from(c.weights) }),
  ...(c.groups === undefined ? {} : { groups: Int32Array.from(c.groups) }),
});

describe('regression metrics against scikit-learn', () => {
  describe.each(reference.regression.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = regressionMetrics(inputsOf(c), c.groupNames === undefined ? {} : { groupNames: c.groupNames });

    it('matches mae, mse, rmse and r2 to 1e-9 (relative), except the documented divergence', () => {
      expect(Object.keys(result.metrics)).toEqual(['mae', 'mse', 'rmse', 'r2']);
      for (const [metric, value] of Object.entries(c.expected)) {
        expectClose(result.metrics[metric], c.library?.[metric] ?? value, metric);
      }
    });

    it('flags r2 where it is undefined or a force_finite convention', () => {
      expect([...result.undefinedMetrics].sort()).toEqual(c.flags);
    });

    if (c.slices !== undefined) {
      it('matches the per-slice metrics', () => {
        c.slices?.forEach((expected, g) => {
          const slice = result.slices?.[g];
          expect(slice?.name).toBe(expected.name);
          expect(slice?.count).toBe(expected.count);
          for (const metric of ['mae', 'rmse', 'r2']) {
            expectClose(slice?.metrics[metric], expected[metric] as number, `${expected.name}.${metric}`);
          }
        });
      });
    }

    it('gives the same values through the weighted path with unit weights or counts', () => {
      const prepared = prepareRegression(inputsOf(c), c.groupNames === undefined ? {} : { groupNames: c.groupNames });
      const weights = c.weights ?? c.yTrue.map(() => 1);
      for (const w of [Float64Array.from(weights), Uint16Array.from(weights)]) {
        const weighted = prepared.evaluate(w);
        for (const [metric, value] of Object.entries(c.expected)) {
          expectClose(weighted.metrics[metric], c.library?.[metric] ?? value, metric);
        }
      }
    });
  });

  it('documents where sklearn is off: the mean of [0.1]*3 does not round back to 0.1', () => {
    const c = reference.regression.find((r) => r.name === 'regression_constant_y_not_representable') as RegressionCase;
    expect(c.expected['r2']).toBeLessThan(-1e30); // sklearn
    expect(regressionMetrics(inputsOf(c)).metrics['r2']).toBe(0); // force_finite's intent
  });

  it('refuses non-finite values and mismatched lengths', () => {
    const y = Float64Array.from([1, 2, 3]);
    expect(() => regressionMetrics({ yTrue: y, yPred: Float64Array.from([1, NaN, 3]) })).toThrow(EvaluationInputError);
    expect(() => regressionMetrics({ yTrue: y, yPred: Float64Array.from([1, 2]) })).toThrow(/yPred has 2 values/);
  });
});
