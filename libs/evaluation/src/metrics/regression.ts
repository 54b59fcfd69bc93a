import { EvaluationInputError } from '../errors';
import { UndefinedMetrics } from '../internal/flags';
import { requireFinite, requireGroups, requireLength, requireWeights } from '../internal/validate';
import type { SliceMetrics } from './fairness';
import type { RowWeights } from '../weights';

export interface RegressionInputs {
  readonly yTrue: Float64Array;
  readonly yPred: Float64Array;
  /** Row weights >= 0: integer counts of a bootstrap resample, or sample weights. */
  readonly weights?: RowWeights;
  /** Slice index per row (0..groupNames.length-1). */
  readonly groups?: Int32Array;
}

export interface RegressionOptions {
  readonly groupNames?: readonly string[];
}

export interface RegressionResult {
  /** mae, mse, rmse, r2 (scikit-learn's definitions). */
  readonly metrics: Record<string, number>;
  /** count, mae, rmse, r2 per slice. */
  readonly slices?: SliceMetrics[];
  readonly undefinedMetrics: string[];
  readonly undefinedReasons: Record<string, string>;
}

export interface PreparedRegression {
  readonly rows: number;
  evaluate(weights?: RowWeights): RegressionResult;
}

export function regressionMetrics(inputs: RegressionInputs, options: RegressionOptions = {}): RegressionResult {
  const prepared = prepareRegression(inputs, options);
  requireWeights(inputs.weights, prepared.rows);
  return prepared.evaluate(inputs.weights);
}

/**
 * scikit-learn's regression metrics, weighted like `sample_weight`:
 * - mae = Σ w·|y − ŷ| / Σ w; mse = Σ w·(y − ŷ)² / Σ w; rmse = √mse (root_mean_squared_error);
 * - r2 = 1 − Σ w·(y − ŷ)² / Σ w·(y − ȳ_w)², with `force_finite=True`: when y_true is
 *   constant the denominator is 0 and r2 is 1.0 for perfect predictions, else 0.0 (flagged);
 *   with fewer than two rows r2 is NaN (sklearn warns and returns NaN).
 *   "Constant" is tested exactly (min = max), where sklearn tests its computed denominator
 *   for 0: on a constant column whose mean does not round back to the value (e.g. [0.1]*3)
 *   sklearn gets a 1e-34 denominator and an r2 of −5e31; this library says 0.0.
 */
export function prepareRegression(inputs: RegressionInputs, options: RegressionOptions = {}): PreparedRegression {
  const { yTrue, yPred, groups } = inputs;
  const n = yTrue.length;
  if (n === 0) throw new EvaluationInputError('no rows to evaluate');
  requireLength('yPred', yPred, n);
  requireFinite('yTrue', yTrue);
  requireFinite('yPred', yPred);
  const numGroups = requireGroups(groups, options.groupNames, n);

  const evaluate = (weights?: RowWeights): RegressionResult => {
    const flags = new UndefinedMetrics();
    const G = Math.max(numGroups, 1);
    const sw = new Float64Array(G);
    const swy = new Float64Array(G);
    const sae = new Float64Array(G);
    const sse = new Float64Array(G);
    const rows = new Float64Array(G);
    const yMin = new Float64Array(G).fill(Infinity);
    const yMax = new Float64Array(G).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const w = weights === undefined ? 1 : (weights[i] as number);
      if (w === 0) continue;
      const g = groups === undefined ? 0 : (groups[i] as number);
      const y = yTrue[i] as number;
      const e = y - (yPred[i] as number);
      sw[g]! += w;
      swy[g]! += w * y;
      sae[g]! += w * Math.abs(e);
      sse[g]! += w * e * e;
      rows[g]! += 1;
      if (y < (yMin[g] as number)) yMin[g] = y;
      if (y > (yMax[g] as number)) yMax[g] = y;
    }
    const W = total(sw);
    const mean = total(swy) / W;
    const groupMean = Array.from(sw, (s, g) => (swy[g] as number) / s);
    const den = new Float64Array(G);
    let denAll = 0;
    for (let i = 0; i < n; i++) {
      const w = weights === undefined ? 1 : (weights[i] as number);
      if (w === 0) continue;
      const y = yTrue[i] as number;
      denAll += w * (y - mean) * (y - mean);
      if (groups !== undefined) {
        const g = groups[i] as number;
        const d = y - (groupMean[g] as number);
        den[g]! += w * d * d;
      }
    }
    const sseAll = total(sse);
    const metrics = {
      mae: total(sae) / W,
      mse: sseAll / W,
      rmse: Math.sqrt(sseAll / W),
      r2: r2(sseAll, denAll, total(rows), Math.min(...yMin), Math.max(...yMax), flags),
    };
    if (W === 0) for (const name of Object.keys(metrics)) flags.add(name, 'no rows with a positive weight');
    let slices: SliceMetrics[] | undefined;
    if (groups !== undefined && options.groupNames !== undefined) {
      slices = options.groupNames.map((name, g): SliceMetrics => {
        const count = sw[g] as number;
        if (count === 0) return { name, count: 0, metrics: {} };
        const ignore = new UndefinedMetrics();
        return {
          name,
          count,
          metrics: {
            mae: (sae[g] as number) / count,
            rmse: Math.sqrt((sse[g] as number) / count),
            r2: r2(sse[g] as number, den[g] as number, rows[g] as number, yMin[g] as number, yMax[g] as number, ignore),
          },
        };
      });
    }
    return {
      metrics,
      ...(slices === undefined ? {} : { slices }),
      undefinedMetrics: flags.names,
      undefinedReasons: flags.reasons,
    };
  };
  return { rows: n, evaluate };
}

function r2(numerator: number, denominator: number, rows: number, yMin: number, yMax: number, flags: UndefinedMetrics): number {
  if (rows < 2) {
    flags.add('r2', 'R² is not well-defined with less than two samples (sklearn: NaN)');
    return NaN;
  }
  if (yMin === yMax) {
    flags.add('r2', 'y_true is constant: R² is 1.0 for perfect predictions, else 0.0 (sklearn force_finite)');
    return numerator === 0 ? 1 : 0;
  }
  return numerator === 0 ? 1 : 1 - numerator / denominator;
}

function total(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return s;
}
