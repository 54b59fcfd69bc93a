import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluationCurves } from '@mrw/contracts';
import { DEFAULT_CURVE_POINTS, trapezoidArea } from '@mrw/evaluation';
import { loadEvaluationSet, type EvaluationSetManifest, type LoadedEvaluationSet } from '../evaluation-sets/evaluation-set';
import { readTable } from '../evaluation-sets/read-table';
import { OnnxModelRunner, type ModelOutputs } from '../run-model/onnx-model-runner';
import { binaryCurves } from './evaluation-curves';
import { measure } from './measure';

const FIXTURES = join(__dirname, '../../fixtures');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const loadSet = async (name: string): Promise<LoadedEvaluationSet> =>
  loadEvaluationSet(
    await readTable(fixture(`${name}.csv`)),
    JSON.parse(readFileSync(join(FIXTURES, `${name}.manifest.json`), 'utf8')) as EvaluationSetManifest,
  );

/** What a chart needs from a recorded curve, checked on the JSON as the registry stores it. */
const expectDrawable = (curves: EvaluationCurves | undefined, rocAuc: number | undefined): void => {
  expect(curves).toBeDefined();
  const { roc, pr, points } = curves as EvaluationCurves;
  expect(roc.fpr.length).toBeLessThanOrEqual(DEFAULT_CURVE_POINTS);
  expect(pr.precision.length).toBeLessThanOrEqual(DEFAULT_CURVE_POINTS);
  expect([roc.tpr.length, roc.thresholds.length]).toEqual([roc.fpr.length, roc.fpr.length]);
  expect([pr.recall.length, pr.thresholds.length]).toEqual([pr.precision.length, pr.precision.length]);
  expect(roc.fpr.length).toBe(Math.min(points.roc, DEFAULT_CURVE_POINTS));
  expect(pr.precision.length).toBe(Math.min(points.pr, DEFAULT_CURVE_POINTS));
  // Both ends, with null where sklearn has no finite threshold.
  expect([roc.fpr[0], roc.tpr[0], roc.thresholds[0]]).toEqual([0, 0, null]);
  expect([roc.fpr.at(-1), roc.tpr.at(-1)]).toEqual([1, 1]);
  expect([pr.recall[0], pr.recall.at(-1), pr.precision.at(-1), pr.thresholds.at(-1)]).toEqual([1, 0, 1, null]);
  expect([...roc.thresholds.slice(1), ...pr.thresholds.slice(0, -1)].every((t) => typeof t === 'number')).toBe(true);
  expect(Math.abs(trapezoidArea(roc.fpr, roc.tpr) - (rocAuc as number))).toBeLessThan(0.01);
};

describe('curves recorded with an evaluation of real scikit-learn models (ONNX)', () => {
  const runners: OnnxModelRunner[] = [];
  const score = async (model: string, set: LoadedEvaluationSet): Promise<ModelOutputs> => {
    const runner = await OnnxModelRunner.load(fixture(model), 1);
    runners.push(runner);
    // The runner transfers the features to its worker: each run gets its own copy.
    const { outputs } = await runner.run(set.features.slice(), set.rows, set.featureNames.length);
    // Typed arrays from the worker belong to another realm than jest's: copy them into this one,
    // as the evaluation worker (one realm) never needs to.
    return {
      ...(outputs.labels ? { labels: Int32Array.from(outputs.labels) } : {}),
      ...(outputs.probabilities ? { probabilities: Float32Array.from(outputs.probabilities), classes: outputs.classes } : {}),
      ...(outputs.values ? { values: Float32Array.from(outputs.values) } : {}),
    } as ModelOutputs;
  };

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
  });

  it("records the candidate's and the champion's ROC and PR curves, each matching its roc_auc", async () => {
    const set = await loadSet('breast-cancer-holdout');
    const candidate = await score('breast-cancer-gbt.onnx', set);
    const champion = await score('breast-cancer-logreg.onnx', set);
    const { metrics, details } = measure({ set, candidate, champion, championVersion: 1 });
    // What the registry stores is JSON: the curves must survive it unchanged (no Infinity, no NaN).
    expect(JSON.parse(JSON.stringify(details))).toEqual(details);
    expectDrawable(details.curves, metrics['roc_auc']);
    expectDrawable(details.championCurves, details.championMetrics?.['roc_auc']);
    expect(details.curves).not.toEqual(details.championCurves);
    // Six significant digits at most.
    for (const v of [...(details.curves?.roc.tpr ?? []), ...(details.curves?.pr.precision ?? [])]) {
      expect(Number(v.toPrecision(6))).toBe(v);
    }
  });

  it('keeps the shape when cut to few points: the ROC area of the real outputs moves by less than 0.01', async () => {
    const set = await loadSet('breast-cancer-holdout');
    const outputs = await score('breast-cancer-logreg.onnx', set);
    const full = binaryCurves(set.labels as Int32Array, outputs.probabilities as Float32Array, 1000) as EvaluationCurves;
    const cut = binaryCurves(set.labels as Int32Array, outputs.probabilities as Float32Array, 12) as EvaluationCurves;
    expect(full.roc.fpr.length).toBe(full.points.roc);
    expect(full.pr.precision.length).toBeGreaterThan(12);
    expect([cut.roc.fpr.length <= 12, cut.pr.precision.length <= 12]).toEqual([true, true]);
    expect(Math.abs(trapezoidArea(cut.roc.fpr, cut.roc.tpr) - trapezoidArea(full.roc.fpr, full.roc.tpr))).toBeLessThan(0.01);
  });

  it('records no curves without a champion for the champion, and none at all for multiclass and regression', async () => {
    const cancer = await loadSet('breast-cancer-holdout');
    const alone = measure({ set: cancer, candidate: await score('breast-cancer-logreg.onnx', cancer), champion: null, championVersion: null });
    expect(alone.details.curves).toBeDefined();
    expect(alone.details).not.toHaveProperty('championCurves');

    const wine = await loadSet('wine-holdout');
    const multiclass = measure({ set: wine, candidate: await score('wine-logreg.onnx', wine), champion: null, championVersion: null });
    expect(multiclass.metrics['roc_auc_macro']).toBeDefined();
    expect(multiclass.details).not.toHaveProperty('curves');

    const diabetes = await loadSet('diabetes-holdout');
    const regression = measure({ set: diabetes, candidate: await score('diabetes-ridge.onnx', diabetes), champion: null, championVersion: null });
    expect(regression.details).not.toHaveProperty('curves');
  });
});
