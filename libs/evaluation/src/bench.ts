import { Xoshiro128 } from './compare/prng';
import { compareModels, computeMetrics } from './evaluate';

export interface BenchFigures {
  readonly computeMetrics: {
    readonly rows: number;
    /** First call (includes JIT warm-up). */
    readonly coldMs: number;
    /** Median of the next runs. */
    readonly warmMs: number;
    /** Same, with 5 slices (fairness) and a cost matrix (business_kpi). */
    readonly withSlicesWarmMs: number;
    readonly metrics: number;
  };
  readonly bootstrap: {
    readonly rows: number;
    readonly resamples: number;
    readonly ms: number;
    /** Metrics compared per resample (roc_auc and log_loss included). */
    readonly metrics: number;
  };
}

export interface BenchOptions {
  readonly rows?: number;
  readonly bootstrapRows?: number;
  readonly resamples?: number;
  readonly runs?: number;
}

/**
 * Micro-benchmark for the team's `npm run bench` (not a test: it asserts nothing).
 * - computeMetrics, binary with probabilities, on 1,000,000 rows (budget: well under 1 s);
 * - compareModels = paired bootstrap with 1,000 resamples on 100,000 rows, ROC-AUC
 *   included, plus McNemar (budget: 5 s).
 * Data are synthetic and deterministic (seeded).
 */
export function benchMetrics(options: BenchOptions = {}): BenchFigures {
  const rows = options.rows ?? 1_000_000;
  const bootstrapRows = options.bootstrapRows ?? 100_000;
  const resamples = options.resamples ?? 1000;
  const runs = options.runs ?? 3;

  const big = synthetic(rows, 1, 0.75);
  const groups = new Int32Array(rows);
  const rng = new Xoshiro128(99);
  for (let i = 0; i < rows; i++) groups[i] = rng.nextUint32() % 5;
  const groupNames = ['a', 'b', 'c', 'd', 'e'];
  const costMatrix = [
    [0, -1],
    [-5, 10],
  ];

  let start = performance.now();
  const result = computeMetrics('binary', { yTrue: big.yTrue, yPred: big.yPred, proba: big.proba });
  const coldMs = performance.now() - start;
  const warm: number[] = [];
  const withSlices: number[] = [];
  for (let r = 0; r < runs; r++) {
    start = performance.now();
    computeMetrics('binary', { yTrue: big.yTrue, yPred: big.yPred, proba: big.proba });
    warm.push(performance.now() - start);
    start = performance.now();
    computeMetrics('binary', { yTrue: big.yTrue, yPred: big.yPred, proba: big.proba, groups }, { groupNames, costMatrix });
    withSlices.push(performance.now() - start);
  }

  const small = synthetic(bootstrapRows, 2, 0.8);
  const champion = synthetic(bootstrapRows, 2, 0.6, small.yTrue);
  start = performance.now();
  const comparison = compareModels(
    'binary',
    {
      yTrue: small.yTrue,
      candidate: { yPred: small.yPred, proba: small.proba },
      champion: { yPred: champion.yPred, proba: champion.proba },
    },
    { resamples },
  );
  const bootstrapMs = performance.now() - start;

  return {
    computeMetrics: {
      rows,
      coldMs,
      warmMs: median(warm),
      withSlicesWarmMs: median(withSlices),
      metrics: Object.keys(result.metrics).length,
    },
    bootstrap: { rows: bootstrapRows, resamples, ms: bootstrapMs, metrics: Object.keys(comparison.metrics).length },
  };
}

/** y ~ Bernoulli(0.3); P(class 1) from a noisy score whose separation grows with `skill`. */
function synthetic(n: number, seed: number, skill: number, yTrue?: Int32Array) {
  const rng = new Xoshiro128(seed);
  const y = yTrue ?? new Int32Array(n);
  const proba = new Float64Array(n);
  const yPred = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (yTrue === undefined) y[i] = rng.nextUint32() < 0.3 * 4294967296 ? 1 : 0;
    const noise = rng.nextUint32() / 4294967296;
    const p = y[i] === 1 ? skill * noise ** 0.5 + (1 - skill) * noise : (1 - skill) * noise + skill * noise ** 2;
    proba[i] = Math.round(p * 1e6) / 1e6; // six decimals, like a CSV export: some ties
    yPred[i] = proba[i]! >= 0.5 ? 1 : 0;
  }
  return { yTrue: y, yPred, proba };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
