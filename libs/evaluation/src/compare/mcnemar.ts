import { EvaluationInputError } from '../errors';
import { requireLength } from '../internal/validate';
import { binomialHalfTwoSided, chiSquare1Sf } from './distributions';

/** Below this many discordant pairs (b + c) the exact binomial test is the one reported. */
export const MCNEMAR_EXACT_BELOW = 25;

export interface McNemarResult {
  /** Candidate right, champion wrong. */
  readonly b: number;
  /** Candidate wrong, champion right. */
  readonly c: number;
  /** Which test `statistic` and `pValue` come from. */
  readonly method: 'exact' | 'chi2';
  /** exact: min(b, c) (statsmodels' statistic); chi2: (|b − c| − 1)² / (b + c). */
  readonly statistic: number;
  readonly pValue: number;
  /** Both tests, always, for the record. */
  readonly exactPValue: number;
  readonly chi2Statistic: number;
  readonly chi2PValue: number;
}

/**
 * McNemar's test of "the two models are equally often right" on paired outcomes.
 * - b + c < 25: the exact test, statsmodels `mcnemar(table, exact=True)`: statistic
 *   min(b, c), p = min(1, 2·P(Bin(b + c, ½) <= min(b, c))).
 * - otherwise: statsmodels `mcnemar(table, exact=False, correction=True)`: statistic
 *   (|b − c| − 1)² / (b + c) with continuity correction, p = P(χ²₁ > statistic) = erfc(√(stat/2)).
 * With no discordant pair (b = c = 0) the chi-square fields are statistic 0, p 1 (statsmodels
 * divides by zero there and reports inf, p 0; the exact test, reported in that case, says 1).
 */
export function mcnemar(b: number, c: number, exactBelow = MCNEMAR_EXACT_BELOW): McNemarResult {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new EvaluationInputError(`McNemar needs non-negative integer counts, got b=${b}, c=${c}`);
  }
  const total = b + c;
  const exactPValue = binomialHalfTwoSided(Math.min(b, c), total);
  const chi2Statistic = total === 0 ? 0 : (Math.abs(b - c) - 1) ** 2 / total;
  const chi2PValue = total === 0 ? 1 : chiSquare1Sf(chi2Statistic);
  const exact = total < exactBelow;
  return {
    b,
    c,
    method: exact ? 'exact' : 'chi2',
    statistic: exact ? Math.min(b, c) : chi2Statistic,
    pValue: exact ? exactPValue : chi2PValue,
    exactPValue,
    chi2Statistic,
    chi2PValue,
  };
}

/** McNemar's test from the two models' predictions on the same rows (each row counts once). */
export function mcnemarFromPredictions(
  yTrue: Int32Array,
  candidate: Int32Array,
  champion: Int32Array,
  exactBelow = MCNEMAR_EXACT_BELOW,
): McNemarResult {
  const n = yTrue.length;
  requireLength('candidate predictions', candidate, n);
  requireLength('champion predictions', champion, n);
  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i];
    const candidateRight = candidate[i] === y;
    const championRight = champion[i] === y;
    if (candidateRight && !championRight) b++;
    else if (championRight && !candidateRight) c++;
  }
  return mcnemar(b, c, exactBelow);
}
