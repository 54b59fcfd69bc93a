import { EvaluationInputError } from '../errors';

/**
 * The business KPI of a classifier from a **value matrix** `valueMatrix[trueClass][predictedClass]`:
 * what one row is worth to the business when its true class is `t` and the model says `p`.
 * Gains are positive, costs negative (e.g. churn: a saved customer +10, a wasted offer −1, a
 * missed churner −5, a correct "stays" 0).
 *
 *   business_kpi = Σ_t Σ_p  C[t][p] · V[t][p]  /  Σ C      (mean value per row)
 *
 * with C the (weighted) confusion matrix. Higher is better, like every metric that is not in
 * LOWER_IS_BETTER_METRICS. A manifest's `costMatrix` is read with this convention: if your
 * numbers are costs, negate them.
 */
export function businessKpi(confusion: readonly (readonly number[])[], valueMatrix: readonly (readonly number[])[]): number {
  const k = confusion.length;
  requireValueMatrix(valueMatrix, k);
  let value = 0;
  let total = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = (confusion[t] as readonly number[])[p] as number;
      value += c * ((valueMatrix[t] as readonly number[])[p] as number);
      total += c;
    }
  }
  return total > 0 ? value / total : NaN;
}

/** Same as businessKpi, on a flat row-major k×k confusion matrix (the hot path). */
export function businessKpiFlat(confusion: Float64Array, k: number, flatValues: Float64Array): number {
  let value = 0;
  let total = 0;
  for (let i = 0; i < k * k; i++) {
    const c = confusion[i] as number;
    value += c * (flatValues[i] as number);
    total += c;
  }
  return total > 0 ? value / total : NaN;
}

export function requireValueMatrix(valueMatrix: readonly (readonly number[])[], k: number): Float64Array {
  if (valueMatrix.length !== k || valueMatrix.some((row) => row.length !== k)) {
    throw new EvaluationInputError(`costMatrix must be ${k}×${k} (costMatrix[trueClass][predictedClass])`);
  }
  const flat = new Float64Array(k * k);
  valueMatrix.forEach((row, t) =>
    row.forEach((v, p) => {
      if (!Number.isFinite(v)) throw new EvaluationInputError(`costMatrix[${t}][${p}] = ${v} is not a finite number`);
      flat[t * k + p] = v;
    }),
  );
  return flat;
}
