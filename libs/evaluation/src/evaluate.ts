import type { Comparison } from '@mrw/contracts';
import { EvaluationInputError } from './errors';
import { requireLength, requireWeights } from './internal/validate';
import { pairedBootstrap, type BootstrapMetric, type BootstrapOptions, type MetricsFromWeights } from './compare/bootstrap';
import { mcnemarFromPredictions, MCNEMAR_EXACT_BELOW, type McNemarResult } from './compare/mcnemar';
import {
  prepareClassification,
  type ClassificationInputs,
  type ClassificationOptions,
  type ClassificationTask,
} from './metrics/classification';
import type { SliceMetrics } from './metrics/fairness';
import { prepareRegression, type RegressionInputs, type RegressionOptions } from './metrics/regression';
import type { RowWeights } from './weights';

export type Task = ClassificationTask | 'regression';

export interface EvaluationResult {
  readonly task: Task;
  readonly rows: number;
  /** Metric name (scikit-learn's) → value. NaN where undefined: see undefinedMetrics. */
  readonly metrics: Record<string, number>;
  /** Classification only: confusionMatrix[trueClass][predictedClass]. */
  readonly confusionMatrix?: number[][];
  /** With `groups`: one entry per group name, in groupNames order. */
  readonly slices?: SliceMetrics[];
  /** Metrics that are NaN, or hold a convention value (zero_division → 0, r2 force_finite...). */
  readonly undefinedMetrics: string[];
  /** Why, per metric in undefinedMetrics. */
  readonly undefinedReasons: Record<string, string>;
}

/** The one entry point: every metric of one model on one evaluation set. */
export function computeMetrics(task: ClassificationTask, inputs: ClassificationInputs, options?: ClassificationOptions): EvaluationResult;
export function computeMetrics(task: 'regression', inputs: RegressionInputs, options?: RegressionOptions): EvaluationResult;
export function computeMetrics(
  task: Task,
  inputs: ClassificationInputs | RegressionInputs,
  options: ClassificationOptions | RegressionOptions = {},
): EvaluationResult {
  const prepared = prepare(task, inputs, options);
  requireWeights(inputs.weights, prepared.rows);
  return prepared.evaluate(inputs.weights);
}

/** One model's predictions on the shared rows. */
export interface ClassifierPredictions {
  readonly yPred: Int32Array;
  readonly proba?: Float64Array;
}
export interface RegressorPredictions {
  readonly yPred: Float64Array;
}

export interface ComparisonInputs<P> {
  readonly yTrue: P extends RegressorPredictions ? Float64Array : Int32Array;
  readonly candidate: P;
  readonly champion: P;
  /** Sample weights of the evaluation set, if any (the bootstrap multiplies its counts in). */
  readonly weights?: RowWeights;
  readonly groups?: Int32Array;
}

export interface CompareOptions extends ClassificationOptions, BootstrapOptions {
  /** b + c below which McNemar's exact test is reported (default 25). */
  readonly mcnemarExactBelow?: number;
}

/**
 * `Comparison` (libs/contracts) without `championVersion`, which the caller knows; pass it
 * through `toComparison`. Every metric carries its paired-bootstrap CI.
 */
export interface ModelComparison extends Omit<Comparison, 'championVersion' | 'metrics' | 'bootstrap' | 'mcnemar'> {
  readonly metrics: Record<string, BootstrapMetric>;
  readonly bootstrap: {
    readonly resamples: number;
    readonly seed: number;
    readonly level: number;
    readonly method: 'percentile';
    readonly prng: 'xoshiro128**';
  };
  /** Classifiers only: paired correctness, b = candidate right & champion wrong. */
  readonly mcnemar?: McNemarResult;
  readonly candidate: EvaluationResult;
  readonly champion: EvaluationResult;
}

/**
 * Candidate vs champion on the same rows: each model's full evaluation, the difference per
 * metric (candidate − champion) with a paired bootstrap CI, and McNemar's test for
 * classifiers. Metrics the two evaluations do not share are not compared.
 */
export function compareModels(
  task: ClassificationTask,
  inputs: ComparisonInputs<ClassifierPredictions>,
  options?: CompareOptions,
): ModelComparison;
export function compareModels(
  task: 'regression',
  inputs: ComparisonInputs<RegressorPredictions>,
  options?: RegressionOptions & BootstrapOptions,
): ModelComparison;
export function compareModels(
  task: Task,
  inputs: ComparisonInputs<ClassifierPredictions> | ComparisonInputs<RegressorPredictions>,
  options: CompareOptions = {},
): ModelComparison {
  const { yTrue, weights, groups } = inputs;
  const rows = yTrue.length;
  requireLength('champion predictions', inputs.champion.yPred, rows);
  requireWeights(weights, rows);
  const candidate = prepare(task, { ...inputs.candidate, yTrue, groups } as ClassificationInputs | RegressionInputs, options);
  const champion = prepare(task, { ...inputs.champion, yTrue, groups } as ClassificationInputs | RegressionInputs, options);
  const metricsOf =
    (model: Prepared): MetricsFromWeights =>
    (w) =>
      model.evaluate(w).metrics;
  const bootstrap = pairedBootstrap(rows, metricsOf(candidate), metricsOf(champion), options, weights);
  const result: ModelComparison = {
    metrics: bootstrap.metrics,
    bootstrap: {
      resamples: bootstrap.resamples,
      seed: bootstrap.seed,
      level: bootstrap.level,
      method: bootstrap.method,
      prng: bootstrap.prng,
    },
    candidate: candidate.evaluate(weights),
    champion: champion.evaluate(weights),
  };
  if (task === 'regression') return result;
  return {
    ...result,
    mcnemar: mcnemarFromPredictions(
      yTrue as Int32Array,
      inputs.candidate.yPred as Int32Array,
      inputs.champion.yPred as Int32Array,
      options.mcnemarExactBelow ?? MCNEMAR_EXACT_BELOW,
    ),
  };
}

/** The contracts' `Comparison` (as recorded on an evaluation) from a ModelComparison. */
export function toComparison(comparison: ModelComparison, championVersion: number): Comparison {
  const metrics: Comparison['metrics'] = Object.fromEntries(
    Object.entries(comparison.metrics).map(([name, m]) => [
      name,
      { candidate: m.candidate, champion: m.champion, difference: m.difference, ...(m.ci === undefined ? {} : { ci: m.ci }) },
    ]),
  );
  return {
    championVersion,
    metrics,
    bootstrap: { resamples: comparison.bootstrap.resamples, seed: comparison.bootstrap.seed },
    ...(comparison.mcnemar === undefined
      ? {}
      : { mcnemar: { statistic: comparison.mcnemar.statistic, pValue: comparison.mcnemar.pValue } }),
  };
}

interface Prepared {
  readonly rows: number;
  evaluate(weights?: RowWeights): EvaluationResult;
}

function prepare(task: Task, inputs: ClassificationInputs | RegressionInputs, options: ClassificationOptions | RegressionOptions): Prepared {
  if (task === 'regression') {
    const regression = inputs as RegressionInputs;
    if (!(regression.yTrue instanceof Float64Array) || !(regression.yPred instanceof Float64Array)) {
      throw new EvaluationInputError('regression needs yTrue and yPred as Float64Array');
    }
    const prepared = prepareRegression(regression, options);
    return { rows: prepared.rows, evaluate: (w) => ({ task, rows: prepared.rows, ...prepared.evaluate(w) }) };
  }
  if (task !== 'binary' && task !== 'multiclass') throw new EvaluationInputError(`unknown task ${String(task)}`);
  const classification = inputs as ClassificationInputs;
  if (!(classification.yTrue instanceof Int32Array) || !(classification.yPred instanceof Int32Array)) {
    throw new EvaluationInputError(`${task} needs yTrue and yPred as Int32Array class indices`);
  }
  const prepared = prepareClassification(task, classification, options);
  return { rows: prepared.rows, evaluate: (w) => ({ task, rows: prepared.rows, ...prepared.evaluate(w) }) };
}
