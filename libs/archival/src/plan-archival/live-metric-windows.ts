import { parseDuration, type LiveMetricRule } from '@mrw/contracts';

/** One value monitoring reported for a version's live metric. */
export interface LiveSample {
  readonly version: number;
  readonly metric: string;
  readonly value: number;
  /** ISO 8601: when it was measured. */
  readonly at: string;
  /** How many observations the value stands for (1 for a single reading). */
  readonly count: number;
}

/** The evidence of a breach: the window judged and what it held. */
export interface LiveMetricWindow {
  /** now − for */
  readonly from: string;
  /** The moment judged. */
  readonly to: string;
  /** The rule's window, ISO 8601. */
  readonly for: string;
  /** The first sample of the run beyond the threshold: one run, one breach. */
  readonly since: string;
  /** Sum of the samples' counts in [from, to]. */
  readonly samples: number;
  /** The value furthest beyond the threshold in the window. */
  readonly worst: number;
  /** Count-weighted mean of the window's values. */
  readonly mean: number;
}

export type BreachState =
  | {
      readonly breached: true;
      /** The first moment of this run at which the rule held (with the samples known now). */
      readonly firstBreachedAt: string;
      readonly window: LiveMetricWindow;
    }
  | {
      readonly breached: false;
      /** When it will be breached if the run goes on: null when nothing but new samples can breach it. */
      readonly dueAt: string | null;
      /** The first sample of the latest run beyond the threshold; null when the latest sample is not beyond it. */
      readonly since: string | null;
    };

/** The rule's direction and threshold. */
export const thresholdOf = (rule: LiveMetricRule): { direction: 'below' | 'above'; threshold: number } =>
  rule.below !== undefined ? { direction: 'below', threshold: rule.below } : { direction: 'above', threshold: rule.above as number };

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Whether a live metric rule is breached at `now`: the latest run of samples all beyond the
 * threshold started at least `for` ago, and the window [now − for, now] holds at least
 * `minSamples` samples (counts summed). Samples after `now` are not known yet and are ignored;
 * a moment with a sample on the good side ends a run, whatever else was reported then.
 */
export const breachAt = (samples: readonly LiveSample[], rule: LiveMetricRule, now: string): BreachState => {
  const windowMs = parseDuration(rule.for);
  const nowMs = Date.parse(now);
  if (windowMs === undefined || windowMs <= 0 || (rule.below === undefined && rule.above === undefined)) {
    return { breached: false, dueAt: null, since: null };
  }
  const { direction, threshold } = thresholdOf(rule);
  const beyond = (value: number): boolean => (direction === 'below' ? value < threshold : value > threshold);
  const known = samples
    .filter((s) => s.metric === rule.metric)
    .map((s) => ({ value: s.value, count: s.count, ms: Date.parse(s.at) }))
    .filter((s) => !Number.isNaN(s.ms) && s.ms <= nowMs)
    .sort((a, b) => a.ms - b.ms);
  let lastGood = Number.NEGATIVE_INFINITY;
  for (let i = known.length - 1; i >= 0; i -= 1) {
    const s = known[i] as (typeof known)[number];
    if (!beyond(s.value)) {
      lastGood = s.ms;
      break;
    }
  }
  const run = known.filter((s) => s.ms > lastGood);
  const first = run[0];
  if (!first) return { breached: false, dueAt: null, since: null };
  // At least one sample: a breach always has a window to show.
  const minSamples = Math.max(1, rule.minSamples ?? 1);
  const earliest = first.ms + windowMs;
  const since = iso(first.ms);
  if (nowMs < earliest) return { breached: false, dueAt: iso(earliest), since };
  const prefix = [0];
  for (const s of run) prefix.push((prefix[prefix.length - 1] as number) + s.count);
  /** Index of the first run sample at or after `ms` (after, when `strictly`). */
  const indexFrom = (ms: number, strictly: boolean): number => {
    let lo = 0;
    let hi = run.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const at = (run[mid] as (typeof run)[number]).ms;
      if (strictly ? at <= ms : at < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const span = (end: number): { from: number; to: number } => ({ from: indexFrom(end - windowMs, false), to: indexFrom(end, true) });
  const countAt = (end: number): number => {
    const { from, to } = span(end);
    return (prefix[to] as number) - (prefix[from] as number);
  };
  const total = countAt(nowMs);
  if (total < minSamples) return { breached: false, dueAt: null, since };
  // The rule can only start to hold when the run grows old enough or when a sample arrives.
  const moments = [earliest, ...run.map((s) => s.ms).filter((ms) => ms > earliest)];
  const firstMs = moments.find((ms) => countAt(ms) >= minSamples) ?? nowMs;
  const { from, to } = span(nowMs);
  const window = run.slice(from, to);
  return {
    breached: true,
    firstBreachedAt: iso(firstMs),
    window: {
      from: iso(nowMs - windowMs),
      to: iso(nowMs),
      for: rule.for,
      since,
      samples: total,
      worst: window.reduce((w, s) => (direction === 'below' ? Math.min(w, s.value) : Math.max(w, s.value)), (window[0] as (typeof window)[number]).value),
      mean: window.reduce((sum, s) => sum + s.value * s.count, 0) / total,
    },
  };
};
