/**
 * Thrown when the inputs cannot be evaluated at all (lengths differ, a label outside
 * 0..k-1, a probability outside [0, 1], a negative weight...). A caller serving HTTP
 * maps it to a 4xx problem: it is always the input's fault, never the library's.
 * Metrics that are merely undefined on valid data (ROC-AUC with one class present) do not
 * throw: they come back as NaN and are listed in `undefinedMetrics`.
 */
export class EvaluationInputError extends Error {
  override readonly name = 'EvaluationInputError';
}
