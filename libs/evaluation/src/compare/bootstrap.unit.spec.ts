import { expectClose, loadReference } from '../../reference/reference';
import { EvaluationInputError } from '../errors';
import { prepareClassification } from '../metrics/classification';
import { DEFAULT_SEED, pairedBootstrap, percentile, type MetricsFromWeights } from './bootstrap';

const reference = loadReference().bootstrap;
const yTrue = Int32Array.from(reference.yTrue);

const model = (probabilities: number[]): MetricsFromWeights => {
  const proba = Float64Array.from(probabilities);
  const yPred = Int32Array.from(probabilities, (p) => (p >= 0.5 ? 1 : 0));
  const prepared = prepareClassification('binary', { yTrue, yPred, proba });
  return (w) => prepared.evaluate(w).metrics;
};
const candidate = model(reference.candidateProba);
const champion = model(reference.championProba);

describe('paired bootstrap', () => {
  it('reproduces the Python bootstrap (same PRNG and draws, sklearn on the repeated rows, numpy percentiles)', () => {
    const result = pairedBootstrap(reference.n, candidate, champion, { resamples: reference.resamples, seed: reference.seed });
    expect(result).toMatchObject({ resamples: 200, seed: 7, level: 0.95, method: 'percentile', prng: 'xoshiro128**' });
    for (const [metric, expected] of Object.entries(reference.expected)) {
      const actual = result.metrics[metric];
      expectClose(actual?.candidate, expected.candidate, `${metric}.candidate`);
      expectClose(actual?.champion, expected.champion, `${metric}.champion`);
      expectClose(actual?.difference, expected.difference, `${metric}.difference`);
      expectClose(actual?.ci?.lower, expected.ci.lower, `${metric}.ci.lower`);
      expectClose(actual?.ci?.upper, expected.ci.upper, `${metric}.ci.upper`);
      expect(actual?.definedResamples).toBe(200);
    }
  });

  it('is deterministic: same seed, same intervals; another seed, other intervals', () => {
    const a = pairedBootstrap(reference.n, candidate, champion, { resamples: 100, seed: 123 });
    const b = pairedBootstrap(reference.n, candidate, champion, { resamples: 100, seed: 123 });
    const c = pairedBootstrap(reference.n, candidate, champion, { resamples: 100, seed: 124 });
    expect(b).toEqual(a);
    expect(c.metrics['roc_auc']?.ci).not.toEqual(a.metrics['roc_auc']?.ci);
    expect(c.metrics['roc_auc']?.difference).toBe(a.metrics['roc_auc']?.difference); // point estimate: no resampling
  });

  it('records the default seed and resamples', () => {
    const result = pairedBootstrap(reference.n, candidate, candidate, { resamples: 20 });
    expect(result.seed).toBe(DEFAULT_SEED);
    expect(pairedBootstrap(10, () => ({ x: 1 }), () => ({ x: 1 })).resamples).toBe(1000);
  });

  it('gives a clearly better candidate a CI with a lower bound above 0 (and log_loss an upper bound below 0)', () => {
    const result = pairedBootstrap(reference.n, candidate, champion, { resamples: 300 });
    for (const metric of ['accuracy', 'roc_auc', 'f1', 'f1_macro', 'balanced_accuracy']) {
      expect(result.metrics[metric]?.ci?.lower).toBeGreaterThan(0);
    }
    expect(result.metrics['log_loss']?.ci?.upper).toBeLessThan(0);
  });

  it('gives a model compared with itself a difference of exactly 0 on every resample', () => {
    const result = pairedBootstrap(reference.n, candidate, candidate, { resamples: 50 });
    for (const m of Object.values(result.metrics)) expect([m.difference, m.ci?.lower, m.ci?.upper]).toEqual([0, 0, 0]);
  });

  it('leaves resamples where a metric is undefined out of its interval, and counts them', () => {
    // 6 rows, one positive: many resamples draw no positive, and ROC-AUC is undefined there
    const tiny = Int32Array.from([0, 0, 0, 0, 0, 1]);
    const m = (p: number[]): MetricsFromWeights => {
      const prepared = prepareClassification('binary', { yTrue: tiny, yPred: Int32Array.from(p, (x) => (x >= 0.5 ? 1 : 0)), proba: Float64Array.from(p) });
      return (w) => prepared.evaluate(w).metrics;
    };
    const result = pairedBootstrap(6, m([0.1, 0.2, 0.3, 0.4, 0.5, 0.9]), m([0.5, 0.2, 0.3, 0.4, 0.1, 0.6]), { resamples: 200 });
    const auc = result.metrics['roc_auc'];
    expect(auc?.definedResamples).toBeGreaterThan(50);
    expect(auc?.definedResamples).toBeLessThan(200);
    expect(Number.isFinite(auc?.ci?.lower)).toBe(true);
    expect(result.metrics['accuracy']?.definedResamples).toBe(200);
  });

  it('has no ci when a metric is never defined', () => {
    const result = pairedBootstrap(3, () => ({ x: NaN, y: 1 }), () => ({ x: NaN, y: 0 }), { resamples: 10 });
    expect(result.metrics['x']).toEqual({ candidate: NaN, champion: NaN, difference: NaN, definedResamples: 0 });
    expect(result.metrics['y']?.ci).toEqual({ lower: 1, upper: 1, level: 0.95 });
  });

  it('multiplies sample weights into the resample counts', () => {
    const ones = new Float64Array(reference.n).fill(1);
    const plain = pairedBootstrap(reference.n, candidate, champion, { resamples: 30 });
    const weighted = pairedBootstrap(reference.n, candidate, champion, { resamples: 30 }, ones);
    for (const [metric, m] of Object.entries(plain.metrics)) {
      expectClose(weighted.metrics[metric]?.ci?.lower, m.ci?.lower ?? null, metric, 1e-12);
      expectClose(weighted.metrics[metric]?.ci?.upper, m.ci?.upper ?? null, metric, 1e-12);
    }
  });

  it('compares only the metrics both models have', () => {
    const result = pairedBootstrap(4, () => ({ a: 1, b: 2 }), () => ({ b: 1, c: 3 }), { resamples: 5 });
    expect(Object.keys(result.metrics)).toEqual(['b']);
  });

  it('refuses nonsense options', () => {
    const f = () => ({ x: 1 });
    expect(() => pairedBootstrap(5, f, f, { resamples: 0 })).toThrow(EvaluationInputError);
    expect(() => pairedBootstrap(5, f, f, { level: 1 })).toThrow(EvaluationInputError);
    expect(() => pairedBootstrap(5, f, f, { seed: -3 })).toThrow(EvaluationInputError);
    expect(() => pairedBootstrap(0, f, f)).toThrow(EvaluationInputError);
  });
});

describe('percentile (numpy "linear")', () => {
  it('matches numpy.percentile', () => {
    const sorted = Float64Array.from([1, 2, 3, 4]);
    expectClose(percentile(sorted, 0.025), 1.075, 'p2.5'); // np.percentile([1,2,3,4], 2.5)
    expectClose(percentile(sorted, 0.975), 3.925, 'p97.5');
    expect(percentile(Float64Array.from([5]), 0.975)).toBe(5);
  });
});
