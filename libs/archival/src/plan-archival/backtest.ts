import { modelOfStream, modelVersionStream, parseModelVersionStream, type ModelPolicy, type ServingEnded, type StageTransitioned } from '@mrw/contracts';
import { emptyModelFacts, evolveModelFacts, versionFacts, type FactEvent, type ModelFacts } from './archival-facts';
import { archivalPlan, type ArchivalCandidate, type ArchivalRule, type LiveMetricAlarm, type SamplesOf } from './archival-plan';
import type { LiveSample } from './live-metric-windows';

/** An archival the policy would have made, at the first moment its plan listed it as due. */
export interface BacktestArchival {
  readonly version: number;
  /** A plan rule, or `archivePreviousOnSuccess` (the registry's, as the champion is replaced). */
  readonly rule: ArchivalRule | 'archivePreviousOnSuccess';
  readonly at: string;
  /** When the rule's condition was met; earlier than `at` when a protection held it back. */
  readonly dueAt: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly detail: string;
}

/** A `LiveMetricBreached` the policy would have raised on the serving version, once per run of samples. */
export interface BacktestBreach extends LiveMetricAlarm {
  readonly at: string;
}

export interface BacktestResult {
  readonly archived: readonly BacktestArchival[];
  readonly breaches: readonly BacktestBreach[];
  /** What would fall due after `until`, as things stand then. */
  readonly upcoming: readonly ArchivalCandidate[];
}


/**
 * An archival the policy in force made (the archival service's rules, or the registry's
 * `archivePreviousOnSuccess`): the backtest replaces it with the proposed policy's own. Manual
 * archivals and those of a rolled-back version are history the policy does not change.
 */
const madeByPolicy = (event: FactEvent): boolean => {
  if (event.type !== 'StageTransitioned') return false;
  const { toStage, trigger } = event.data as StageTransitioned['data'];
  return toStage === 'Archived' && trigger.kind === 'archival' && trigger.rule !== 'rolled-back';
};

const archivedEvent = (facts: ModelFacts, version: number, at: string, rule: string, detail: string): FactEvent => ({
  type: 'StageTransitioned',
  streamName: modelVersionStream(facts.model, version),
  occurredAt: at,
  data: { fromStage: versionFacts(facts, version)?.stage ?? 'None', toStage: 'Archived', trigger: { kind: 'archival', rule, detail } },
});

const samplesIndex = (samples: readonly LiveSample[], untilMs: number): SamplesOf => {
  const byKey = new Map<string, LiveSample[]>();
  for (const s of samples) {
    if (!(Date.parse(s.at) <= untilMs)) continue;
    const key = `${s.version}\u0000${s.metric}`;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  return (version, metric) => byKey.get(`${version}\u0000${metric}`) ?? [];
};

/**
 * Replays a model's history (its events in log order, each with `occurredAt`) against a
 * proposed policy, up to `until`: what it would have archived and when, and the breaches it
 * would have raised. Time moves from moment to moment where the plan can change (an event, a
 * sample, a due time), and each archival is applied before the next moment, so it changes
 * later counts as a real one would; the plan at each moment is `archivalPlan`'s.
 */
export const backtest = (events: readonly FactEvent[], samples: readonly LiveSample[], policy: ModelPolicy, until: string): BacktestResult => {
  const untilMs = Date.parse(until);
  const model = events.map((e) => modelOfStream(e.streamName)).find((m) => m !== undefined);
  if (model === undefined) return { archived: [], breaches: [], upcoming: [] };
  const history = events.filter((e) => modelOfStream(e.streamName) === model && !madeByPolicy(e));
  const samplesOf = samplesIndex(samples, untilMs);
  const sampleMoments = [...new Set(samples.map((s) => Date.parse(s.at)).filter((ms) => ms <= untilMs))].sort((a, b) => a - b);

  let facts = emptyModelFacts(model);
  const archived: BacktestArchival[] = [];
  const breaches: BacktestBreach[] = [];
  const raised = new Set<string>();
  const archive = (version: number, at: string, entry: Omit<BacktestArchival, 'version' | 'at'>): void => {
    archived.push({ version, at, ...entry });
    facts = evolveModelFacts(facts, archivedEvent(facts, version, at, entry.rule, entry.detail));
  };

  let next = 0;
  let nextSample = 0;
  let t = history.length > 0 ? Date.parse((history[0] as FactEvent).occurredAt) : Number.POSITIVE_INFINITY;
  while (t <= untilMs) {
    const now = new Date(t).toISOString();
    for (; next < history.length && Date.parse((history[next] as FactEvent).occurredAt) <= t; next += 1) {
      const event = history[next] as FactEvent;
      facts = evolveModelFacts(facts, event);
      if (event.type === 'ServingEnded' && policy.archival?.archivePreviousOnSuccess === true) {
        const { reason, supersededBy } = event.data as ServingEnded['data'];
        const version = parseModelVersionStream(event.streamName)?.version;
        const v = version === undefined ? undefined : versionFacts(facts, version);
        // The registry's EndServing: archived at once unless a deployment or an approval is in flight.
        if (v && reason === 'superseded' && v.stage !== 'Archived' && v.deploymentsInFlight.length === 0 && v.pendingApprovals.length === 0) {
          archive(v.version, event.occurredAt, {
            rule: 'archivePreviousOnSuccess',
            dueAt: event.occurredAt,
            parameters: { archivePreviousOnSuccess: true },
            evidence: { supersededBy, supersededAt: event.occurredAt },
            detail: `v${supersededBy} took over serving; archivePreviousOnSuccess`,
          });
        }
      }
    }
    let plan = archivalPlan(facts, samplesOf, now, policy);
    // Each pass archives at least one version, so this ends.
    while (plan.due.length > 0) {
      for (const c of plan.due) archive(c.version, now, { rule: c.rule, dueAt: c.dueAt, parameters: c.parameters, evidence: c.evidence, detail: c.detail });
      plan = archivalPlan(facts, samplesOf, now, policy);
    }
    for (const b of plan.breaches) {
      const key = `${b.version}\u0000${b.metric}\u0000${b.window.since}`;
      if (raised.has(key)) continue;
      raised.add(key);
      breaches.push({ ...b, at: now });
    }
    while (nextSample < sampleMoments.length && (sampleMoments[nextSample] as number) <= t) nextSample += 1;
    const following = [
      next < history.length ? Date.parse((history[next] as FactEvent).occurredAt) : Number.POSITIVE_INFINITY,
      sampleMoments[nextSample] ?? Number.POSITIVE_INFINITY,
      ...plan.upcoming.map((c) => Date.parse(c.dueAt)),
      ...plan.upcomingBreaches.map((b) => Date.parse(b.dueAt)),
    ].filter((ms) => ms > t);
    t = Math.min(...following);
  }
  return { archived, breaches, upcoming: archivalPlan(facts, samplesOf, until, policy).upcoming };
};
