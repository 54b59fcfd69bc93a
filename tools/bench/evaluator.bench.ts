import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { measureInWorker, OnnxModelRunner, type LoadedEvaluationSet } from '@mrw/evaluator';
import { line, ms, section } from './report';

const MODEL = join(__dirname, '../../../libs/evaluator/fixtures/bench-logreg-30.onnx');

/** A synthetic binary set: 30 uniform features (labels are set from the model's output later). */
const syntheticSet = (rows: number): LoadedEvaluationSet => {
  const features = new Float32Array(rows * 30);
  const labels = new Int32Array(rows);
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < features.length; i += 1) features[i] = random() * 4 - 2;
  return { task: 'binary', rows, featureNames: Array.from({ length: 30 }, (_, i) => `f${i}`), features, labels, classes: 2, slices: [] };
};

/** Labels that agree with the model on 90% of rows, so the metrics look like a real evaluation's. */
const flipLabels = (set: LoadedEvaluationSet, predicted: Int32Array): void => {
  const labels = set.labels as Int32Array;
  for (let r = 0; r < set.rows; r += 1) labels[r] = r % 10 === 3 ? 1 - (predicted[r] ?? 0) : (predicted[r] ?? 0);
};

/** Scores, measures and compares as an evaluation does; reports time, peak memory and event-loop blocking. */
export const benchEvaluator = async (): Promise<void> => {
  section('Evaluator (onnxruntime-node in a worker thread; metrics and bootstrap in a worker thread)');
  const model = new Uint8Array(readFileSync(MODEL));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);

  const big = syntheticSet(1_000_000);
  loop.enable();
  const start = performance.now();
  const runner = await OnnxModelRunner.load(model);
  const { outputs: scored } = await runner.run(big.features, big.rows, 30, { chunkRows: 50_000 });
  await runner.close();
  const scoredAt = performance.now();
  // Making the bench's labels is not part of an evaluation: not timed, not watched.
  loop.disable();
  flipLabels(big, scored.labels ?? new Int32Array(0));
  loop.enable();
  const measureAt = performance.now();
  const measured = await measureInWorker({ set: big, candidate: scored, champion: null, championVersion: null });
  const end = performance.now();
  loop.disable();
  line('1,000,000 rows × 30 features: score (logistic regression)', ms(scoredAt - start));
  line('1,000,000 rows: every classification metric', ms(end - measureAt));
  line('1,000,000 rows: total (target ≤ 2,000 ms)', `${ms(scoredAt - start + (end - measureAt))}  (accuracy ${measured.metrics['accuracy']?.toFixed(4)}, roc_auc ${measured.metrics['roc_auc']?.toFixed(4)})`);
  const blockedBig = loop.max / 1e6;

  const small = syntheticSet(100_000);
  const candidateRunner = await OnnxModelRunner.load(model);
  const { outputs: candidate } = await candidateRunner.run(small.features, small.rows, 30);
  await candidateRunner.close();
  flipLabels(small, candidate.labels ?? new Int32Array(0));
  // A champion that is the same model on shuffled probabilities: a different, worse model.
  const probabilities = Float32Array.from(candidate.probabilities ?? [], (p, i) => (i % 7 === 0 ? 1 - p : p));
  const labels = Int32Array.from({ length: small.rows }, (_, r) => ((probabilities[r * 2 + 1] ?? 0) > 0.5 ? 1 : 0));
  loop.reset();
  loop.enable();
  const compareStart = performance.now();
  const compared = await measureInWorker({
    set: small,
    candidate,
    champion: { labels, probabilities, classes: 2 },
    championVersion: 1,
  });
  const compareEnd = performance.now();
  loop.disable();
  clearInterval(sampler);
  line('100,000 rows: paired bootstrap, 1,000 resamples, incl. roc_auc (target ≤ 5,000 ms)', `${ms(compareEnd - compareStart)}  (roc_auc diff CI ${compared.comparison?.metrics['roc_auc']?.ci?.lower.toFixed(4)} … ${compared.comparison?.metrics['roc_auc']?.ci?.upper.toFixed(4)})`);
  line('peak memory (RSS, whole process; target ≤ 1 GiB)', `${(peak / 1024 ** 2).toFixed(0)} MiB`);
  line('event loop blocked at most (target ≤ 50 ms)', ms(Math.max(blockedBig, loop.max / 1e6)));
};
