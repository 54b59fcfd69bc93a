import { EvaluationInputError } from '../errors';
import { UndefinedMetrics } from '../internal/flags';
import {
  requireGroups,
  requireLabels,
  requireLength,
  requireProbabilities,
  requireWeights,
} from '../internal/validate';
import { businessKpiFlat, requireValueMatrix } from './business';
import { fairnessFromGroupConfusion, type SliceMetrics } from './fairness';
import { AucSource, rankingPassBinary, rankingPassCells, type Ranking } from './ranking';
import type { RowWeights } from '../weights';

export type ClassificationTask = 'binary' | 'multiclass';

export interface ClassificationInputs {
  /** True class index per row, 0..k-1 (binary: 0 = negative, 1 = positive). */
  readonly yTrue: Int32Array;
  /** Predicted class index per row. */
  readonly yPred: Int32Array;
  /**
   * Predicted probabilities, row-major n×k (column c = class c); for binary also just n
   * values, the probability of class 1. Needed for roc_auc* and log_loss.
   */
  readonly proba?: Float64Array;
  /** Row weights >= 0: integer counts of a bootstrap resample, or sample weights. */
  readonly weights?: RowWeights;
  /** Slice index per row (0..groupNames.length-1), for per-slice and fairness metrics. */
  readonly groups?: Int32Array;
}

export interface ClassificationOptions {
  /** k for multiclass; defaults to the proba width, else max label + 1. Binary is always 2. */
  readonly numClasses?: number;
  /** Name of each slice value; required with `groups`. */
  readonly groupNames?: readonly string[];
  /** Value matrix `[trueClass][predictedClass]` for business_kpi (see business.ts). */
  readonly costMatrix?: readonly (readonly number[])[];
}

export interface ClassificationResult {
  /** Metric name (scikit-learn's) → value; NaN where undefined (see undefinedMetrics). */
  readonly metrics: Record<string, number>;
  /** confusionMatrix[trueClass][predictedClass], weighted counts, all k classes. */
  readonly confusionMatrix: number[][];
  readonly slices?: SliceMetrics[];
  /** Metrics that are NaN, or hold a convention value (zero_division → 0), on this data. */
  readonly undefinedMetrics: string[];
  readonly undefinedReasons: Record<string, string>;
}

/** Inputs validated and pre-processed once; `evaluate(weights)` is O(n·k) with no sorting. */
export interface PreparedClassification {
  readonly task: ClassificationTask;
  readonly rows: number;
  readonly classes: number;
  evaluate(weights?: RowWeights): ClassificationResult;
}

/** scikit-learn's log_loss clips probabilities to [eps, 1 − eps], eps = float64 machine epsilon. */
export const LOG_LOSS_EPS = Number.EPSILON;
const ONE_MINUS_EPS = 1 - LOG_LOSS_EPS;

/** Tolerance of sklearn's multiclass roc_auc check that probability rows sum to 1 (np.allclose). */
const ROW_SUM_ATOL = 1e-8;
const ROW_SUM_RTOL = 1e-5;

const clip = (p: number): number => (p < LOG_LOSS_EPS ? LOG_LOSS_EPS : p > ONE_MINUS_EPS ? ONE_MINUS_EPS : p);

export function classificationMetrics(
  task: ClassificationTask,
  inputs: ClassificationInputs,
  options: ClassificationOptions = {},
): ClassificationResult {
  const prepared = prepareClassification(task, inputs, options);
  requireWeights(inputs.weights, prepared.rows);
  return prepared.evaluate(inputs.weights);
}

export function prepareClassification(
  task: ClassificationTask,
  inputs: ClassificationInputs,
  options: ClassificationOptions = {},
): PreparedClassification {
  const { yTrue, yPred, proba, groups } = inputs;
  const n = yTrue.length;
  if (n === 0) throw new EvaluationInputError('no rows to evaluate');
  requireLength('yPred', yPred, n);
  const k = classCount(task, inputs, options);
  requireLabels('yTrue', yTrue, k);
  requireLabels('yPred', yPred, k);
  const numGroups = requireGroups(groups, options.groupNames, n);
  const values = options.costMatrix === undefined ? undefined : requireValueMatrix(options.costMatrix, k);

  // One cell index per row into the (group ×) confusion accumulator: the evaluation pass is
  // then a single indexed add per row.
  const kk = k * k;
  const cell = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cell[i] = (groups === undefined ? 0 : (groups[i] as number) * kk) + (yTrue[i] as number) * k + (yPred[i] as number);
  }

  let loss: Float64Array | undefined;
  let sources: AucSource[] = [];
  let micro: AucSource | undefined;
  let normalized = true;
  if (proba !== undefined) {
    const width = proba.length === n && task === 'binary' ? 1 : proba.length / n;
    if (width !== k && !(task === 'binary' && width === 1)) {
      throw new EvaluationInputError(
        `proba has ${proba.length} values; expected ${n * k} (n×k row-major)${task === 'binary' ? ` or ${n} (P(class 1))` : ''}`,
      );
    }
    requireProbabilities('proba', proba);
    loss = new Float64Array(n);
    if (width === 1) {
      for (let i = 0; i < n; i++) {
        const p = proba[i] as number;
        loss[i] = -Math.log(clip(yTrue[i] === 1 ? p : 1 - p));
      }
      sources = [new AucSource(proba, positives(yTrue, 1))];
    } else {
      for (let i = 0; i < n; i++) loss[i] = -Math.log(clip(proba[i * k + (yTrue[i] as number)] as number));
      if (task === 'binary') {
        sources = [new AucSource(column(proba, n, k, 1), positives(yTrue, 1))];
      } else {
        normalized = rowsSumToOne(proba, n, k);
        if (normalized) {
          sources = Array.from({ length: k }, (_, c) => new AucSource(column(proba, n, k, c), positives(yTrue, c)));
          const isPositive = new Uint8Array(n * k);
          for (let i = 0; i < n; i++) isPositive[i * k + (yTrue[i] as number)] = 1;
          micro = new AucSource(proba, isPositive, k);
        }
      }
    }
  }

  // Binary with probabilities, weighted (the bootstrap): predictions (or, with slices, the
  // accumulator cells) and losses permuted into the score order once, so that each resample
  // is a single pass over that order.
  let fused: { ranking: Ranking; predicted: Uint8Array; cells: Int32Array | undefined; losses: Float64Array } | undefined;
  const fusedPass = (): typeof fused => {
    if (task !== 'binary' || loss === undefined) return undefined;
    if (fused === undefined) {
      const ranking = (sources[0] as AucSource).sorted();
      const predicted = new Uint8Array(n);
      const cells = groups === undefined ? undefined : new Int32Array(n);
      const losses = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const i = ranking.order[j] as number;
        predicted[j] = yPred[i] as number;
        if (cells !== undefined) cells[j] = cell[i] as number;
        losses[j] = loss[i] as number;
      }
      fused = { ranking, predicted, cells, losses };
    }
    return fused;
  };

  const evaluate = (weights?: RowWeights): ClassificationResult => {
    const flags = new UndefinedMetrics();
    const acc = new Float64Array(Math.max(numGroups, 1) * kk);
    let lossSum = 0;
    let fusedAuc: number | undefined;
    const single = weights === undefined ? undefined : fusedPass();
    if (single !== undefined && weights !== undefined && single.cells !== undefined) {
      const pass = rankingPassCells(single.ranking, weights, single.cells, single.losses, acc);
      lossSum = pass.lossSum;
      fusedAuc = pass.auc;
    } else if (single !== undefined && weights !== undefined) {
      const pass = rankingPassBinary(single.ranking, weights, single.predicted, single.losses);
      acc[0] = pass.tn;
      acc[1] = pass.fp;
      acc[2] = pass.fn;
      acc[3] = pass.tp;
      lossSum = pass.lossSum;
      fusedAuc = pass.auc;
    } else if (weights === undefined) {
      if (loss === undefined) {
        for (let i = 0; i < n; i++) acc[cell[i] as number]! += 1;
      } else {
        for (let i = 0; i < n; i++) {
          acc[cell[i] as number]! += 1;
          lossSum += loss[i] as number;
        }
      }
    } else if (loss === undefined) {
      for (let i = 0; i < n; i++) acc[cell[i] as number]! += weights[i] as number;
    } else {
      for (let i = 0; i < n; i++) {
        const w = weights[i] as number;
        acc[cell[i] as number]! += w;
        lossSum += w * (loss[i] as number);
      }
    }
    const cm = numGroups > 1 ? sumGroups(acc, numGroups, kk) : acc;
    const metrics = confusionMetrics(task, cm, k, flags);
    const total = sum(cm);

    if (proba !== undefined) {
      if (task === 'binary') {
        const auc = fusedAuc ?? (sources[0] as AucSource).auc(weights).auc;
        metrics['roc_auc'] = auc;
        if (Number.isNaN(auc)) flags.add('roc_auc', onlyOneClass(total));
      } else {
        multiclassAuc(metrics, sources, micro, normalized, cm, k, weights, flags);
      }
      metrics['log_loss'] = total > 0 ? lossSum / total : NaN;
      if (total === 0) flags.add('log_loss', NO_ROWS);
    }
    if (values !== undefined) {
      metrics['business_kpi'] = businessKpiFlat(cm, k, values);
      if (total === 0) flags.add('business_kpi', NO_ROWS);
    }
    let slices: SliceMetrics[] | undefined;
    if (groups !== undefined && options.groupNames !== undefined) {
      const fairness = fairnessFromGroupConfusion(acc, k, options.groupNames, task === 'binary', flags);
      slices = fairness.slices;
      if (fairness.demographic_parity_difference !== undefined) {
        metrics['demographic_parity_difference'] = fairness.demographic_parity_difference;
      }
      if (fairness.equalized_odds_difference !== undefined) {
        metrics['equalized_odds_difference'] = fairness.equalized_odds_difference;
      }
    }
    const confusionMatrix = Array.from({ length: k }, (_, t) => Array.from(cm.subarray(t * k, t * k + k)));
    return {
      metrics,
      confusionMatrix,
      ...(slices === undefined ? {} : { slices }),
      undefinedMetrics: flags.names,
      undefinedReasons: flags.reasons,
    };
  };

  return { task, rows: n, classes: k, evaluate };
}

const NO_ROWS = 'no rows with a positive weight';

const onlyOneClass = (total: number): string =>
  total === 0 ? NO_ROWS : 'only one class is present in y_true; ROC AUC is not defined (sklearn: NaN)';

function classCount(task: ClassificationTask, inputs: ClassificationInputs, options: ClassificationOptions): number {
  if (task === 'binary') return 2;
  if (options.numClasses !== undefined) {
    if (!Number.isInteger(options.numClasses) || options.numClasses < 2) {
      throw new EvaluationInputError(`numClasses must be an integer >= 2, got ${options.numClasses}`);
    }
    return options.numClasses;
  }
  const n = inputs.yTrue.length;
  if (inputs.proba !== undefined && inputs.proba.length % n === 0 && inputs.proba.length / n >= 2) {
    return inputs.proba.length / n;
  }
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, inputs.yTrue[i] as number, inputs.yPred[i] as number);
  return Math.max(max + 1, 2);
}

function positives(yTrue: Int32Array, c: number): Uint8Array {
  const out = new Uint8Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) out[i] = yTrue[i] === c ? 1 : 0;
  return out;
}

function column(proba: Float64Array, n: number, k: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = proba[i * k + c] as number;
  return out;
}

function rowsSumToOne(proba: Float64Array, n: number, k: number): boolean {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += proba[i * k + c] as number;
    if (!(Math.abs(s - 1) <= ROW_SUM_ATOL + ROW_SUM_RTOL)) return false;
  }
  return true;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return s;
}

function sumGroups(acc: Float64Array, numGroups: number, kk: number): Float64Array {
  const cm = new Float64Array(kk);
  for (let g = 0; g < numGroups; g++) for (let c = 0; c < kk; c++) cm[c]! += acc[g * kk + c] as number;
  return cm;
}

/**
 * accuracy, balanced_accuracy, precision/recall/f1 (binary, macro, micro, weighted), from the
 * confusion matrix, as scikit-learn computes them with its default arguments:
 * - averages run over the labels present in y_true or y_pred (`labels=None`); with weights,
 *   "present" means a positive weight (a bootstrap resample that draws no row of a class
 *   does not have that class, exactly as if the rows were repeated);
 * - `zero_division="warn"`: a 0/0 precision, recall or F-score is 0.0, and the metric is
 *   listed in undefinedMetrics (where sklearn emits UndefinedMetricWarning);
 * - F1 = 2·tp / (2·tp + fp + fn) (sklearn >= 1.3), so F1 is 0/0 only when tp + fp + fn = 0;
 * - balanced_accuracy = mean recall over the classes present in y_true.
 */
function confusionMetrics(task: ClassificationTask, cm: Float64Array, k: number, flags: UndefinedMetrics): Record<string, number> {
  const tp = new Float64Array(k);
  const predSum = new Float64Array(k);
  const trueSum = new Float64Array(k);
  let total = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = cm[t * k + p] as number;
      predSum[p]! += c;
      trueSum[t]! += c;
      total += c;
    }
    tp[t] = cm[t * k + t] as number;
  }
  const metrics: Record<string, number> = {};
  const names = [
    'accuracy',
    'balanced_accuracy',
    ...(task === 'binary' ? ['precision', 'recall', 'f1'] : []),
    ...['precision', 'recall', 'f1'].flatMap((m) => ['macro', 'micro', 'weighted'].map((a) => `${m}_${a}`)),
  ];
  if (total === 0) {
    for (const name of names) {
      metrics[name] = NaN;
      flags.add(name, NO_ROWS);
    }
    return metrics;
  }

  let correct = 0;
  let recallSum = 0;
  let inTrue = 0;
  for (let c = 0; c < k; c++) {
    correct += tp[c] as number;
    if ((trueSum[c] as number) > 0) {
      recallSum += (tp[c] as number) / (trueSum[c] as number);
      inTrue++;
    }
  }
  metrics['accuracy'] = correct / total;
  metrics['balanced_accuracy'] = recallSum / inTrue;

  if (task === 'binary') {
    const t1 = tp[1] as number;
    const p1 = predSum[1] as number;
    const s1 = trueSum[1] as number;
    metrics['precision'] = divide(t1, p1, 'precision', 'no predicted positives (tp + fp = 0)', flags);
    metrics['recall'] = divide(t1, s1, 'recall', 'no true positives in y_true (tp + fn = 0)', flags);
    metrics['f1'] = divide(2 * t1, s1 + p1, 'f1', 'no positives predicted or true (tp + fp + fn = 0)', flags);
  }

  // Per-class scores over the present labels.
  let macroP = 0;
  let macroR = 0;
  let macroF = 0;
  let weightedP = 0;
  let weightedR = 0;
  let weightedF = 0;
  let present = 0;
  let tpAll = 0;
  let predAll = 0;
  let trueAll = 0;
  const notPredicted: number[] = [];
  const notTrue: number[] = [];
  for (let c = 0; c < k; c++) {
    const s = trueSum[c] as number;
    const p = predSum[c] as number;
    if (s === 0 && p === 0) continue;
    const t = tp[c] as number;
    const precision = p > 0 ? t / p : 0;
    const recall = s > 0 ? t / s : 0;
    const f = (2 * t) / (s + p);
    if (p === 0) notPredicted.push(c);
    if (s === 0) notTrue.push(c);
    macroP += precision;
    macroR += recall;
    macroF += f;
    weightedP += s * precision;
    weightedR += s * recall;
    weightedF += s * f;
    tpAll += t;
    predAll += p;
    trueAll += s;
    present++;
  }
  metrics['precision_macro'] = macroP / present;
  metrics['precision_micro'] = tpAll / predAll;
  metrics['precision_weighted'] = weightedP / trueAll;
  metrics['recall_macro'] = macroR / present;
  metrics['recall_micro'] = tpAll / trueAll;
  metrics['recall_weighted'] = weightedR / trueAll;
  metrics['f1_macro'] = macroF / present;
  metrics['f1_micro'] = (2 * tpAll) / (trueAll + predAll);
  metrics['f1_weighted'] = weightedF / trueAll;
  if (notPredicted.length > 0) {
    const reason = `class(es) ${notPredicted.join(', ')} never predicted: their precision is 0/0, set to 0.0 (sklearn zero_division)`;
    flags.add('precision_macro', reason);
    flags.add('precision_weighted', reason);
  }
  if (notTrue.length > 0) {
    const reason = `class(es) ${notTrue.join(', ')} absent from y_true: their recall is 0/0, set to 0.0 (sklearn zero_division)`;
    flags.add('recall_macro', reason);
    flags.add('recall_weighted', reason);
  }
  return metrics;
}

function divide(numerator: number, denominator: number, metric: string, reason: string, flags: UndefinedMetrics): number {
  if (denominator > 0) return numerator / denominator;
  flags.add(metric, `${reason}: 0/0, set to 0.0 (sklearn zero_division)`);
  return 0;
}

/**
 * One-vs-rest ROC-AUC as `roc_auc_score(y, proba, multi_class="ovr", average=..., labels=range(k))`:
 * - roc_auc_macro: mean of the k per-class AUCs (NaN if any class is absent from y_true or
 *   is the only class present);
 * - roc_auc_weighted: per-class AUCs weighted by their support in y_true (a class without
 *   support gets weight 0, and its NaN is ignored);
 * - roc_auc_micro: one AUC over the raveled n·k indicator matrix.
 * sklearn refuses (raises) when probability rows do not sum to 1; here the three are NaN.
 */
function multiclassAuc(
  metrics: Record<string, number>,
  sources: readonly AucSource[],
  micro: AucSource | undefined,
  normalized: boolean,
  cm: Float64Array,
  k: number,
  weights: RowWeights | undefined,
  flags: UndefinedMetrics,
): void {
  const names = ['roc_auc_macro', 'roc_auc_micro', 'roc_auc_weighted'];
  if (!normalized || micro === undefined) {
    for (const name of names) {
      metrics[name] = NaN;
      flags.add(name, 'probability rows do not sum to 1: multiclass ROC AUC needs probabilities (sklearn raises)');
    }
    return;
  }
  let macro = 0;
  let weighted = 0;
  let support = 0;
  const undefinedClasses: number[] = [];
  sources.forEach((source, c) => {
    const { auc } = source.auc(weights);
    let s = 0;
    for (let p = 0; p < k; p++) s += cm[c * k + p] as number;
    if (Number.isNaN(auc)) undefinedClasses.push(c);
    macro += auc;
    if (s > 0) weighted += s * auc;
    support += s;
  });
  metrics['roc_auc_macro'] = macro / k;
  metrics['roc_auc_micro'] = micro.auc(weights).auc;
  metrics['roc_auc_weighted'] = support > 0 ? weighted / support : NaN;
  if (undefinedClasses.length > 0) {
    const reason = `one-vs-rest AUC undefined for class(es) ${undefinedClasses.join(', ')} (absent from y_true, or the only class)`;
    flags.add('roc_auc_macro', reason);
    flags.add('roc_auc_weighted', reason);
  }
  if (Number.isNaN(metrics['roc_auc_micro'])) flags.add('roc_auc_micro', onlyOneClass(support));
}
