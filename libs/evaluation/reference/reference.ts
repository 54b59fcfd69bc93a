// Typed access to reference.json (written by make_reference.py) for the specs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReferenceSlice {
  readonly name: string;
  readonly count: number;
  readonly [metric: string]: number | null | string;
}

interface CaseBase {
  readonly name: string;
  readonly note?: string;
  readonly weights?: number[];
  readonly groups?: number[];
  readonly groupNames?: string[];
  readonly slices?: ReferenceSlice[];
  /** scikit-learn / fairlearn values; null = NaN. */
  readonly expected: Record<string, number | null>;
  /** Metrics the library must list in undefinedMetrics. */
  readonly flags: string[];
}

export interface ClassificationCase extends CaseBase {
  readonly task: 'binary' | 'multiclass';
  readonly k: number;
  readonly yTrue: number[];
  readonly yPred: number[];
  readonly proba?: number[];
  readonly costMatrix?: number[][];
  readonly confusionMatrix: number[][];
}

export interface RegressionCase extends CaseBase {
  readonly task: 'regression';
  readonly yTrue: number[];
  readonly yPred: number[];
  /** Where the library deliberately differs from sklearn (documented in the note). */
  readonly library?: Record<string, number>;
}

export interface McNemarCase {
  readonly b: number;
  readonly c: number;
  readonly exact: { readonly statistic: number; readonly pvalue: number };
  readonly chi2: { readonly statistic: number | null; readonly pvalue: number | null };
}

export interface Reference {
  readonly versions: Record<string, string>;
  readonly classification: ClassificationCase[];
  readonly regression: RegressionCase[];
  readonly mcnemar: McNemarCase[];
  readonly prng: {
    readonly seed: number;
    readonly first: number[];
    readonly seed1: number[];
    readonly counts: { readonly seed: number; readonly n: number; readonly values: number[] };
  };
  readonly bootstrap: {
    readonly n: number;
    readonly resamples: number;
    readonly seed: number;
    readonly yTrue: number[];
    readonly candidateProba: number[];
    readonly championProba: number[];
    readonly expected: Record<
      string,
      { candidate: number; champion: number; difference: number; ci: { lower: number; upper: number; level: number } }
    >;
    readonly mcnemar: { b: number; c: number; exact: boolean; statistic: number; pvalue: number };
  };
}

let cached: Reference | undefined;

export const loadReference = (): Reference => {
  cached ??= JSON.parse(readFileSync(join(__dirname, 'reference.json'), 'utf8')) as Reference;
  return cached;
};

/**
 * |actual − expected| <= rel·|expected| + abs. Relative 1e-9 is the bar for every metric;
 * the absolute 1e-12 only matters where the expected value is 0 (a sum of exact-zero terms
 * may come out as 1e-17 in one library and 0 in the other). null expected means NaN.
 */
export function expectClose(actual: number | undefined, expected: number | null, label: string, rel = 1e-9, abs = 1e-12): void {
  if (expected === null) {
    if (!Number.isNaN(actual)) throw new Error(`${label}: expected NaN, got ${actual}`);
    return;
  }
  if (actual === undefined || !(Math.abs(actual - expected) <= rel * Math.abs(expected) + abs)) {
    throw new Error(`${label}: expected ${expected}, got ${actual} (diff ${actual === undefined ? 'n/a' : actual - expected})`);
  }
}
