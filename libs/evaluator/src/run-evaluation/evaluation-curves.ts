import type { EvaluationCurves } from '@mrw/contracts';
import { DEFAULT_CURVE_POINTS, downsamplePrecisionRecallCurve, downsampleRocCurve, thresholdCurves } from '@mrw/evaluation';

/** Six significant digits: plenty for a plot and a tooltip, and a third of a float's JSON size. */
const round = (v: number): number => Number(v.toPrecision(6));
const rounded = (values: Float64Array): number[] => Array.from(values, round);
/** JSON has no infinity: a point without a finite threshold carries null. */
const thresholdsOf = (values: Float64Array): Array<number | null> => Array.from(values, (v) => (Number.isFinite(v) ? round(v) : null));

/**
 * The ROC and precision-recall curves of a binary classifier, downsampled and rounded for
 * the evaluation event. `probabilities` is the model's output, row-major rows × width (the
 * score is the last column: P(class 1) for the usual two columns). Undefined when the labels
 * hold one class only (sklearn's rates are NaN then: there is no curve to draw).
 */
export const binaryCurves = (
  labels: Int32Array,
  probabilities: ArrayLike<number>,
  maxPoints = DEFAULT_CURVE_POINTS,
): EvaluationCurves | undefined => {
  const rows = labels.length;
  const width = probabilities.length / rows;
  const scores = new Float64Array(rows);
  for (let r = 0; r < rows; r += 1) scores[r] = probabilities[r * width + width - 1] as number;
  let positives = 0;
  for (let r = 0; r < rows; r += 1) positives += labels[r] as number;
  if (positives === 0 || positives === rows) return undefined;
  const { roc, pr } = thresholdCurves(labels, scores);
  const rocKept = downsampleRocCurve(roc, maxPoints);
  const prKept = downsamplePrecisionRecallCurve(pr, maxPoints);
  return {
    roc: { fpr: rounded(rocKept.fpr), tpr: rounded(rocKept.tpr), thresholds: thresholdsOf(rocKept.thresholds) },
    // sklearn's PR thresholds are one short (the last point has none): null keeps the arrays parallel.
    pr: { precision: rounded(prKept.precision), recall: rounded(prKept.recall), thresholds: [...thresholdsOf(prKept.thresholds), null] },
    points: { roc: roc.fpr.length, pr: pr.precision.length },
  };
};
