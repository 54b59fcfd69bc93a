import type { MetricComparison } from '@mrw/contracts';
import { EvaluationInputError } from '../errors';
import { Xoshiro128 } from './prng';
import type { RowWeights } from '../weights';

export const DEFAULT_RESAMPLES = 1000;
/** The default seed; every result records the seed it used. */
export const DEFAULT_SEED = 20261127;
export const DEFAULT_LEVEL = 0.95;

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  readonly resamples?: number;
  /** PRNG seed, integer 0..2^32-1 (default 20261127). Same seed + same data → same CI. */
  readonly seed?: number;
  /** Confidence level of the interval (default 0.95). */
  readonly level?: number;
}

/**
 * Metrics of one model from row weights: `undefined` = the data as given, otherwise a weight
 * per row (the resample's counts, times the sample weights if any).
 */
export type MetricsFromWeights = (weights: RowWeights | undefined) => Readonly<Record<string, number>>;

export interface BootstrapMetric extends MetricComparison {
  /** Resamples on which the metric was defined for both models (the CI uses these only). */
  readonly definedResamples: number;
}

export interface PairedBootstrapResult {
  readonly metrics: Record<string, BootstrapMetric>;
  readonly resamples: number;
  readonly seed: number;
  readonly level: number;
  readonly method: 'percentile';
  readonly prng: 'xoshiro128**';
}

/**
 * Paired bootstrap of candidate − champion. Each resample draws n rows with replacement
 * (a multinomial weight vector, O(n)) and evaluates BOTH models on the SAME weights, so the
 * interval reflects the difference on the same rows, not two independent noises.
 *
 * - point estimates (`candidate`, `champion`, `difference`) are on the data as given;
 * - `ci` is the percentile interval of the resampled differences at (1 − level)/2 and
 *   (1 + level)/2, interpolated linearly like numpy.percentile's default;
 * - a resample where the metric is NaN for either model (e.g. ROC-AUC when the resample drew
 *   one class only) is left out of that metric's interval and counted out of
 *   `definedResamples`; with no defined resample there is no `ci`.
 */
export function pairedBootstrap(
  rows: number,
  candidate: MetricsFromWeights,
  champion: MetricsFromWeights,
  options: BootstrapOptions = {},
  sampleWeights?: RowWeights,
): PairedBootstrapResult {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  const level = options.level ?? DEFAULT_LEVEL;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new EvaluationInputError(`resamples must be a positive integer, got ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new EvaluationInputError(`level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(rows) || rows < 1) throw new EvaluationInputError('the bootstrap needs at least one row');
  const rng = new Xoshiro128(seed);

  const pointCandidate = candidate(sampleWeights);
  const pointChampion = champion(sampleWeights);
  const names = Object.keys(pointCandidate).filter((m) => m in pointChampion);
  const diffs = names.map(() => new Float64Array(resamples));

  // Counts <= 65535 fit 16 bits: for n < 65536 always; above, a count that high has
  // probability below n·(e/65536)^65536; multinomialCounts16 detects it and we redraw in float64.
  const counts16 = new Uint16Array(rows);
  let counts64: Float64Array | undefined;
  const scaled = sampleWeights === undefined ? undefined : new Float64Array(rows);
  for (let r = 0; r < resamples; r++) {
    let counts: RowWeights = counts16;
    if (!rng.multinomialCounts16(counts16)) {
      counts64 ??= new Float64Array(rows);
      rng.multinomialCounts(counts64);
      counts = counts64;
    }
    let weights: RowWeights = counts;
    if (sampleWeights !== undefined && scaled !== undefined) {
      weights = scaled;
      for (let i = 0; i < rows; i++) scaled[i] = (counts[i] as number) * (sampleWeights[i] as number);
    }
    const c = candidate(weights);
    const h = champion(weights);
    for (let m = 0; m < names.length; m++) {
      const name = names[m] as string;
      (diffs[m] as Float64Array)[r] = (c[name] as number) - (h[name] as number);
    }
  }

  const metrics: Record<string, BootstrapMetric> = {};
  names.forEach((name, m) => {
    const defined = (diffs[m] as Float64Array).filter((d) => !Number.isNaN(d)).sort();
    const c = pointCandidate[name] as number;
    const h = pointChampion[name] as number;
    metrics[name] = {
      candidate: c,
      champion: h,
      difference: c - h,
      ...(defined.length === 0
        ? {}
        : { ci: { lower: percentile(defined, (1 - level) / 2), upper: percentile(defined, (1 + level) / 2), level } }),
      definedResamples: defined.length,
    };
  });
  return { metrics, resamples, seed, level, method: 'percentile', prng: 'xoshiro128**' };
}

/** numpy.percentile(method="linear") of sorted values, q in [0, 1]. */
export function percentile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const t = position - below;
  const a = sorted[below] as number;
  const b = sorted[above] as number;
  // numpy's _lerp: a + (b − a)·t, computed from the nearer end for t >= 0.5
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}
