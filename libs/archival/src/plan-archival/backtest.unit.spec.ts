import type { ModelPolicy } from '@mrw/contracts';
import { evolveModelFacts, emptyModelFacts, type FactEvent } from './archival-facts';
import { archivalPlan } from './archival-plan';
import { backtest } from './backtest';
import type { LiveSample } from './live-metric-windows';
import { day, ModelHistory, samples, samplesFrom, sec } from './testing/model-history';

const when = (result: ReturnType<typeof backtest>) => result.archived.map((a) => [a.version, a.rule, a.at]);

/**
 * What the archival service does with the real clock, second by second: at each moment, fold the
 * log as it stands, plan, and archive what the plan lists as due (the registry appends the
 * archival before the next moment). Returns the first moment each version was listed as due
 * and the first moment each breach was listed.
 */
const liveService = (events: readonly FactEvent[], live: readonly LiveSample[], policy: ModelPolicy, from: string, until: string) => {
  const archivals: FactEvent[] = [];
  const archived: Array<[number, string, string]> = [];
  const breaches: Array<[number, string, string]> = [];
  const seen = new Set<string>();
  for (let t = Date.parse(from); t <= Date.parse(until); t += 1000) {
    const now = new Date(t).toISOString();
    const log = [...events.filter((e) => Date.parse(e.occurredAt) <= t), ...archivals].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    let facts = log.reduce(evolveModelFacts, emptyModelFacts('churn'));
    let plan = archivalPlan(facts, samplesFrom(live), now, policy);
    while (plan.due.length > 0) {
      for (const c of plan.due) {
        archived.push([c.version, c.rule, now]);
        const archival: FactEvent = {
          type: 'StageTransitioned',
          streamName: `modelVersion-churn@${c.version}`,
          occurredAt: now,
          data: { fromStage: facts.versions.get(c.version)?.stage, toStage: 'Archived', trigger: { kind: 'archival', rule: c.rule, detail: c.detail } },
        };
        archivals.push(archival);
        facts = evolveModelFacts(facts, archival);
      }
      plan = archivalPlan(facts, samplesFrom(live), now, policy);
    }
    for (const b of plan.breaches) {
      const key = `${b.version}:${b.window.since}`;
      if (!seen.has(key)) breaches.push([b.version, b.metric, now]);
      seen.add(key);
    }
  }
  return { archived, breaches };
};

describe('backtest (what a proposed policy would have archived, over the model’s history)', () => {
  it('agrees with archivalPlan evaluated at every second of a scripted history, every rule at work', () => {
    const history = new ModelHistory()
      .register(1)
      .promote(1)
      .at(sec(5))
      .register(2)
      .stage(2, 'Staging')
      .at(sec(8))
      .register(3)
      .at(sec(10))
      .promote(2)
      .at(sec(12))
      .register(4)
      .stage(4, 'Staging')
      .requestApproval(4, 'a-4')
      .at(sec(15))
      .register(5)
      .at(sec(18))
      .register(6)
      .at(sec(25))
      .approvalClosed(4, 'a-4', 'ApprovalRejected')
      .at(sec(33))
      .register(7)
      .stage(7, 'Staging')
      .at(sec(50))
      .promote(7)
      .at(sec(52))
      .register(8)
      .at(sec(61))
      .register(9);
    const policy: ModelPolicy = {
      archival: {
        supersededAfter: 'PT30S',
        staleAfter: 'PT20S',
        keepAtMost: 3,
        liveMetric: { metric: 'accuracy', below: 0.8, for: 'PT10S', minSamples: 2 },
      },
    };
    const live = [
      // v3: a dip shorter than the window.
      ...samples(3, 'accuracy', [
        [9, 0.7],
        [11, 0.7],
        [14, 0.9],
      ]),
      // v6: a sustained dip.
      ...samples(6, 'accuracy', [
        [19, 0.6],
        [24, 0.65],
        [29, 0.7],
      ]),
      // v2, serving from 10 to 50: two sustained runs, one breach each.
      ...samples(2, 'accuracy', [
        [20, 0.5],
        [26, 0.5],
        [31, 0.5],
        [32, 0.95],
        [35, 0.4],
        [40, 0.4],
        [46, 0.4],
      ]),
    ];
    const until = sec(120);
    const result = backtest(history.events, live, policy, until);
    const service = liveService(history.events, live, policy, sec(0), until);

    expect(when(result)).toEqual(service.archived);
    expect(result.breaches.map((b) => [b.version, b.metric, b.at])).toEqual(service.breaches);
    // Not vacuous: every rule archives something, at the moments worked out by hand.
    expect(when(result)).toEqual([
      [3, 'keepAtMost', sec(18)], // v6 pushes it out of the 3 newest (v1 and v2 are protected); its dip archived nothing
      [6, 'liveMetric', sec(29)], // below 0.8 since 19, two samples or more in [19, 29]
      [4, 'staleAfter', sec(32)], // in Staging since 12; its approval held nothing back past 25
      [5, 'staleAfter', sec(35)],
      [1, 'supersededAfter', sec(40)], // superseded at 10; the rollback target is not spared by this rule
      [8, 'staleAfter', sec(72)],
      [2, 'supersededAfter', sec(80)], // superseded at 50
      [9, 'staleAfter', sec(81)], // at 61 v2 was outside the 3 newest, but the rollback target
    ]);
    expect(result.breaches.map((b) => [b.version, b.at])).toEqual([
      [2, sec(30)],
      [2, sec(45)],
    ]);
  });

  it('archives the former champion exactly supersededAfter after it was superseded', () => {
    const history = new ModelHistory().register(1).promote(1).at(day(1)).register(2).at(day(2)).promote(2);
    const result = backtest(history.events, [], { archival: { supersededAfter: 'P30D' } }, day(100));
    expect(result.archived).toEqual([
      {
        version: 1,
        rule: 'supersededAfter',
        at: day(32),
        dueAt: day(32),
        parameters: { supersededAfter: 'P30D' },
        evidence: { supersededAt: day(2), supersededBy: 2 },
        detail: `v2 took over serving from v1 at ${day(2)}; supersededAfter P30D`,
      },
    ]);
  });

  it('applies each archival before the next moment: keepAtMost retires one version per new registration', () => {
    const history = new ModelHistory();
    for (let v = 1; v <= 5; v += 1) history.at(day(v)).register(v);
    const result = backtest(history.events, [], { archival: { keepAtMost: 2 } }, day(10));
    expect(when(result)).toEqual([
      [1, 'keepAtMost', day(3)],
      [2, 'keepAtMost', day(4)],
      [3, 'keepAtMost', day(5)],
    ]);
  });

  it('archives when a protection ends, and says when the rule was met', () => {
    const history = new ModelHistory().register(1).stage(1, 'Staging').at(day(1)).requestApproval(1, 'a-1').at(day(9)).approvalClosed(1, 'a-1', 'ApprovalExpired');
    const result = backtest(history.events, [], { archival: { staleAfter: 'P3D' } }, day(20));
    expect(result.archived).toEqual([expect.objectContaining({ version: 1, rule: 'staleAfter', dueAt: day(3), at: day(9) })]);
  });

  it('replaces the archivals the policy in force made with the proposed policy’s own', () => {
    const history = new ModelHistory().register(1).promote(1).register(2).at(day(1)).promote(2).at(day(31)).archived(1, 'supersededAfter');
    expect(when(backtest(history.events, [], { archival: { supersededAfter: 'P7D' } }, day(50)))).toEqual([[1, 'supersededAfter', day(8)]]);
    const longer = backtest(history.events, [], { archival: { supersededAfter: 'P60D' } }, day(50));
    expect(longer.archived).toEqual([]);
    expect(longer.upcoming).toEqual([expect.objectContaining({ version: 1, rule: 'supersededAfter', dueAt: day(61) })]);
  });

  it('keeps the archivals the policy does not make: by hand, and of a rolled-back version', () => {
    const history = new ModelHistory()
      .register(1)
      .promote(1)
      .register(2)
      .at(day(1))
      .promote(2)
      .at(day(2))
      .rollbackTo(1)
      .register(3)
      .at(day(3))
      .stage(3, 'Archived');
    const result = backtest(history.events, [], { archival: { supersededAfter: 'P1D', staleAfter: 'P1D' } }, day(40));
    expect(result.archived).toEqual([]);
  });

  it('archives the previous champion as the new one serves when the proposal says archivePreviousOnSuccess, and not otherwise', () => {
    const history = new ModelHistory()
      .register(1)
      .promote(1)
      .register(2)
      .at(day(1))
      .promote(2)
      // What the policy in force did: archived at once.
      .archived(1, 'superseded');
    expect(when(backtest(history.events, [], { archival: { archivePreviousOnSuccess: true } }, day(40)))).toEqual([[1, 'archivePreviousOnSuccess', day(1)]]);
    expect(when(backtest(history.events, [], { archival: { supersededAfter: 'P5D' } }, day(40)))).toEqual([[1, 'supersededAfter', day(6)]]);
  });

  it('raises one breach per run of bad samples on the serving version, and archives nothing for it', () => {
    const history = new ModelHistory().register(1).promote(1);
    const live = samples(1, 'accuracy', [
      [10, 0.5],
      [15, 0.5],
      [20, 0.5],
      [25, 0.5],
      [30, 0.9],
      [40, 0.5],
      [50, 0.5],
    ]);
    const result = backtest(history.events, live, { archival: { liveMetric: { metric: 'accuracy', below: 0.8, for: 'PT10S', rollback: true } } }, sec(100));
    expect(result.archived).toEqual([]);
    expect(result.breaches.map((b) => [b.version, b.at, b.window.since, b.rollback])).toEqual([
      [1, sec(20), sec(10), true],
      [1, sec(50), sec(40), true],
    ]);
  });

  it('stops at `until`: later events are not replayed, and what would follow is listed as upcoming', () => {
    const history = new ModelHistory().register(1).at(day(5)).stage(1, 'Staging');
    const result = backtest(history.events, [], { archival: { staleAfter: 'P10D' } }, day(4));
    expect(result.archived).toEqual([]);
    expect(result.upcoming).toEqual([expect.objectContaining({ version: 1, rule: 'staleAfter', dueAt: day(10) })]);
    expect(when(backtest(history.events, [], { archival: { staleAfter: 'P10D' } }, day(15)))).toEqual([[1, 'staleAfter', day(15)]]);
  });

  it('has nothing to say without history', () => {
    expect(backtest([], [], { archival: { keepAtMost: 1 } }, day(1))).toEqual({ archived: [], breaches: [], upcoming: [] });
  });
});
