import { EvaluationInputError } from '../errors';
import { businessKpi } from './business';
import { classificationMetrics } from './classification';

describe('business_kpi (value matrix: gains positive, costs negative; mean value per row)', () => {
  // churn: keep a churner +10, wasted offer −1, missed churner −5, correct "stays" 0
  const value = [
    [0, -1],
    [-5, 10],
  ];

  it('is the mean value per row of the confusion matrix', () => {
    // tn 50, fp 10, fn 5, tp 35 → (0·50 − 1·10 − 5·5 + 10·35) / 100 = 3.15
    expect(businessKpi([[50, 10], [5, 35]], value)).toBeCloseTo(3.15, 12);
  });

  it('is computed by computeMetrics from the cost matrix, and weighted like every metric', () => {
    const yTrue = Int32Array.from([0, 0, 1, 1]);
    const yPred = Int32Array.from([0, 1, 0, 1]);
    expect(classificationMetrics('binary', { yTrue, yPred }, { costMatrix: value }).metrics['business_kpi']).toBe(1);
    const weights = Float64Array.from([2, 0, 0, 2]);
    expect(classificationMetrics('binary', { yTrue, yPred, weights }, { costMatrix: value }).metrics['business_kpi']).toBe(5);
  });

  it('is NaN on an empty confusion matrix', () => {
    expect(businessKpi([[0, 0], [0, 0]], value)).toBeNaN();
  });

  it('refuses a matrix of the wrong shape or with non-finite values', () => {
    expect(() => businessKpi([[1, 0], [0, 1]], [[1, 2]])).toThrow(EvaluationInputError);
    expect(() => businessKpi([[1, 0], [0, 1]], [[1, NaN], [0, 1]])).toThrow(/costMatrix\[0\]\[1\]/);
  });
});
