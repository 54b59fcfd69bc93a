import { argsortFloat64 } from '../internal/sort';

/**
 * Scores sorted once, for ROC-AUC by the rank (Mann–Whitney) formulation:
 *
 *   AUC = Σ over tie groups g of  P_g · (N_below_g + N_g / 2)  /  (P · N)
 *
 * where P_g, N_g are the positive and negative weight inside tie group g and N_below_g is
 * the negative weight of all lower scores. This equals the trapezoidal area under
 * scikit-learn's roc_curve (ties count one half), with or without sample weights. Because
 * only the weights change between bootstrap resamples, each resample is one O(n) pass over
 * the pre-sorted order: no re-sorting.
 */
export interface Ranking {
  /** Row of each sorted element (elements may outnumber rows: the micro average ravels n·k). */
  readonly rows: Int32Array;
  /** Per sorted element: bit 0 = positive, bit 1 = first element of a new tie group. */
  readonly flags: Uint8Array;
}

export const POSITIVE = 1;
export const NEW_GROUP = 2;

/** `positive[e]` marks the positive elements; `rowOf(e)` maps an element to its row. */
export function buildRanking(scores: Float64Array, positive: Uint8Array, rowsPerElement?: number): Ranking {
  const { order, newGroup } = argsortFloat64(scores);
  const m = scores.length;
  const rows = new Int32Array(m);
  const flags = new Uint8Array(m);
  const per = rowsPerElement ?? 1;
  for (let j = 0; j < m; j++) {
    const e = order[j] as number;
    rows[j] = per === 1 ? e : Math.floor(e / per);
    flags[j] = (positive[e] as number) | ((newGroup[j] as number) << 1);
  }
  return { rows, flags };
}

export interface AucResult {
  /** NaN when only one class is present (no positive or no negative weight). */
  readonly auc: number;
  readonly positive: number;
  readonly negative: number;
}

export function rankingAuc(ranking: Ranking, weights?: Float64Array): AucResult {
  const { rows, flags } = ranking;
  const m = flags.length;
  let negBelow = 0;
  let pos = 0;
  let area = 0;
  let gp = 0;
  let gn = 0;
  if (weights === undefined) {
    for (let j = 0; j < m; j++) {
      const f = flags[j] as number;
      if (f & NEW_GROUP) {
        area += gp * (negBelow + 0.5 * gn);
        negBelow += gn;
        pos += gp;
        gp = 0;
        gn = 0;
      }
      if (f & POSITIVE) gp += 1;
      else gn += 1;
    }
  } else {
    for (let j = 0; j < m; j++) {
      const f = flags[j] as number;
      if (f & NEW_GROUP) {
        area += gp * (negBelow + 0.5 * gn);
        negBelow += gn;
        pos += gp;
        gp = 0;
        gn = 0;
      }
      const w = weights[rows[j] as number] as number;
      if (f & POSITIVE) gp += w;
      else gn += w;
    }
  }
  area += gp * (negBelow + 0.5 * gn);
  negBelow += gn;
  pos += gp;
  const auc = pos > 0 && negBelow > 0 ? area / pos / negBelow : NaN;
  return { auc, positive: pos, negative: negBelow };
}
