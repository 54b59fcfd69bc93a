import { UndefinedMetrics } from '../internal/flags';
import { requireGroups, requireLabels, requireLength, requireWeights } from '../internal/validate';
import type { RowWeights } from '../weights';

/** The metrics of one slice (one value of a sensitive feature or segment column). */
export interface SliceMetrics {
  readonly name: string;
  /** Rows in the slice (sum of weights when weighted). */
  readonly count: number;
  /** Empty when the slice has no rows: fairlearn does not see such a group at all. */
  readonly metrics: Record<string, number>;
}

export interface FairnessResult {
  readonly slices: SliceMetrics[];
  /** Binary tasks only; NaN when no group has rows. */
  readonly demographic_parity_difference?: number;
  readonly equalized_odds_difference?: number;
}

/**
 * Per-slice metrics and fairlearn's disparity metrics from per-group confusion matrices
 * (`acc[g·k·k + t·k + p]` = weight of rows of group g with true class t predicted p).
 *
 * Binary (positive class 1), fairlearn 0.15 definitions, `method="between_groups"`:
 * - `selection_rate` = P(ŷ = 1 | group); `true_positive_rate` = P(ŷ = 1 | y = 1, group);
 *   `false_positive_rate` = P(ŷ = 1 | y = 0, group); `accuracy`; `count`.
 * - `demographic_parity_difference` = max − min selection rate over the groups that have rows.
 * - `equalized_odds_difference` (`agg="worst_case"`) = max(TPR max − min, FPR max − min).
 * - A group without positives (or negatives) gets TPR (or FPR) 0, as fairlearn does (it
 *   reads them off sklearn's `confusion_matrix(normalize="true")`, which maps 0/0 to 0):
 *   equalized_odds_difference is then flagged in `undefinedMetrics`.
 * Multiclass: `count` and `accuracy` per slice; the disparity metrics are binary-only in
 * fairlearn and are not reported.
 */
export function fairnessFromGroupConfusion(
  acc: Float64Array,
  k: number,
  groupNames: readonly string[],
  binary: boolean,
  flags: UndefinedMetrics,
): FairnessResult {
  const kk = k * k;
  const slices: SliceMetrics[] = [];
  let selMin = Infinity;
  let selMax = -Infinity;
  let tprMin = Infinity;
  let tprMax = -Infinity;
  let fprMin = Infinity;
  let fprMax = -Infinity;
  const lacking: string[] = [];
  groupNames.forEach((name, g) => {
    const base = g * kk;
    let count = 0;
    let correct = 0;
    for (let t = 0; t < k; t++) {
      for (let p = 0; p < k; p++) count += acc[base + t * k + p] as number;
      correct += acc[base + t * k + t] as number;
    }
    if (count === 0) {
      slices.push({ name, count: 0, metrics: {} });
      return;
    }
    const metrics: Record<string, number> = { accuracy: correct / count };
    if (binary) {
      const tn = acc[base] as number;
      const fp = acc[base + 1] as number;
      const fn = acc[base + 2] as number;
      const tp = acc[base + 3] as number;
      const selection = (fp + tp) / count;
      const tpr = tp + fn > 0 ? tp / (tp + fn) : 0;
      const fpr = fp + tn > 0 ? fp / (fp + tn) : 0;
      if (tp + fn === 0 || fp + tn === 0) lacking.push(name);
      metrics['selection_rate'] = selection;
      metrics['true_positive_rate'] = tpr;
      metrics['false_positive_rate'] = fpr;
      selMin = Math.min(selMin, selection);
      selMax = Math.max(selMax, selection);
      tprMin = Math.min(tprMin, tpr);
      tprMax = Math.max(tprMax, tpr);
      fprMin = Math.min(fprMin, fpr);
      fprMax = Math.max(fprMax, fpr);
    }
    slices.push({ name, count, metrics });
  });
  if (!binary) return { slices };
  const any = selMax >= selMin;
  if (lacking.length > 0) {
    flags.add(
      'equalized_odds_difference',
      `slice(s) ${lacking.map((s) => JSON.stringify(s)).join(', ')} lack positive or negative rows; ` +
        'their TPR/FPR is taken as 0 (fairlearn)',
    );
  }
  if (!any) {
    flags.add('demographic_parity_difference', 'no slice has rows');
    flags.add('equalized_odds_difference', 'no slice has rows');
  }
  return {
    slices,
    demographic_parity_difference: any ? selMax - selMin : NaN,
    equalized_odds_difference: any ? Math.max(tprMax - tprMin, fprMax - fprMin) : NaN,
  };
}

/** Accumulates per-group confusion matrices in one pass. */
export function groupConfusion(
  yTrue: Int32Array,
  yPred: Int32Array,
  groups: Int32Array,
  numGroups: number,
  k: number,
  weights?: RowWeights,
): Float64Array {
  const acc = new Float64Array(numGroups * k * k);
  const n = yTrue.length;
  for (let i = 0; i < n; i++) {
    const cell = ((groups[i] as number) * k + (yTrue[i] as number)) * k + (yPred[i] as number);
    acc[cell] = (acc[cell] as number) + (weights === undefined ? 1 : (weights[i] as number));
  }
  return acc;
}

/**
 * fairlearn-style fairness report for a binary classifier on its own (computeMetrics gives
 * the same figures as part of a full evaluation).
 */
export function fairnessMetrics(
  yTrue: Int32Array,
  yPred: Int32Array,
  groups: Int32Array,
  groupNames: readonly string[],
  weights?: RowWeights,
): FairnessResult & { undefinedMetrics: string[]; undefinedReasons: Record<string, string> } {
  const n = yTrue.length;
  requireLength('yPred', yPred, n);
  requireLabels('yTrue', yTrue, 2);
  requireLabels('yPred', yPred, 2);
  requireWeights(weights, n);
  const numGroups = requireGroups(groups, groupNames, n);
  const flags = new UndefinedMetrics();
  const result = fairnessFromGroupConfusion(groupConfusion(yTrue, yPred, groups, numGroups, 2, weights), 2, groupNames, true, flags);
  return { ...result, undefinedMetrics: flags.names, undefinedReasons: flags.reasons };
}
