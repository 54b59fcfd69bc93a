export * from './evaluator.module';
export { OnnxModelRunner, ModelRunError, type ModelOutputs } from './run-model/onnx-model-runner';
export { measureInWorker } from './run-evaluation/evaluation-worker';
export type { LoadedEvaluationSet, EvaluationSetManifest } from './evaluation-sets/evaluation-set';
