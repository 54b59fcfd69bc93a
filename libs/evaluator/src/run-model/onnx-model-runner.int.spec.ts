import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadEvaluationSet, type EvaluationSetManifest } from '../evaluation-sets/evaluation-set';
import { readTable } from '../evaluation-sets/read-table';
import { ModelRunError, OnnxModelRunner } from './onnx-model-runner';

const FIXTURES = join(__dirname, '../../fixtures');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const reference = JSON.parse(readFileSync(join(FIXTURES, 'reference-metrics.json'), 'utf8')) as {
  evaluations: Array<{ model: string; set: string; metrics: Record<string, number | number[][]> }>;
};
const expected = (model: string) => (reference.evaluations.find((e) => e.model === model) as (typeof reference.evaluations)[number]).metrics;
const manifest = (set: string): EvaluationSetManifest =>
  JSON.parse(readFileSync(join(FIXTURES, `${set}.manifest.json`), 'utf8')) as EvaluationSetManifest;

const breastCancer = async () => loadEvaluationSet(await readTable(fixture('breast-cancer-holdout.csv')), manifest('breast-cancer-holdout'));

describe('ONNX models exported from scikit-learn, run by onnxruntime-node in a worker thread', () => {
  const runners: OnnxModelRunner[] = [];
  const load = async (file: string, threads?: number) => {
    const runner = await OnnxModelRunner.load(fixture(file), threads);
    runners.push(runner);
    return runner;
  };

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
  });

  it('scores the breast-cancer holdout with the labels onnxruntime gave in Python', async () => {
    const set = await breastCancer();
    const runner = await load('breast-cancer-logreg.onnx', 1);
    const progress: number[] = [];
    const { outputs: out } = await runner.run(set.features, set.rows, set.featureNames.length, {
      chunkRows: 50,
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([50, 100, 150, 171]);
    expect(out.classes).toBe(2);
    let correct = 0;
    for (let r = 0; r < set.rows; r += 1) if (out.labels?.[r] === set.labels[r]) correct += 1;
    expect(correct / set.rows).toBeCloseTo(expected('breast-cancer-logreg')['accuracy'] as number, 12);
    expect(out.probabilities?.length).toBe(set.rows * 2);
  });

  it('reads the same set from CSV, Parquet ZSTD and Parquet Snappy', async () => {
    const csv = await breastCancer();
    for (const file of ['breast-cancer-holdout.zstd.parquet', 'breast-cancer-holdout.snappy.parquet']) {
      const parquet = loadEvaluationSet(await readTable(fixture(file)), manifest('breast-cancer-holdout'));
      expect(parquet.rows).toBe(csv.rows);
      expect(Array.from(parquet.features)).toEqual(Array.from(csv.features));
      expect(Array.from(parquet.labels)).toEqual(Array.from(csv.labels));
      expect(parquet.slices[0]?.values.length).toBe(2);
    }
  });

  it('runs multiclass and regression models', async () => {
    const wine = loadEvaluationSet(await readTable(fixture('wine-holdout.csv')), manifest('wine-holdout'));
    const { outputs: multi } = await (await load('wine-logreg.onnx')).run(wine.features, wine.rows, wine.featureNames.length);
    expect(multi.classes).toBe(3);
    let correct = 0;
    for (let r = 0; r < wine.rows; r += 1) if (multi.labels?.[r] === wine.labels[r]) correct += 1;
    expect(correct / wine.rows).toBeCloseTo(expected('wine-logreg')['accuracy'] as number, 12);

    const diabetes = loadEvaluationSet(await readTable(fixture('diabetes-holdout.csv')), manifest('diabetes-holdout'));
    const { outputs: regression } = await (await load('diabetes-ridge.onnx')).run(diabetes.features, diabetes.rows, diabetes.featureNames.length);
    let absolute = 0;
    for (let r = 0; r < diabetes.rows; r += 1) absolute += Math.abs((regression.values?.[r] ?? NaN) - (diabetes.labels[r] as number));
    expect(absolute / diabetes.rows).toBeCloseTo(expected('diabetes-ridge')['mae'] as number, 2);
  });

  it('refuses a ZipMap export and says how to re-export it', async () => {
    const set = await breastCancer();
    const runner = await load('breast-cancer-logreg-zipmap.onnx');
    const error = await runner.run(set.features, set.rows, set.featureNames.length).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelRunError);
    expect(error).toMatchObject({ code: 'ZIPMAP_OUTPUT', message: expect.stringContaining("{'zipmap': False}") });
  });

  it('refuses a model whose inputs do not match the set, and a corrupt model file', async () => {
    const set = await breastCancer();
    const diabetesModel = await load('diabetes-ridge.onnx');
    await expect(diabetesModel.run(set.features, set.rows, set.featureNames.length)).rejects.toMatchObject({
      code: 'INPUT_MISMATCH',
      message: expect.stringContaining('takes 10 features; the evaluation set provides 30'),
    });
    await expect(OnnxModelRunner.load(new TextEncoder().encode('not an onnx model'))).rejects.toMatchObject({
      code: 'MODEL_UNREADABLE',
    });
  });

  it('keeps the event loop free while scoring 200,000 rows', async () => {
    const runner = await load('bench-logreg-30.onnx', 1);
    const rows = 200_000;
    const features = new Float32Array(rows * 30).map((_, i) => Math.sin(i));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const { outputs: out } = await runner.run(features, rows, 30, { chunkRows: 20_000 });
    delay.disable();
    expect(out.labels?.length).toBe(rows);
    expect(delay.max / 1e6).toBeLessThan(50);
  });
});

describe('evaluation sets: bad input is refused with the reason', () => {
  const table = (csv: string) => readTable(new TextEncoder().encode(csv));
  const binary: EvaluationSetManifest = { task: 'binary', label: 'label', features: ['a', 'b'] };

  it.each([
    ['a header without rows', 'a,b,label\n', binary, 'EMPTY_SET'],
    ['a label column that does not exist', 'a,b,y\n1,2,0\n', binary, 'UNKNOWN_COLUMN'],
    ['a NaN in a feature', 'a,b,label\n1,NaN,0\n', binary, 'NAN_IN_FEATURES'],
    ['an empty feature', 'a,b,label\n1,,0\n', binary, 'NAN_IN_FEATURES'],
    ['a text feature', 'a,b,label\n1,x,0\n', binary, 'NAN_IN_FEATURES'],
    ['a class above 1 in a binary set', 'a,b,label\n1,2,2\n', binary, 'BAD_LABEL'],
    ['a fractional class', 'a,b,label\n1,2,0.5\n', binary, 'BAD_LABEL'],
  ])('%s', async (_, csv, spec, code) => {
    const error = await table(csv).then((t) => loadEvaluationSet(t, spec)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
  });

  it('names the row and column of a malformed CSV', async () => {
    await expect(table('a,b,label\n1,2\n')).rejects.toThrow('CSV line 2 has 2 fields; the header has 3');
  });
});
