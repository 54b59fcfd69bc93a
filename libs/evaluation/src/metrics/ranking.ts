import { EvaluationInputError } from '../errors';
import { argsortFloat64 } from '../internal/sort';
import type { RowWeights } from '../weights';

/**
 * ROC-AUC by the rank (Mann–Whitney) formulation:
 *
 *   AUC = Σ over tie groups g of  P_g · (N_below_g + N_g / 2)  /  (P · N)
 *
 * where P_g, N_g are the positive and negative weight inside tie group g (equal scores) and
 * N_below_g the negative weight of all lower scores. This is the trapezoidal area under
 * scikit-learn's roc_curve (a tie counts one half), with or without sample weights.
 *
 * Two paths:
 * - unweighted: the positive and the negative scores are sorted apart (native typed-array
 *   sort) and merged: O(n log n), the fastest way through a million rows once;
 * - weighted (bootstrap): the scores are argsorted ONCE (radix sort) and tie groups marked;
 *   each resample is then one O(n) pass over that order reading its weights: no re-sorting
 *   (a resample is a multinomial weight vector over the original rows).
 */
export interface AucResult {
  /** NaN when only one class is present (no positive or no negative weight). */
  readonly auc: number;
  readonly positive: number;
  readonly negative: number;
}

/** The scores of one binary problem (one-vs-rest class, or the raveled micro average). */
export class AucSource {
  private unweighted: AucResult | undefined;
  private ranking: Ranking | undefined;

  /**
   * @param scores one score per element
   * @param positive 1 for the elements of the positive class
   * @param rowsPerElement elements per row (k for the raveled n·k micro average, else 1)
   */
  constructor(
    private readonly scores: Float64Array,
    private readonly positive: Uint8Array,
    private readonly rowsPerElement = 1,
  ) {}

  auc(weights?: RowWeights): AucResult {
    if (weights === undefined) {
      this.unweighted ??= mergeAuc(this.scores, this.positive);
      return this.unweighted;
    }
    return rankingAuc(this.sorted(), weights);
  }

  /** The argsorted scores, built on first use (the weighted path only). */
  sorted(): Ranking {
    this.ranking ??= buildRanking(this.scores, this.positive, this.rowsPerElement);
    return this.ranking;
  }
}

/** Unweighted AUC: sort positives and negatives apart, then merge counting ties as one half. */
export function mergeAuc(scores: Float64Array, positive: Uint8Array): AucResult {
  const m = scores.length;
  let p = 0;
  for (let e = 0; e < m; e++) p += positive[e] as number;
  const pos = new Float64Array(p);
  const neg = new Float64Array(m - p);
  let a = 0;
  let b = 0;
  for (let e = 0; e < m; e++) {
    if (positive[e] === 1) pos[a++] = scores[e] as number;
    else neg[b++] = scores[e] as number;
  }
  pos.sort();
  neg.sort();
  const N = neg.length;
  let area = 0;
  let j = 0;
  for (let i = 0; i < p; ) {
    const v = pos[i] as number;
    let i2 = i + 1;
    while (i2 < p && pos[i2] === v) i2++; // -0 === 0: one tie group, as in sklearn
    while (j < N && (neg[j] as number) < v) j++;
    let j2 = j;
    while (j2 < N && neg[j2] === v) j2++;
    area += (i2 - i) * (j + 0.5 * (j2 - j));
    i = i2;
    j = j2;
  }
  return { auc: p > 0 && N > 0 ? area / (p * N) : NaN, positive: p, negative: N };
}

/**
 * Elements in ascending score order; inside a tie group the negatives come first. Each entry
 * packs `row << 2 | newGroup << 1 | positive` (rows < 2^29).
 */
export interface Ranking {
  readonly packed: Int32Array;
  /** Element index of each sorted position (to permute per-row data into this order). */
  readonly order: Int32Array;
}

const MAX_ROWS = 1 << 29;

export function buildRanking(scores: Float64Array, positive: Uint8Array, rowsPerElement = 1): Ranking {
  const m = scores.length;
  if (m / rowsPerElement >= MAX_ROWS) throw new EvaluationInputError(`at most ${MAX_ROWS - 1} rows can be ranked`);
  const { order, newGroup } = argsortFloat64(scores);
  // Stable partition of each tie group: negatives first, then positives.
  const grouped = new Int32Array(m);
  for (let start = 0; start < m; ) {
    let end = start + 1;
    while (end < m && newGroup[end] === 0) end++;
    let out = start;
    for (let j = start; j < end; j++) if (positive[order[j] as number] === 0) grouped[out++] = order[j] as number;
    for (let j = start; j < end; j++) if (positive[order[j] as number] === 1) grouped[out++] = order[j] as number;
    start = end;
  }
  const packed = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const e = grouped[j] as number;
    const row = rowsPerElement === 1 ? e : Math.floor(e / rowsPerElement);
    packed[j] = (row << 2) | ((newGroup[j] as number) << 1) | (positive[e] as number);
  }
  return { packed, order: grouped };
}

/**
 * Weighted AUC over a pre-sorted ranking, one pass. With the negatives of a tie group before
 * its positives, a positive sees N_le (negatives <= its score) in the running sum and N_lt
 * (strictly below) in the value kept at the group's start, and
 * AUC = Σ_pos w · (N_lt + N_le) / 2 / (P · N).
 */
export function rankingAuc(ranking: Ranking, weights: RowWeights): AucResult {
  const packed = ranking.packed;
  const m = packed.length;
  let negBelow = 0;
  let groupStart = 0;
  let pos = 0;
  let area = 0;
  for (let j = 0; j < m; j++) {
    const p = packed[j] as number;
    const w = weights[p >>> 2] as number;
    if (p & 2) groupStart = negBelow;
    const wp = w * (p & 1);
    area += wp * (negBelow + groupStart);
    pos += wp;
    negBelow += w - wp;
  }
  return { auc: pos > 0 && negBelow > 0 ? (0.5 * area) / (pos * negBelow) : NaN, positive: pos, negative: negBelow };
}

/**
 * The binary bootstrap's fused pass: AUC, the 2×2 confusion matrix and the log-loss sum in
 * one pass over the ranking, the per-row predictions and losses pre-permuted into its order.
 * One gather of the weights serves every metric of a resample, and all sums stay in
 * registers (no read-modify-write of a shared accumulator).
 * `predicted[j]` = 1 if the model predicts class 1 for the row at sorted position j.
 */
export function rankingPassBinary(
  ranking: Ranking,
  weights: RowWeights,
  predicted: Uint8Array,
  losses: Float64Array,
): BinaryPass {
  const packed = ranking.packed;
  const m = packed.length;
  let negBelow = 0;
  let groupStart = 0;
  let pos = 0;
  let area = 0;
  let lossSum = 0;
  let predPos = 0;
  let tp = 0;
  for (let j = 0; j < m; j++) {
    const p = packed[j] as number;
    const w = weights[p >>> 2] as number;
    const q = predicted[j] as number;
    lossSum += w * (losses[j] as number);
    if (p & 2) groupStart = negBelow;
    const wp = w * (p & 1);
    area += wp * (negBelow + groupStart);
    pos += wp;
    negBelow += w - wp;
    predPos += w * q;
    tp += wp * q;
  }
  return {
    auc: pos > 0 && negBelow > 0 ? (0.5 * area) / (pos * negBelow) : NaN,
    lossSum,
    tn: negBelow - (predPos - tp),
    fp: predPos - tp,
    fn: pos - tp,
    tp,
  };
}

export interface BinaryPass {
  readonly auc: number;
  readonly lossSum: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly tp: number;
}

/**
 * The fused pass with slices: as rankingPassBinary, but each row's weight goes to its cell of
 * the per-group confusion accumulator (`cells[j]` = g·4 + 2·y + ŷ, pre-permuted).
 */
export function rankingPassCells(
  ranking: Ranking,
  weights: RowWeights,
  cells: Int32Array,
  losses: Float64Array,
  acc: Float64Array,
): { readonly auc: number; readonly lossSum: number } {
  const packed = ranking.packed;
  const m = packed.length;
  let negBelow = 0;
  let groupStart = 0;
  let pos = 0;
  let area = 0;
  let lossSum = 0;
  for (let j = 0; j < m; j++) {
    const p = packed[j] as number;
    const w = weights[p >>> 2] as number;
    acc[cells[j] as number]! += w;
    lossSum += w * (losses[j] as number);
    if (p & 2) groupStart = negBelow;
    const wp = w * (p & 1);
    area += wp * (negBelow + groupStart);
    pos += wp;
    negBelow += w - wp;
  }
  return { auc: pos > 0 && negBelow > 0 ? (0.5 * area) / (pos * negBelow) : NaN, lossSum };
}
