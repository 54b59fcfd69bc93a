import { EvaluationInputError } from '../errors';
import type { RowWeights } from '../weights';

export function requireLength(name: string, array: { length: number }, expected: number): void {
  if (array.length !== expected) {
    throw new EvaluationInputError(`${name} has ${array.length} values; expected ${expected} (one per row)`);
  }
}

/** Labels must be integers in 0..k-1 (Int32Array guarantees the integer part). */
export function requireLabels(name: string, labels: Int32Array, k: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number;
    if (v < 0 || v >= k) {
      throw new EvaluationInputError(`${name}[${i}] = ${v} is not a class index in 0..${k - 1}`);
    }
  }
}

export function requireFinite(name: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      throw new EvaluationInputError(`${name}[${i}] = ${values[i]} is not a finite number`);
    }
  }
}

/** Like scikit-learn's log_loss: probabilities outside [0, 1] (or NaN) are an input error. */
export function requireProbabilities(name: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= 0 && v <= 1)) {
      throw new EvaluationInputError(`${name}[${i}] = ${v} is not a probability in [0, 1]`);
    }
  }
}

/** Row weights: finite and >= 0 (a bootstrap resample's counts, or sample weights). */
export function requireWeights(weights: RowWeights | undefined, n: number): void {
  if (weights === undefined) return;
  requireLength('weights', weights, n);
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    if (!(w >= 0 && w < Infinity)) {
      throw new EvaluationInputError(`weights[${i}] = ${w} is not a finite weight >= 0`);
    }
  }
}

export function requireGroups(groups: Int32Array | undefined, groupNames: readonly string[] | undefined, n: number): number {
  if (groups === undefined) return 0;
  if (groupNames === undefined || groupNames.length === 0) {
    throw new EvaluationInputError('groups needs groupNames (the name of each slice value)');
  }
  requireLength('groups', groups, n);
  requireLabels('groups', groups, groupNames.length);
  return groupNames.length;
}
