/** The stages of a model version (DESIGN section 4). */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

export const isStage = (value: unknown): value is Stage =>
  typeof value === 'string' && (STAGES as readonly string[]).includes(value);

/** Whether a bigger value of a metric is better, unless the policy says otherwise. */
export const LOWER_IS_BETTER_METRICS: readonly string[] = [
  'log_loss',
  'mae',
  'rmse',
  'mse',
  'demographic_parity_difference',
  'equalized_odds_difference',
];

/** MLflow's `MetricThreshold`, in camelCase, plus `requireConfidenceBound`. */
export interface MetricThreshold {
  /** Absolute bound the candidate must reach (>= when greater is better, else <=). */
  readonly threshold?: number;
  /** Minimum improvement over the champion, in the metric's units. */
  readonly minAbsoluteChange?: number;
  /** Minimum improvement over the champion relative to |champion|. */
  readonly minRelativeChange?: number;
  /** Defaults to true, except for the metrics in LOWER_IS_BETTER_METRICS. */
  readonly greaterIsBetter?: boolean;
  /** Change rules must hold for the 95% CI bound of the difference, not only its point estimate. */
  readonly requireConfidenceBound?: boolean;
}

export interface EvaluationPolicy {
  /** Name of the standard evaluation set. */
  readonly set: string;
  /** Pins one version (digest) of the set; without it the newest version is the standard. */
  readonly setVersion?: string;
  readonly thresholds?: Readonly<Record<string, MetricThreshold>>;
}

/**
 * Where reviewers hear of a request. Secrets (a chat webhook URL carries its token; a signing
 * secret) are stored sealed (`enc:v1:…`, see SecretBox) or named by an environment variable
 * (`webhookUrlEnv`, `secretEnv`), and shown redacted.
 */
export type NotifyChannel =
  | { readonly kind: 'email' }
  | { readonly kind: 'slack'; readonly webhookUrl?: string; readonly webhookUrlEnv?: string }
  | { readonly kind: 'teams'; readonly webhookUrl?: string; readonly webhookUrlEnv?: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly secret?: string; readonly secretEnv?: string };

export const NOTIFY_CHANNEL_KINDS = ['email', 'slack', 'teams', 'webhook'] as const;

export interface ApprovalRule {
  /** Number of distinct approvers needed; 0 means the automated gates suffice. */
  readonly required: number;
  /** Who may approve: `role:<role>` or `user:<subject>`. */
  readonly reviewers: readonly string[];
  /** ISO 8601 duration, e.g. `P3D`. */
  readonly expiresIn: string;
  /** Channels reviewers are told on; none means the inbox only. */
  readonly notify?: readonly NotifyChannel[];
  /** ISO 8601 duration between reminders while the request is open. */
  readonly remindEvery?: string;
  /** Told once when a request is half-way to expiry: `user:<subject>`. */
  readonly escalateTo?: string;
}

export interface DeploymentTarget {
  readonly kind: string;
  readonly environment: string;
  readonly [setting: string]: unknown;
}

/**
 * Live metric names, as monitoring exports them (`accuracy`, `p99_latency_ms`,
 * `http:error_ratio`): the Prometheus alphabet plus `.` and `-`.
 */
export const LIVE_METRIC_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** A live metric that must not stay beyond a threshold for a whole window. */
export interface LiveMetricRule {
  /** e.g. `accuracy`, `p99_latency_ms` (see LIVE_METRIC_NAME_PATTERN). */
  readonly metric: string;
  /** Breached while the metric is below this; exactly one of `below` and `above`. */
  readonly below?: number;
  /** Breached while the metric is above this. */
  readonly above?: number;
  /** ISO 8601 window the breach must last, e.g. `PT1H`, `PT5S`. */
  readonly for: string;
  /** Samples (summed `count`) the window must hold to count as a breach (default 1). */
  readonly minSamples?: number;
  /** When the serving version is in breach, also request a rollback (default false). */
  readonly rollback?: boolean;
}

/** Per model: when versions are archived. Every rule may be combined with the others. */
export interface ArchivalPolicy {
  /** Legacy form of `supersededAfter`: `n` is `P<n>D`. */
  readonly supersededAfterDays?: number;
  /**
   * ISO 8601: archive a version that left serving because a newer one took over, this long
   * after it did (default `P30D`, even when the policy has no archival part).
   */
  readonly supersededAfter?: string;
  /** ISO 8601: archive a version left in `None` or `Staging` longer than this. */
  readonly staleAfter?: string;
  /** At most this many non-archived versions: the oldest ones go first. */
  readonly keepAtMost?: number;
  /** Archive a non-serving version whose live metric stays beyond its threshold; the serving one raises `LiveMetricBreached`. */
  readonly liveMetric?: LiveMetricRule;
  /** Default true: `staleAfter`, `keepAtMost` and `liveMetric` never archive the rollback target. */
  readonly keepRollbackTarget?: boolean;
  /** Archive the previous champion as soon as the new one serves (else it stays as rollback target). */
  readonly archivePreviousOnSuccess?: boolean;
}

export interface RollbackPolicy {
  /** Approvers needed for a rollback (default 1). */
  readonly required?: number;
  /** Whether a deployer may skip approval with `emergency: true` (reviewed after the fact). */
  readonly allowEmergency?: boolean;
}

/** A model's governance policy; every part is optional. */
export interface ModelPolicy {
  readonly evaluation?: EvaluationPolicy;
  readonly approval?: { readonly Production?: ApprovalRule; readonly Rollback?: ApprovalRule };
  readonly deployment?: {
    readonly targets: readonly DeploymentTarget[];
    /** ISO 8601 duration: a deployment with no outcome by then has failed (the deployer's default: PT30M). */
    readonly timeout?: string;
    /** Serve a version entering Staging in the `shadow` environment of the local runtime. */
    readonly shadow?: boolean;
  };
  readonly archival?: ArchivalPolicy;
  readonly rollback?: RollbackPolicy;
  /**
   * An alias (e.g. `champion`) that always names the serving version: it moves when a version
   * starts serving (promotion or rollback), and nobody sets or removes it by hand.
   */
  readonly servingAlias?: string;
}

export const DEFAULT_PRODUCTION_APPROVAL: ApprovalRule = {
  required: 1,
  reviewers: ['role:reviewer'],
  expiresIn: 'P7D',
};

export const DEFAULT_ROLLBACK_APPROVAL: ApprovalRule = {
  required: 1,
  reviewers: ['role:reviewer'],
  expiresIn: 'P1D',
};

/** One automated check with its numbers, as shown to reviewers. */
export interface GateCheck {
  /** The metric checked, or the evidence rule (`evaluation`, `evaluation-set`, `champion`). */
  readonly metric: string;
  /** `threshold`, `min_absolute_change`, `min_relative_change`, or an evidence rule name. */
  readonly rule: string;
  readonly passed: boolean;
  readonly value?: number;
  readonly baseline?: number;
  /** The number the value had to reach. */
  readonly expected?: number;
  readonly detail: string;
}

export interface Verdict {
  readonly passed: boolean;
  readonly checks: readonly GateCheck[];
}

/** The difference of one metric between candidate and champion on the same rows. */
export interface MetricComparison {
  readonly candidate: number;
  readonly champion: number;
  /** candidate - champion */
  readonly difference: number;
  /** Paired bootstrap 95% CI of the difference. */
  readonly ci?: { readonly lower: number; readonly upper: number; readonly level: number };
}

export interface Comparison {
  readonly championVersion: number;
  readonly metrics: Readonly<Record<string, MetricComparison>>;
  readonly bootstrap?: { readonly resamples: number; readonly seed: number };
  readonly mcnemar?: { readonly statistic: number; readonly pValue: number };
}

/** Evidence an approval stands on (rule 5): if it changes before quorum, approvals are void. */
export interface Evidence {
  readonly evaluationId: string | null;
  readonly datasetDigest: string | null;
  readonly championVersion: number | null;
}

/** Metric names (scikit-learn's) the evaluator computes and policies may put thresholds on. */
export const METRIC_NAMES: readonly string[] = [
  'accuracy',
  'balanced_accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'log_loss',
  'mae',
  'mse',
  'rmse',
  'r2',
  'demographic_parity_difference',
  'equalized_odds_difference',
  'business_kpi',
  ...['precision', 'recall', 'f1', 'roc_auc'].flatMap((m) =>
    ['macro', 'micro', 'weighted'].map((avg) => `${m}_${avg}`),
  ),
];
