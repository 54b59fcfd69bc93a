import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Xoshiro128 } from '../compare/prng';
import { EvaluationInputError } from '../errors';
import {
  curvePointsToKeep,
  downsamplePrecisionRecallCurve,
  downsampleRocCurve,
  precisionRecallCurve,
  rocCurve,
  thresholdCurves,
  trapezoidArea,
  type PrecisionRecallCurve,
  type RocCurve,
} from './curves';
import { AucSource } from './ranking';

/** curve-reference.json, written by reference/make_curve_reference.py with scikit-learn. */
interface CurveCase {
  readonly name: string;
  readonly yTrue: number[];
  readonly scores: number[];
  readonly weights?: number[];
  /** null = NaN, or +inf for ROC's first threshold. */
  readonly roc: { fpr: Array<number | null>; tpr: Array<number | null>; thresholds: Array<number | null> };
  readonly pr: { precision: number[]; recall: number[]; thresholds: number[] };
}
const reference = JSON.parse(readFileSync(join(__dirname, '../../reference/curve-reference.json'), 'utf8')) as {
  versions: Record<string, string>;
  cases: CurveCase[];
};
const inputs = (c: CurveCase) => ({
  yTrue: Int32Array.from(c.yTrue),
  scores: Float64Array.from(c.scores),
  weights: c.weights === undefined ? undefined : Float64Array.from(c.weights),
});

/** Same length, each value within 1e-12 of sklearn's (null: NaN, or `nullAs`). */
const expectCurve = (actual: Float64Array, expected: Array<number | null>, label: string, nullAs = NaN): void => {
  expect({ label, length: actual.length }).toEqual({ label, length: expected.length });
  expected.forEach((e, i) => {
    const want = e ?? nullAs;
    const got = actual[i] as number;
    const same = Number.isNaN(want) ? Number.isNaN(got) : got === want || Math.abs(got - want) <= 1e-12;
    if (!same) throw new Error(`${label}[${i}]: sklearn ${want}, here ${got}`);
  });
};

const nonDecreasing = (a: ArrayLike<number>) => Array.from(a).every((v, i, all) => i === 0 || v >= (all[i - 1] as number));
const increasing = (a: ArrayLike<number>) => Array.from(a).every((v, i, all) => i === 0 || v > (all[i - 1] as number));

describe('ROC and precision-recall curves as scikit-learn computes them', () => {
  it('the reference was written by scikit-learn 1.9', () => {
    expect(reference.versions['scikit-learn']).toMatch(/^1\.9\./);
    expect(reference.cases.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const { yTrue, scores, weights } = inputs(c);

    it('roc_curve(drop_intermediate=True): same points, same thresholds, +inf first', () => {
      const roc = rocCurve(yTrue, scores, weights);
      expectCurve(roc.fpr, c.roc.fpr, 'fpr');
      expectCurve(roc.tpr, c.roc.tpr, 'tpr');
      expectCurve(roc.thresholds, c.roc.thresholds, 'thresholds', Infinity);
    });

    it('precision_recall_curve: same points, same thresholds, ending at (recall 0, precision 1)', () => {
      const pr = precisionRecallCurve(yTrue, scores, weights);
      expectCurve(pr.precision, c.pr.precision, 'precision');
      expectCurve(pr.recall, c.pr.recall, 'recall');
      expectCurve(pr.thresholds, c.pr.thresholds, 'thresholds');
    });

    it('thresholdCurves gives both from one sort, point for point', () => {
      expect(thresholdCurves(yTrue, scores, weights)).toEqual({
        roc: rocCurve(yTrue, scores, weights),
        pr: precisionRecallCurve(yTrue, scores, weights),
      });
    });
  });

  it.each(reference.cases.filter((c) => new Set(c.yTrue).size === 2).map((c) => [c.name, c] as const))(
    'the trapezoid area under the full ROC curve is the library roc_auc (%s)',
    (_, c) => {
      const { yTrue, scores, weights } = inputs(c);
      const roc = rocCurve(yTrue, scores, weights);
      const auc = new AucSource(scores, Uint8Array.from(yTrue)).auc(weights).auc;
      expect(Math.abs(trapezoidArea(roc.fpr, roc.tpr) - auc)).toBeLessThanOrEqual(1e-12);
    },
  );

  it('keeps the sign of a ±0 threshold as sklearn does (the last of the tie group in row order)', () => {
    const c = reference.cases.find((r) => r.name === 'collinear runs and signed zeros') as CurveCase;
    const { yTrue, scores } = inputs(c);
    const zero = Array.from(precisionRecallCurve(yTrue, scores).thresholds).find((t) => t === 0) as number;
    expect(Object.is(zero, 0)).toBe(true);
    const flipped = Float64Array.from(scores, (s, i) => (i === 2 ? 0 : i === 3 ? -0 : s));
    const flippedZero = Array.from(precisionRecallCurve(yTrue, flipped).thresholds).find((t) => t === 0) as number;
    expect(Object.is(flippedZero, -0)).toBe(true);
  });

  it('refuses what sklearn refuses, and labels other than 0/1', () => {
    const y = Int32Array.from([0, 1, 1]);
    expect(() => rocCurve(y, Float64Array.from([0.1, NaN, 0.3]))).toThrow(EvaluationInputError);
    expect(() => rocCurve(y, Float64Array.from([0.1, Infinity, 0.3]))).toThrow(EvaluationInputError);
    expect(() => rocCurve(Int32Array.from([0, 2, 1]), Float64Array.from([0.1, 0.2, 0.3]))).toThrow(EvaluationInputError);
    expect(() => precisionRecallCurve(y, Float64Array.from([0.1, 0.2]))).toThrow(EvaluationInputError);
    expect(() => precisionRecallCurve(y, Float64Array.from([0.1, 0.2, 0.3]), Float64Array.from([0, 0, 0]))).toThrow(
      /at least one row with a weight above 0/,
    );
  });
});

describe('downsampling a curve by arc length', () => {
  const rng = new Xoshiro128(7);
  const uniform = () => rng.nextUint32() / 4294967296;
  /** 20,000 rows of a fair classifier: a ROC and a PR curve of thousands of points. */
  const n = 20_000;
  const yTrue = Int32Array.from({ length: n }, () => (uniform() < 0.3 ? 1 : 0));
  const scores = Float64Array.from(yTrue, (y) => Math.round((0.35 * y + 0.65 * uniform()) * 1e5) / 1e5);
  const weights = Float64Array.from({ length: n }, () => Math.floor(uniform() * 4));
  const curves: Array<[string, RocCurve, PrecisionRecallCurve]> = [
    ['unweighted', rocCurve(yTrue, scores), precisionRecallCurve(yTrue, scores)],
    ['weighted', rocCurve(yTrue, scores, weights), precisionRecallCurve(yTrue, scores, weights)],
    ...reference.cases
      .filter((c) => c.scores.length >= 3000)
      .map((c): [string, RocCurve, PrecisionRecallCurve] => {
        const { yTrue: y, scores: s, weights: w } = inputs(c);
        return [c.name, rocCurve(y, s, w), precisionRecallCurve(y, s, w)];
      }),
  ];

  it.each(curves)('%s: a ROC curve keeps ≤ N real points, both ends, its order and its area', (_, full) => {
    expect(full.fpr.length).toBeGreaterThan(500);
    for (const max of [200, 50, 2]) {
      const roc = downsampleRocCurve(full, max);
      expect(roc.fpr.length).toBeLessThanOrEqual(max);
      expect(roc.fpr.length).toBe(roc.tpr.length);
      expect(roc.thresholds.length).toBe(roc.fpr.length);
      expect([roc.fpr[0], roc.tpr[0], roc.thresholds[0]]).toEqual([0, 0, Infinity]);
      expect([roc.fpr.at(-1), roc.tpr.at(-1), roc.thresholds.at(-1)]).toEqual([1, 1, full.thresholds.at(-1)]);
      expect(nonDecreasing(roc.fpr) && nonDecreasing(roc.tpr)).toBe(true);
      expect(increasing(Array.from(roc.thresholds).reverse())).toBe(true);
      // Every kept point is an operating point of the full curve, with its own threshold.
      const at = new Map(Array.from(full.thresholds, (t, i) => [t, i]));
      roc.thresholds.forEach((t, j) => {
        const i = at.get(t) as number;
        expect([full.fpr[i], full.tpr[i]]).toEqual([roc.fpr[j], roc.tpr[j]]);
      });
    }
    const area = trapezoidArea(full.fpr, full.tpr);
    expect(Math.abs(trapezoidArea(downsampleRocCurve(full).fpr, downsampleRocCurve(full).tpr) - area)).toBeLessThan(0.005);
    expect(downsampleRocCurve(full).fpr.length).toBeGreaterThan(150); // the budget is used, not wasted on duplicates
  });

  it.each(curves)('%s: a PR curve keeps ≤ N points, both ends, recall order, and no threshold on its last point', (_, __, full) => {
    for (const max of [200, 50, 2]) {
      const pr = downsamplePrecisionRecallCurve(full, max);
      expect(pr.precision.length).toBeLessThanOrEqual(max);
      expect(pr.recall.length).toBe(pr.precision.length);
      expect(pr.thresholds.length).toBe(pr.precision.length - 1);
      expect([pr.recall[0], pr.precision[0], pr.thresholds[0]]).toEqual([full.recall[0], full.precision[0], full.thresholds[0]]);
      expect([pr.recall.at(-1), pr.precision.at(-1)]).toEqual([0, 1]);
      expect(nonDecreasing(Array.from(pr.recall).reverse())).toBe(true);
      expect(increasing(pr.thresholds)).toBe(true);
    }
  });

  it('spends the points where the curve moves: a steep start gets as many as a long flat stretch of the same length', () => {
    // A ROC-like polyline: 1,000 points up the left edge (length 1), 1,000 along the top (length 1).
    const x = Float64Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 0 : (i - 999) / 1001));
    const y = Float64Array.from({ length: 2000 }, (_, i) => (i < 1000 ? i / 999 : 1));
    const keep = Array.from(curvePointsToKeep(x, y, 101));
    const up = keep.filter((i) => i < 1000).length;
    expect(Math.abs(up - (keep.length - up))).toBeLessThanOrEqual(2);
    expect(keep[0]).toBe(0);
    expect(keep.at(-1)).toBe(1999);
  });

  it('keeps a short curve whole and refuses a budget below two points', () => {
    expect(Array.from(curvePointsToKeep([0, 0.5, 1], [0, 0.7, 1], 3))).toEqual([0, 1, 2]);
    expect(Array.from(curvePointsToKeep([0, 0.5, 0.6, 1], [0, 0.7, 0.8, 1], 2))).toEqual([0, 3]);
    expect(() => curvePointsToKeep([0, 1], [0, 1], 1)).toThrow(EvaluationInputError);
    expect(() => curvePointsToKeep([0, 1], [0, 1], 2.5)).toThrow(EvaluationInputError);
  });
});
