import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The MLflow release the compatibility test and `npm run bench:peer` run against. */
export const MLFLOW_VERSION = '3.17.2';

/** Where a venv holding that release is kept between runs: made by the e2e test, reused by the benchmark. */
export const sharedMlflowVenv = (version: string = MLFLOW_VERSION): string => join(tmpdir(), `mrw-mlflow-${version}`);
