import { expectClose, loadReference } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { binomialHalfTwoSided, chiSquare1Sf, erfc } from './distributions';
import { mcnemar, mcnemarFromPredictions } from './mcnemar';

const reference = loadReference();

describe('McNemar against statsmodels', () => {
  it.each(reference.mcnemar.map((m) => [m.b, m.c, m] as const))('b=%i, c=%i', (b, c, expected) => {
    const result = mcnemar(b, c);
    expectClose(result.exactPValue, expected.exact.pvalue, 'exact p');
    if (b + c > 0) {
      expectClose(result.chi2Statistic, expected.chi2.statistic, 'chi2 statistic');
      expectClose(result.chi2PValue, expected.chi2.pvalue, 'chi2 p');
    } else {
      // statsmodels divides 1 by 0 here (statistic inf, p 0); no discordant pair is no evidence
      expect(expected.chi2.pvalue).toBe(0);
      expect([result.chi2Statistic, result.chi2PValue]).toEqual([0, 1]);
    }
    if (b + c < 25) {
      expect(result.method).toBe('exact');
      expect(result.statistic).toBe(expected.exact.statistic);
      expect(result.pValue).toBe(result.exactPValue);
    } else {
      expect(result.method).toBe('chi2');
      expect(result.pValue).toBe(result.chi2PValue);
    }
  });

  it('counts paired correctness from predictions', () => {
    const yTrue = Int32Array.from([0, 1, 1, 0, 1, 0]);
    const candidate = Int32Array.from([0, 1, 1, 1, 1, 0]); // right on 0,1,2,4,5
    const champion = Int32Array.from([1, 1, 0, 0, 0, 0]); // right on 1,3,5
    const result = mcnemarFromPredictions(yTrue, candidate, champion);
    expect([result.b, result.c]).toEqual([3, 1]);
    expect(result.pValue).toBe(0.625);
  });

  it('refuses non-integer counts', () => {
    expect(() => mcnemar(1.5, 2)).toThrow(EvaluationInputError);
  });
});

describe('tail probabilities', () => {
  it('erfc and the chi-square(1) survival function hold known values', () => {
    expectClose(erfc(0.5), 0.4795001221869535, 'erfc(0.5)', 1e-14);
    expectClose(erfc(3), 2.2090496998585445e-5, 'erfc(3)', 1e-13);
    expectClose(erfc(10), 2.0884875837625446e-45, 'erfc(10)', 1e-12);
    expectClose(erfc(-1), 1.8427007929497148, 'erfc(-1)', 1e-14);
    expectClose(chiSquare1Sf(3.8414588206941285), 0.05, 'chi2 95%', 1e-12);
    expect(chiSquare1Sf(0)).toBe(1);
    expect(chiSquare1Sf(Infinity)).toBe(0);
  });

  it('the exact binomial p-value agrees between the integer and the log-space paths', () => {
    // N = 50 takes the integer path, N = 51 the log path (scipy binom.cdf values); P(X <= 25 | N = 51) = 1/2
    expectClose(binomialHalfTwoSided(25, 51), 1, 'N=51', 1e-12);
    expectClose(binomialHalfTwoSided(20, 51), 2 * 0.08038980090599424, 'N=51 m=20', 1e-11);
    expectClose(binomialHalfTwoSided(20, 50), 2 * 0.10131937553227033, 'N=50 m=20', 1e-12);
  });
});
