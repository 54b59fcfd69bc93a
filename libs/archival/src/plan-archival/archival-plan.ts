import { parseDuration, type LiveMetricRule, type ModelPolicy } from '@mrw/contracts';
import type { ModelFacts, VersionFacts } from './archival-facts';
import { breachAt, thresholdOf, type LiveMetricWindow, type LiveSample } from './live-metric-windows';

/** The archival rules, in the order a tie between two of them is settled. */
export const ARCHIVAL_RULES = ['supersededAfter', 'staleAfter', 'keepAtMost', 'liveMetric'] as const;
export type ArchivalRule = (typeof ARCHIVAL_RULES)[number];

/** `supersededAfter` when the policy says nothing (the seed's "30 days after a newer version reached production"). */
export const DEFAULT_SUPERSEDED_AFTER = 'P30D';

/** A version one rule archives, now or at `dueAt`, with the rule's parameters and the evidence. */
export interface ArchivalCandidate {
  readonly version: number;
  readonly rule: ArchivalRule;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly dueAt: string;
  /** One sentence for people. */
  readonly detail: string;
}

/** The serving version's live metric stayed beyond its threshold for the whole window: `LiveMetricBreached`, never an archival. */
export interface LiveMetricAlarm {
  readonly version: number;
  readonly metric: string;
  readonly direction: 'below' | 'above';
  readonly threshold: number;
  /** The policy asks for a rollback as well. */
  readonly rollback: boolean;
  /** The first moment of the run at which the rule held. */
  readonly breachedAt: string;
  readonly window: LiveMetricWindow;
  readonly detail: string;
}

/** When the serving version's live metric will be in breach if its run goes on. */
export interface UpcomingBreach {
  readonly version: number;
  readonly metric: string;
  readonly dueAt: string;
}

export type ProtectionReason = 'serving' | 'approval-pending' | 'deployment-in-flight' | 'rollback-target';

/** A non-archived version some rules may not archive, and why. */
export interface ProtectedVersion {
  readonly version: number;
  readonly reason: ProtectionReason;
  /** The rules it is protected from. */
  readonly rules: readonly ArchivalRule[];
  readonly detail: string;
}

export interface ArchivalPlan {
  /** To archive now (dueAt <= now), oldest version first; each version once, under its earliest rule. */
  readonly due: readonly ArchivalCandidate[];
  /** Falling due later if nothing changes, soonest first. */
  readonly upcoming: readonly ArchivalCandidate[];
  readonly breaches: readonly LiveMetricAlarm[];
  readonly upcomingBreaches: readonly UpcomingBreach[];
  readonly protected: readonly ProtectedVersion[];
}

/** A version's samples of one live metric (any order; samples after `now` are ignored). */
export type SamplesOf = (version: number, metric: string) => readonly LiveSample[];

/** The `supersededAfter` a policy means, and how it said it (its own field, the legacy days, or nothing). */
export const supersededAfterOf = (policy: ModelPolicy): { readonly duration: string; readonly parameters: Readonly<Record<string, unknown>> } => {
  const archival = policy.archival ?? {};
  if (archival.supersededAfter !== undefined) return { duration: archival.supersededAfter, parameters: { supersededAfter: archival.supersededAfter } };
  if (archival.supersededAfterDays !== undefined) {
    const duration = `P${archival.supersededAfterDays}D`;
    return { duration, parameters: { supersededAfter: duration, supersededAfterDays: archival.supersededAfterDays } };
  }
  return { duration: DEFAULT_SUPERSEDED_AFTER, parameters: { supersededAfter: DEFAULT_SUPERSEDED_AFTER, default: true } };
};

const ALL_RULES: readonly ArchivalRule[] = ARCHIVAL_RULES;
/** `supersededAfter` is itself the rule that retires a former champion, so it does not spare the rollback target. */
const ROLLBACK_TARGET_RULES: readonly ArchivalRule[] = ['staleAfter', 'keepAtMost', 'liveMetric'];

const iso = (ms: number): string => new Date(ms).toISOString();
const plus = (at: string, duration: string): string | undefined => {
  const ms = parseDuration(duration);
  return ms === undefined ? undefined : iso(Date.parse(at) + ms);
};
const before = (a: ArchivalCandidate, b: ArchivalCandidate): number =>
  Date.parse(a.dueAt) - Date.parse(b.dueAt) || ARCHIVAL_RULES.indexOf(a.rule) - ARCHIVAL_RULES.indexOf(b.rule) || a.version - b.version;

const UNPROTECTED: readonly ProtectedVersion[] = [];

const protectionsOf = (facts: ModelFacts, v: VersionFacts, keepRollbackTarget: boolean): readonly ProtectedVersion[] => {
  const serving = v.version === facts.servingVersion || v.serving;
  // Most versions have no protection: answered without building anything (a plan passes over every version).
  if (!serving && v.pendingApprovals.length === 0 && v.deploymentsInFlight.length === 0 && !(keepRollbackTarget && v.version === facts.rollbackTarget)) {
    return UNPROTECTED;
  }
  const found: ProtectedVersion[] = [];
  const add = (reason: ProtectionReason, rules: readonly ArchivalRule[], detail: string): void => {
    found.push({ version: v.version, reason, rules, detail });
  };
  if (serving) add('serving', ALL_RULES, `v${v.version} serves traffic`);
  if (v.pendingApprovals.length > 0) add('approval-pending', ALL_RULES, `v${v.version} has an approval pending (${v.pendingApprovals.join(', ')})`);
  if (v.deploymentsInFlight.length > 0) {
    add('deployment-in-flight', ALL_RULES, `v${v.version} has a deployment in flight (${v.deploymentsInFlight.join(', ')})`);
  }
  if (keepRollbackTarget && v.version === facts.rollbackTarget) {
    add('rollback-target', ROLLBACK_TARGET_RULES, `v${v.version} is the rollback target (keepRollbackTarget)`);
  }
  return found;
};

const liveRuleParameters = (rule: LiveMetricRule): Record<string, unknown> => {
  const { direction, threshold } = thresholdOf(rule);
  return { metric: rule.metric, [direction]: threshold, for: rule.for, minSamples: rule.minSamples ?? 1 };
};

/** Six significant digits: a sentence for people, not the evidence (which keeps every digit). */
const readable = (value: number): number => Number(value.toPrecision(6));

const describeWindow = (rule: LiveMetricRule, window: LiveMetricWindow): string => {
  const { direction, threshold } = thresholdOf(rule);
  return (
    `${rule.metric} stayed ${direction} ${threshold} since ${window.since}, for ${rule.for} and more ` +
    `(${window.samples} samples from ${window.from} to ${window.to}, worst ${readable(window.worst)}, mean ${readable(window.mean)})`
  );
};

/**
 * What a model's archival policy archives at `now`, what falls due later, and which live-metric
 * breaches the serving version is in. Pure: the same facts, samples, moment and policy give the
 * same plan, which is how the timers, the preview and the backtest agree.
 */
export const archivalPlan = (facts: ModelFacts, samplesOf: SamplesOf, now: string, policy: ModelPolicy = facts.policy): ArchivalPlan => {
  const nowMs = Date.parse(now);
  const archival = policy.archival ?? {};
  const keepRollbackTarget = archival.keepRollbackTarget !== false;
  const listed = [...facts.versions.values()].filter((v) => v.stage !== 'Archived');
  const protections = new Map<number, readonly ProtectedVersion[]>();
  for (const v of listed) {
    const found = protectionsOf(facts, v, keepRollbackTarget);
    if (found.length > 0) protections.set(v.version, found);
  }
  const spared = (v: VersionFacts, rule: ArchivalRule): boolean => protections.get(v.version)?.some((p) => p.rules.includes(rule)) === true;

  const candidates: ArchivalCandidate[] = [];
  const breaches: LiveMetricAlarm[] = [];
  const upcomingBreaches: UpcomingBreach[] = [];

  const superseded = supersededAfterOf(policy);
  const stale = archival.staleAfter;
  const live = archival.liveMetric;
  for (const v of listed) {
    // A former champion waits in Production; one restored from Archived is judged by the other rules.
    if (v.stage === 'Production' && v.supersededAt !== null && !spared(v, 'supersededAfter')) {
      const dueAt = plus(v.supersededAt, superseded.duration);
      if (dueAt !== undefined) {
        candidates.push({
          version: v.version,
          rule: 'supersededAfter',
          parameters: superseded.parameters,
          evidence: { supersededAt: v.supersededAt, supersededBy: v.supersededBy },
          dueAt,
          detail: `v${v.supersededBy} took over serving from v${v.version} at ${v.supersededAt}; supersededAfter ${superseded.duration}`,
        });
      }
    }
    if (stale !== undefined && (v.stage === 'None' || v.stage === 'Staging') && !spared(v, 'staleAfter')) {
      const dueAt = plus(v.stageSince, stale);
      if (dueAt !== undefined) {
        candidates.push({
          version: v.version,
          rule: 'staleAfter',
          parameters: { staleAfter: stale },
          evidence: { stage: v.stage, stageSince: v.stageSince },
          dueAt,
          detail: `v${v.version} has been in ${v.stage} since ${v.stageSince}; staleAfter ${stale}`,
        });
      }
    }
    if (live === undefined) continue;
    const serving = v.version === facts.servingVersion;
    if (!serving && spared(v, 'liveMetric')) continue;
    const state = breachAt(samplesOf(v.version, live.metric), live, now);
    if (serving) {
      if (state.breached) {
        const { direction, threshold } = thresholdOf(live);
        breaches.push({
          version: v.version,
          metric: live.metric,
          direction,
          threshold,
          rollback: live.rollback === true,
          breachedAt: state.firstBreachedAt,
          window: state.window,
          detail: `serving v${v.version}: ${describeWindow(live, state.window)}`,
        });
      } else if (state.dueAt !== null) {
        upcomingBreaches.push({ version: v.version, metric: live.metric, dueAt: state.dueAt });
      }
    } else if (state.breached) {
      candidates.push({
        version: v.version,
        rule: 'liveMetric',
        parameters: liveRuleParameters(live),
        evidence: { window: state.window, breachedAt: state.firstBreachedAt },
        dueAt: state.firstBreachedAt,
        detail: `v${v.version}: ${describeWindow(live, state.window)}`,
      });
    } else if (state.dueAt !== null) {
      candidates.push({
        version: v.version,
        rule: 'liveMetric',
        parameters: liveRuleParameters(live),
        evidence: { since: state.since },
        dueAt: state.dueAt,
        detail: `v${v.version}: ${live.metric} has been ${thresholdOf(live).direction} ${thresholdOf(live).threshold} since ${state.since}; in breach at ${state.dueAt} if it stays there`,
      });
    }
  }

  const earliest = new Map<number, ArchivalCandidate>();
  const keep = (c: ArchivalCandidate): void => {
    const current = earliest.get(c.version);
    if (!current || before(c, current) < 0) earliest.set(c.version, c);
  };
  candidates.forEach(keep);

  const keepAtMost = archival.keepAtMost;
  if (keepAtMost !== undefined && Number.isInteger(keepAtMost) && keepAtMost > 0) {
    // Versions other rules archive now no longer take a place; the K newest keep theirs.
    const goingNow = new Set([...earliest.values()].filter((c) => Date.parse(c.dueAt) <= nowMs).map((c) => c.version));
    const ranked = listed
      .filter((v) => !goingNow.has(v.version))
      .sort((a, b) => Date.parse(a.listedSince) - Date.parse(b.listedSince) || a.version - b.version);
    for (let i = 0; i + keepAtMost < ranked.length; i += 1) {
      const v = ranked[i] as VersionFacts;
      const pusher = ranked[i + keepAtMost] as VersionFacts;
      if (spared(v, 'keepAtMost')) continue;
      const newer = ranked.slice(ranked.length - keepAtMost).map((n) => n.version);
      keep({
        version: v.version,
        rule: 'keepAtMost',
        parameters: { keepAtMost },
        evidence: { nonArchived: ranked.length, kept: newer, pushedOutBy: pusher.version, pushedOutAt: pusher.listedSince },
        dueAt: pusher.listedSince,
        detail: `v${v.version} is older than the ${keepAtMost} newest non-archived versions (${newer.map((n) => `v${n}`).join(', ')}) since v${pusher.version} was registered (or restored) at ${pusher.listedSince}; keepAtMost ${keepAtMost}`,
      });
    }
  }

  const chosen = [...earliest.values()];
  return {
    due: chosen.filter((c) => Date.parse(c.dueAt) <= nowMs).sort((a, b) => a.version - b.version),
    upcoming: chosen.filter((c) => Date.parse(c.dueAt) > nowMs).sort(before),
    breaches,
    upcomingBreaches,
    protected: [...protections.values()].flat(),
  };
};
