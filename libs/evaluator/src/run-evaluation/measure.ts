import type { Comparison, EvaluationDetails } from '@mrw/contracts';
import { compareModels, computeMetrics, toComparison, type EvaluationResult } from '@mrw/evaluation';
import type { LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import type { ModelOutputs } from '../run-model/onnx-model-runner';
import { binaryCurves } from './evaluation-curves';

export interface MeasureInput {
  readonly set: LoadedEvaluationSet;
  readonly candidate: ModelOutputs;
  readonly champion: ModelOutputs | null;
  readonly championVersion: number | null;
}

export interface Measured {
  readonly metrics: Record<string, number>;
  readonly comparison: Comparison | null;
  readonly details: EvaluationDetails;
}

/** JSON has no NaN: undefined metrics are left out of `metrics` and explained in `details`. */
const finite = (metrics: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));

/**
 * Every metric of the candidate on the set and, with a champion, the paired comparison on the
 * same rows (bootstrap CIs, McNemar). Pure and CPU-bound: run it in a worker thread.
 */
export const measure = ({ set, candidate, champion, championVersion }: MeasureInput): Measured => {
  const slice = set.slices[0];
  const groups = slice ? { groups: slice.groups } : {};
  const options = {
    ...(slice ? { groupNames: slice.values } : {}),
    ...(set.costMatrix ? { costMatrix: set.costMatrix } : {}),
    ...(set.task !== 'regression' ? { numClasses: set.classes } : {}),
  };
  const classifier = (out: ModelOutputs) => ({
    yPred: out.labels ?? new Int32Array(set.rows),
    ...(out.probabilities ? { proba: Float64Array.from(out.probabilities) } : {}),
  });
  const regressor = (out: ModelOutputs) => ({ yPred: Float64Array.from(out.values ?? []) });
  let result: EvaluationResult;
  let comparison: Comparison | null = null;
  let championMetrics: Record<string, number> | undefined;
  if (champion && championVersion !== null) {
    const compared =
      set.task === 'regression'
        ? compareModels('regression', { yTrue: set.labels as Float64Array, candidate: regressor(candidate), champion: regressor(champion), ...groups }, options)
        : compareModels(set.task, { yTrue: set.labels as Int32Array, candidate: classifier(candidate), champion: classifier(champion), ...groups }, options);
    result = compared.candidate;
    championMetrics = finite(compared.champion.metrics);
    const full = toComparison(compared, championVersion);
    comparison = {
      ...full,
      metrics: Object.fromEntries(Object.entries(full.metrics).filter(([, m]) => Number.isFinite(m.candidate) && Number.isFinite(m.champion))),
    };
  } else {
    result =
      set.task === 'regression'
        ? computeMetrics('regression', { yTrue: set.labels as Float64Array, ...regressor(candidate), ...groups }, options)
        : computeMetrics(set.task, { yTrue: set.labels as Int32Array, ...classifier(candidate), ...groups }, options);
  }
  // Per-threshold curves are a binary notion: multiclass (one curve per class) and regression
  // get none. Without probabilities there is no score to sweep a threshold over.
  const curvesOf = (out: ModelOutputs | null) =>
    set.task === 'binary' && out?.probabilities ? binaryCurves(set.labels as Int32Array, out.probabilities) : undefined;
  const curves = curvesOf(candidate);
  const championCurves = championMetrics ? curvesOf(champion) : undefined;
  return {
    metrics: finite(result.metrics),
    comparison,
    details: {
      rows: set.rows,
      ...(result.confusionMatrix ? { confusionMatrix: result.confusionMatrix } : {}),
      ...(result.slices && slice
        ? {
            slices: result.slices.map((s) => ({
              slice: slice.name,
              group: s.name,
              count: s.count,
              metrics: finite(s.metrics as Readonly<Record<string, number>>),
            })),
          }
        : {}),
      ...(result.undefinedMetrics.length > 0 ? { undefinedMetrics: result.undefinedReasons } : {}),
      ...(championMetrics ? { championMetrics } : {}),
      ...(curves ? { curves } : {}),
      ...(championCurves ? { championCurves } : {}),
    },
  };
};
