/**
 * What training platforms publish on `mrw.training.events.v1` (key = model), as JSON. The
 * public schema is docs/schemas/training-run-completed.v1.json; the producer is the holder of
 * the token that signed the message, never a field.
 */
export interface TrainingRunCompleted {
  readonly type: 'TrainingRunCompleted';
  readonly model: string;
  /** The run on the training platform: one run registers one version, however often it is sent. */
  readonly runId: string;
  /** An `artifacts://`, `http(s)://` or (where allowed) `file://` URI; or leave it out and name an uploaded artifact by `artifactDigest`. */
  readonly source?: string;
  readonly artifactDigest?: string;
  readonly metrics: Readonly<Record<string, number>>;
  /** Hyperparameters: kept as the version's tags `param.<name>`. */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly description?: string;
  /** Ask for Staging once registered (evaluation follows, as for a request over the API). */
  readonly requestStage?: 'Staging';
}

/** The training event types the registry consumes. */
export const TRAINING_EVENT_TYPES = ['TrainingRunCompleted'] as const;
