import type { Table } from './read-table';

/** The manifest uploaded beside an evaluation set (DESIGN section 8). */
export interface EvaluationSetManifest {
  readonly task: 'binary' | 'multiclass' | 'regression';
  readonly label: string;
  /** Feature columns in the model's input order; default: every column but label and slices. */
  readonly features?: readonly string[];
  /** Columns whose values define the groups for fairness metrics. */
  readonly slices?: readonly string[];
  /** value[trueClass][predictedClass] per row, for the business KPI (gain positive, cost negative). */
  readonly costMatrix?: ReadonlyArray<ReadonlyArray<number>>;
}

/** An evaluation set ready to score: features row-major, labels, and slice groups. */
export interface LoadedEvaluationSet {
  readonly task: EvaluationSetManifest['task'];
  readonly rows: number;
  readonly featureNames: readonly string[];
  readonly features: Float32Array;
  /** Class indices for classification; targets for regression. */
  readonly labels: Int32Array | Float64Array;
  readonly classes: number;
  readonly slices: ReadonlyArray<{ readonly name: string; readonly groups: Int32Array; readonly values: readonly string[] }>;
  readonly costMatrix?: ReadonlyArray<ReadonlyArray<number>>;
}

export type EvaluationSetErrorCode = 'EMPTY_SET' | 'UNKNOWN_COLUMN' | 'NAN_IN_FEATURES' | 'BAD_LABEL' | 'BAD_MANIFEST' | 'UNKNOWN_SET';

/** Why a set cannot be evaluated on: specific enough to fix the file. */
export class EvaluationSetError extends Error {
  override readonly name = 'EvaluationSetError';
  constructor(
    readonly code: EvaluationSetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const column = (table: Table, name: string, role: string) => {
  const index = table.columns.indexOf(name);
  if (index < 0) {
    throw new EvaluationSetError('UNKNOWN_COLUMN', `the ${role} column "${name}" is not in the set; its columns are ${table.columns.join(', ')}`);
  }
  return table.values[index] as ReadonlyArray<number | string | null>;
};

/** Checks a table against its manifest and lays it out for scoring; refuses NaNs and bad labels. */
export const loadEvaluationSet = (table: Table, manifest: EvaluationSetManifest): LoadedEvaluationSet => {
  if (table.rows === 0) throw new EvaluationSetError('EMPTY_SET', 'the evaluation set has no rows');
  const slices = manifest.slices ?? [];
  const featureNames = manifest.features ?? table.columns.filter((c) => c !== manifest.label && !slices.includes(c));
  if (featureNames.length === 0) throw new EvaluationSetError('BAD_MANIFEST', 'the set has no feature columns');
  const rows = table.rows;
  const features = new Float32Array(rows * featureNames.length);
  featureNames.forEach((name, f) => {
    const values = column(table, name, 'feature');
    for (let r = 0; r < rows; r += 1) {
      const v = values[r];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EvaluationSetError(
          'NAN_IN_FEATURES',
          `feature "${name}" has ${v === null ? 'an empty value' : typeof v === 'number' ? String(v) : `the text "${v}"`} at row ${r + 1}: features must be finite numbers (impute or drop such rows before uploading)`,
        );
      }
      features[r * featureNames.length + f] = v;
    }
  });
  const rawLabels = column(table, manifest.label, 'label');
  let labels: Int32Array | Float64Array;
  let classes = 0;
  if (manifest.task === 'regression') {
    labels = Float64Array.from(rawLabels, (v, r) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvaluationSetError('BAD_LABEL', `label at row ${r + 1} is not a number`);
      return v;
    });
  } else {
    labels = Int32Array.from(rawLabels, (v, r) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new EvaluationSetError('BAD_LABEL', `label at row ${r + 1} is ${String(v)}: classes must be 0, 1, 2… as the model outputs them`);
      }
      return v;
    });
    classes = Math.max(...labels) + 1;
    if (manifest.task === 'binary' && classes > 2) {
      throw new EvaluationSetError('BAD_LABEL', `a binary set has labels 0 and 1 only; this one goes up to ${classes - 1}`);
    }
    if (manifest.task === 'binary') classes = 2;
  }
  return {
    task: manifest.task,
    ...(manifest.costMatrix ? { costMatrix: manifest.costMatrix } : {}),
    rows,
    featureNames,
    features,
    labels,
    classes,
    slices: slices.map((name) => {
      const values = column(table, name, 'slice');
      const names: string[] = [];
      const groups = Int32Array.from(values, (v) => {
        const key = v === null ? '(empty)' : String(v);
        let index = names.indexOf(key);
        if (index < 0) index = names.push(key) - 1;
        return index;
      });
      return { name, groups, values: names };
    }),
  };
};
