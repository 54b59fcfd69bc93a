import { EvaluationInputError } from '../errors';
import { argsortFloat64 } from '../internal/sort';
import { requireFinite, requireLabels, requireLength, requireWeights } from '../internal/validate';
import type { RowWeights } from '../weights';

/**
 * Per-threshold curves of a binary problem, computed as scikit-learn 1.9 computes them so that
 * a plot drawn from them is the plot sklearn users know:
 *
 * - rows with weight 0 are left out first (a score held only by such rows is no threshold);
 * - rows are sorted by descending score, ties in row order (numpy's stable descending
 *   argsort); each distinct score is one threshold, "predict positive when score >= t";
 * - tp and fp at each threshold are the running sums in that order: unweighted, tp counts and
 *   fp = rows so far − tp; weighted, both are running sums of the weights, added one row at a
 *   time like numpy's cumsum, so the points (and the collinearity test below) agree bit for bit.
 *
 * `roc_curve(..., drop_intermediate=True)` then drops the points where both running sums have
 * a zero second difference (collinear with their neighbours: they change neither the plot nor
 * the area) and puts (0, 0) first at threshold +Infinity. With no negative (positive) weight,
 * fpr (tpr) is NaN everywhere, as sklearn gives it.
 *
 * `precision_recall_curve(..., drop_intermediate=False)` keeps every threshold, in increasing
 * order (recall non-increasing), and appends the point (recall 0, precision 1), which has no
 * threshold: `thresholds` is one shorter than `precision` and `recall`. With no positive
 * weight recall is 1 everywhere (sklearn warns and does the same).
 */
export interface RocCurve {
  /** False-positive rate, non-decreasing from 0 to 1. */
  readonly fpr: Float64Array;
  /** True-positive rate, non-decreasing from 0 to 1. */
  readonly tpr: Float64Array;
  /** Decreasing; the first is +Infinity (nothing predicted positive). */
  readonly thresholds: Float64Array;
}

export interface PrecisionRecallCurve {
  readonly precision: Float64Array;
  /** Non-increasing, ending in 0. */
  readonly recall: Float64Array;
  /** Increasing; one fewer than the points (the final (recall 0, precision 1) point has none). */
  readonly thresholds: Float64Array;
}

/** Points kept by the downsampling functions unless told otherwise. */
export const DEFAULT_CURVE_POINTS = 200;

/** Running tp/fp sums at each distinct score, highest score first (sklearn's confusion_matrix_at_thresholds). */
interface Cumulative {
  readonly tps: Float64Array;
  readonly fps: Float64Array;
  readonly thresholds: Float64Array;
}

function cumulative(yTrue: Int32Array, scores: Float64Array, weights: RowWeights | undefined): Cumulative {
  const n = yTrue.length;
  requireLength('scores', scores, n);
  requireLabels('yTrue', yTrue, 2);
  requireFinite('scores', scores);
  requireWeights(weights, n);
  // Zero-weight rows go before sorting: they must not create a tie group (threshold) of their own.
  let rows: Int32Array;
  if (weights === undefined) {
    rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i;
  } else {
    let kept = 0;
    for (let i = 0; i < n; i++) if ((weights[i] as number) !== 0) kept++;
    rows = new Int32Array(kept);
    kept = 0;
    for (let i = 0; i < n; i++) if ((weights[i] as number) !== 0) rows[kept++] = i;
  }
  const m = rows.length;
  if (m === 0) throw new EvaluationInputError('a curve needs at least one row with a weight above 0');
  const keptScores = weights === undefined ? scores : Float64Array.from(rows, (i) => scores[i] as number);
  const { order, newGroup } = argsortFloat64(keptScores); // ascending, ties in row order
  let k = 0;
  for (let j = 0; j < m; j++) k += newGroup[j] as number;
  const tps = new Float64Array(k);
  const fps = new Float64Array(k);
  const thresholds = new Float64Array(k);
  let tp = 0;
  let fp = 0;
  let seen = 0;
  // Tie groups from the highest score down; inside a group, rows in their original order.
  for (let end = m, out = 0; end > 0; out++) {
    let start = end - 1;
    while (newGroup[start] === 0) start--;
    for (let j = start; j < end; j++) {
      const row = rows[order[j] as number] as number;
      const y = yTrue[row] as number;
      if (weights === undefined) {
        tp += y;
      } else {
        const w = weights[row] as number;
        tp += y * w;
        fp += (1 - y) * w;
      }
    }
    seen += end - start;
    tps[out] = tp;
    fps[out] = weights === undefined ? seen - tp : fp;
    // The last row of the group in sklearn's order: decides the sign of a ±0 threshold.
    thresholds[out] = keptScores[order[end - 1] as number] as number;
    end = start;
  }
  return { tps, fps, thresholds };
}

/** ROC curve as scikit-learn's `roc_curve(y_true, y_score, sample_weight, drop_intermediate=True)`. */
export function rocCurve(yTrue: Int32Array, scores: Float64Array, weights?: RowWeights): RocCurve {
  return rocOf(cumulative(yTrue, scores, weights));
}

/** Precision-recall curve as scikit-learn's `precision_recall_curve(y_true, probas_pred, sample_weight)` (drop_intermediate=False). */
export function precisionRecallCurve(yTrue: Int32Array, scores: Float64Array, weights?: RowWeights): PrecisionRecallCurve {
  return precisionRecallOf(cumulative(yTrue, scores, weights));
}

/** Both curves from one sort of the scores: rocCurve and precisionRecallCurve together. */
export function thresholdCurves(
  yTrue: Int32Array,
  scores: Float64Array,
  weights?: RowWeights,
): { readonly roc: RocCurve; readonly pr: PrecisionRecallCurve } {
  const sums = cumulative(yTrue, scores, weights);
  return { roc: rocOf(sums), pr: precisionRecallOf(sums) };
}

function rocOf({ tps, fps, thresholds }: Cumulative): RocCurve {
  const k = tps.length;
  const keep: number[] = [];
  for (let i = 0; i < k; i++) {
    // np.diff(x, 2) != 0 at i − 1, evaluated as numpy does: difference of the two differences.
    const corner =
      k <= 2 ||
      i === 0 ||
      i === k - 1 ||
      (fps[i + 1]! - fps[i]!) - (fps[i]! - fps[i - 1]!) !== 0 ||
      (tps[i + 1]! - tps[i]!) - (tps[i]! - tps[i - 1]!) !== 0;
    if (corner) keep.push(i);
  }
  const size = keep.length + 1;
  const fpr = new Float64Array(size);
  const tpr = new Float64Array(size);
  const t = new Float64Array(size);
  t[0] = Infinity;
  const negatives = fps[k - 1] as number;
  const positives = tps[k - 1] as number;
  keep.forEach((i, j) => {
    fpr[j + 1] = negatives > 0 ? (fps[i] as number) / negatives : NaN;
    tpr[j + 1] = positives > 0 ? (tps[i] as number) / positives : NaN;
    t[j + 1] = thresholds[i] as number;
  });
  if (!(negatives > 0)) fpr[0] = NaN;
  if (!(positives > 0)) tpr[0] = NaN;
  return { fpr, tpr, thresholds: t };
}

function precisionRecallOf({ tps, fps, thresholds }: Cumulative): PrecisionRecallCurve {
  const k = tps.length;
  const positives = tps[k - 1] as number;
  const precision = new Float64Array(k + 1);
  const recall = new Float64Array(k + 1);
  const t = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const tp = tps[i] as number;
    const predicted = tp + (fps[i] as number);
    const j = k - 1 - i; // sklearn reverses: increasing thresholds, recall non-increasing
    precision[j] = predicted !== 0 ? tp / predicted : 0;
    recall[j] = positives === 0 ? 1 : tp / positives;
    t[j] = thresholds[i] as number;
  }
  precision[k] = 1;
  recall[k] = 0;
  return { precision, recall, thresholds: t };
}

/**
 * Which points of a curve to keep so that at most `maxPoints` remain and the curve keeps its
 * shape: the points nearest, by arc length, to `maxPoints` marks spaced evenly along the curve
 * drawn in the unit square, first and last point always kept. Returns ascending indices.
 *
 * Why arc length: the points go where the curve moves (the steep start of a ROC curve, the
 * jagged low-recall end of a PR curve) rather than where the thresholds are dense, each kept
 * point is a real operating point (its threshold, rates and precision are exact, not
 * interpolated), and it is one O(n) pass. With δ = length / (maxPoints − 1), the curve
 * between two kept points is at most about 2δ of arc plus one straight piece of the original,
 * so the polyline through them stays close; for a ROC curve (length ≤ 2) and 200 points its
 * trapezoid area moves by well under 0.01. A curve with `maxPoints` points or fewer is kept whole.
 */
export function curvePointsToKeep(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = DEFAULT_CURVE_POINTS): Int32Array {
  const n = x.length;
  requireLength('y', y, n);
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new EvaluationInputError(`maxPoints = ${maxPoints}: keep at least 2 points`);
  if (n <= maxPoints) return Int32Array.from({ length: n }, (_, i) => i);
  const along = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const dx = (x[i] as number) - (x[i - 1] as number);
    const dy = (y[i] as number) - (y[i - 1] as number);
    const step = Math.sqrt(dx * dx + dy * dy); // not Math.hypot: several times slower in V8
    // A NaN coordinate (a rate sklearn leaves undefined) adds no length.
    along[i] = (along[i - 1] as number) + (Number.isFinite(step) ? step : 0);
  }
  const length = along[n - 1] as number;
  const keep = [0];
  if (length > 0) {
    let j = 0; // along[j] <= mark < along[j + 1]
    for (let k = 1; k < maxPoints - 1; k++) {
      const mark = (length * k) / (maxPoints - 1);
      while (j + 1 < n - 1 && (along[j + 1] as number) <= mark) j++;
      const nearest = mark - (along[j] as number) <= (along[j + 1] as number) - mark ? j : j + 1;
      if (nearest > (keep[keep.length - 1] as number) && nearest < n - 1) keep.push(nearest);
    }
  }
  keep.push(n - 1);
  return Int32Array.from(keep);
}

const pick = (values: Float64Array, indices: ArrayLike<number>): Float64Array => Float64Array.from(indices as ArrayLike<number>, (i) => values[i] as number);

/** A ROC curve cut to at most `maxPoints` points by `curvePointsToKeep` on (fpr, tpr). */
export function downsampleRocCurve(curve: RocCurve, maxPoints = DEFAULT_CURVE_POINTS): RocCurve {
  const keep = curvePointsToKeep(curve.fpr, curve.tpr, maxPoints);
  return { fpr: pick(curve.fpr, keep), tpr: pick(curve.tpr, keep), thresholds: pick(curve.thresholds, keep) };
}

/** A precision-recall curve cut to at most `maxPoints` points by `curvePointsToKeep` on (recall, precision); the last point keeps having no threshold. */
export function downsamplePrecisionRecallCurve(curve: PrecisionRecallCurve, maxPoints = DEFAULT_CURVE_POINTS): PrecisionRecallCurve {
  const keep = curvePointsToKeep(curve.recall, curve.precision, maxPoints);
  return {
    precision: pick(curve.precision, keep),
    recall: pick(curve.recall, keep),
    thresholds: pick(curve.thresholds, keep.subarray(0, keep.length - 1)),
  };
}

/** Area under a polyline by the trapezoid rule (sklearn's `auc(x, y)` for monotone x; negative when x decreases). */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requireLength('y', y, x.length);
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    area += ((x[i] as number) - (x[i - 1] as number)) * ((y[i] as number) + (y[i - 1] as number)) * 0.5;
  }
  return area;
}
