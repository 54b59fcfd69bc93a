/**
 * The two tail probabilities McNemar's test needs, to double precision (no dependency).
 */

const LN_SQRT_PI = 0.5723649429247001; // ln Γ(1/2) = ln √π
const EPS = 1e-16;
const TINY = 1e-300;

/**
 * Survival function of the chi-square distribution with 1 degree of freedom:
 * P(X > x) = erfc(√(x/2)) = Q(1/2, x/2), the regularized upper incomplete gamma function,
 * by its power series below a + 1 and its continued fraction (modified Lentz) above
 * (Numerical Recipes §6.2). Relative error ~1e-15, also far in the tail.
 */
export function chiSquare1Sf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return upperGammaHalf(x / 2);
}

/** erfc(z) for z >= 0, via Q(1/2, z²). */
export function erfc(z: number): number {
  if (z < 0) return 2 - erfc(-z);
  return z === 0 ? 1 : upperGammaHalf(z * z);
}

function upperGammaHalf(x: number): number {
  const a = 0.5;
  const prefix = Math.exp(-x + a * Math.log(x) - LN_SQRT_PI);
  if (x < a + 1) {
    // P(a, x) = e^-x x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n)); Γ(a+1) = a·Γ(a)
    let ap = a;
    let del = 1 / a;
    let total = del;
    for (let i = 0; i < 1000; i++) {
      ap += 1;
      del *= x / ap;
      total += del;
      if (Math.abs(del) < Math.abs(total) * EPS) break;
    }
    return 1 - total * prefix;
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return prefix * h;
}

/**
 * Two-sided exact binomial p-value of McNemar's test: min(1, 2·P(X <= m)), X ~ Bin(N, 1/2),
 * m = min(b, c), N = b + c — scipy's `binom.cdf(m, N, 0.5) * 2` capped at 1, as statsmodels
 * `mcnemar(exact=True)` computes it. Exact integer arithmetic for N <= 50, else log-space
 * terms summed from the largest one down (relative error ~N·1e-16).
 */
export function binomialHalfTwoSided(m: number, total: number): number {
  if (total === 0) return 1;
  if (total <= 50) {
    let coefficient = 1; // C(N, i), exact below 2^53
    let sum = 1;
    for (let i = 1; i <= m; i++) {
      coefficient = (coefficient * (total - i + 1)) / i;
      sum += coefficient;
    }
    return Math.min(1, (2 * sum) / 2 ** total);
  }
  // log C(N, m) − N ln 2, then terms t_{i−1} = t_i · i / (N − i + 1) down to i = 0.
  let logTerm = -total * Math.LN2;
  for (let j = 1; j <= m; j++) logTerm += Math.log((total - m + j) / j);
  let ratio = 1;
  let sum = 1;
  for (let i = m; i >= 1; i--) {
    ratio *= i / (total - i + 1);
    sum += ratio;
    if (ratio < sum * EPS) break;
  }
  return Math.min(1, 2 * Math.exp(logTerm) * sum);
}
