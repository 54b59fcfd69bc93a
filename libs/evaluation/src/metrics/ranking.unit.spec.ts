import { Xoshiro128 } from '../compare/prng';
import { argsortFloat64 } from '../internal/sort';
import { buildRanking, mergeAuc, rankingAuc, rankingPassBinary } from './ranking';

const rng = new Xoshiro128(11);
const uniform = (): number => rng.nextUint32() / 4294967296;

/** Scores with many ties, negatives, zeros of both signs and extremes. */
const awkwardScores = (n: number): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => {
    const u = uniform();
    if (i % 17 === 0) return i % 2 === 0 ? -0 : 0;
    if (i % 23 === 0) return -1e300 * u;
    if (i % 29 === 0) return Number.MIN_VALUE * (i % 3);
    return Math.round((u - 0.3) * 50) / 10; // heavy ties
  });

describe('argsortFloat64 (radix)', () => {
  it.each([10, 300, 5000])('orders %i scores like a comparator sort, ties in one group', (n) => {
    const scores = awkwardScores(n);
    const { order, newGroup } = argsortFloat64(scores);
    const sorted = Array.from(order, (i) => scores[i] as number);
    const expected = Array.from(scores).sort((a, b) => a - b);
    expect(sorted.map((v) => v + 0)).toEqual(expected.map((v) => v + 0)); // -0 ≡ 0
    expect(new Set(order).size).toBe(n);
    for (let j = 1; j < n; j++) expect(newGroup[j]).toBe(sorted[j] === sorted[j - 1] ? 0 : 1);
  });
});

describe('ROC-AUC paths', () => {
  const n = 2000;
  const scores = awkwardScores(n);
  const positive = Uint8Array.from(scores, (s) => (uniform() < 0.35 + (s > 0 ? 0.3 : 0) ? 1 : 0));

  /** Direct O(P·N) Mann–Whitney with ties counted one half. */
  const bruteForce = (w: ArrayLike<number>): number => {
    let area = 0;
    let p = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      if (positive[i] === 1) p += w[i] as number;
      else q += w[i] as number;
    }
    for (let i = 0; i < n; i++) {
      if (positive[i] !== 1 || w[i] === 0) continue;
      for (let j = 0; j < n; j++) {
        if (positive[j] === 1 || w[j] === 0) continue;
        const si = scores[i] as number;
        const sj = scores[j] as number;
        area += (w[i] as number) * (w[j] as number) * (si > sj ? 1 : si === sj ? 0.5 : 0);
      }
    }
    return area / (p * q);
  };

  it('the merge (unweighted) and the ranking pass (weighted) agree with brute force', () => {
    const ones = new Float64Array(n).fill(1);
    const expected = bruteForce(ones);
    expect(mergeAuc(scores, positive).auc).toBeCloseTo(expected, 13);
    expect(rankingAuc(buildRanking(scores, positive), ones).auc).toBeCloseTo(expected, 13);
  });

  it('with integer weights equals the AUC of the rows repeated that many times', () => {
    const counts = new Uint16Array(n);
    new Xoshiro128(5).multinomialCounts(counts);
    const repeatedScores: number[] = [];
    const repeatedPositive: number[] = [];
    counts.forEach((c, i) => {
      for (let r = 0; r < c; r++) {
        repeatedScores.push(scores[i] as number);
        repeatedPositive.push(positive[i] as number);
      }
    });
    const expanded = mergeAuc(Float64Array.from(repeatedScores), Uint8Array.from(repeatedPositive)).auc;
    expect(rankingAuc(buildRanking(scores, positive), counts).auc).toBeCloseTo(expanded, 13);
    expect(rankingAuc(buildRanking(scores, positive), counts).auc).toBeCloseTo(bruteForce(counts), 13);
  });

  it('the fused binary pass gives AUC, confusion cells and loss sum of the separate passes', () => {
    const counts = new Uint16Array(n);
    new Xoshiro128(6).multinomialCounts(counts);
    const predicted = Uint8Array.from(scores, (s) => (s >= 0.5 ? 1 : 0));
    const losses = Float64Array.from(scores, (_, i) => i / n);
    const ranking = buildRanking(scores, positive);
    const pass = rankingPassBinary(
      ranking,
      counts,
      Uint8Array.from(ranking.order, (i) => predicted[i] as number),
      Float64Array.from(ranking.order, (i) => losses[i] as number),
    );
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    let lossSum = 0;
    counts.forEach((w, i) => {
      const y = positive[i];
      const q = predicted[i];
      if (y === 1 && q === 1) tp += w;
      else if (y === 0 && q === 1) fp += w;
      else if (y === 1) fn += w;
      else tn += w;
      lossSum += w * (losses[i] as number);
    });
    expect([pass.tn, pass.fp, pass.fn, pass.tp]).toEqual([tn, fp, fn, tp]);
    expect(pass.lossSum).toBeCloseTo(lossSum, 9);
    expect(pass.auc).toBe(rankingAuc(ranking, counts).auc);
  });

  it('is NaN when a class has no weight', () => {
    expect(mergeAuc(Float64Array.from([0.1, 0.2]), Uint8Array.from([1, 1])).auc).toBeNaN();
    const ranking = buildRanking(Float64Array.from([0.1, 0.2, 0.3]), Uint8Array.from([1, 0, 1]));
    expect(rankingAuc(ranking, Float64Array.from([1, 0, 1])).auc).toBeNaN();
  });
});
