import type { LiveMetricRule, ModelPolicy } from '@mrw/contracts';
import { foldModelFacts } from './archival-facts';
import { archivalPlan, type ArchivalPlan } from './archival-plan';
import type { LiveSample } from './live-metric-windows';
import { day, ModelHistory, samples, samplesFrom, sec, tickBefore } from './testing/model-history';

const noSamples = (): LiveSample[] => [];
const planOf = (history: ModelHistory, now: string, policy?: ModelPolicy, live: readonly LiveSample[] = []): ArchivalPlan =>
  archivalPlan(foldModelFacts(history.model, history.until(now)), samplesFrom(live), now, policy);
const dueVersions = (plan: ArchivalPlan) => plan.due.map((c) => [c.version, c.rule]);
const liveOnly = (candidates: ArchivalPlan['upcoming']) => candidates.filter((c) => c.rule === 'liveMetric');

/** v1 served from T0, v2 took over on day 2: v1 is the former champion and the rollback target. */
const superseded = (policy: ModelPolicy = {}) =>
  new ModelHistory().policy(policy).register(1).promote(1).at(day(1)).register(2).at(day(2)).promote(2);

describe('archivalPlan', () => {
  describe('supersededAfter', () => {
    it('archives the former champion exactly supersededAfter after a newer version took over, not a tick before', () => {
      const history = superseded({ archival: { supersededAfter: 'P30D' } });
      const before = planOf(history, tickBefore(day(32)));
      expect(before.due).toEqual([]);
      expect(before.upcoming).toEqual([expect.objectContaining({ version: 1, rule: 'supersededAfter', dueAt: day(32) })]);
      const plan = planOf(history, day(32));
      expect(plan.due).toEqual([
        {
          version: 1,
          rule: 'supersededAfter',
          parameters: { supersededAfter: 'P30D' },
          evidence: { supersededAt: day(2), supersededBy: 2 },
          dueAt: day(32),
          detail: `v2 took over serving from v1 at ${day(2)}; supersededAfter P30D`,
        },
      ]);
      expect(plan.upcoming).toEqual([]);
    });

    it('applies P30D when the policy has no archival part, and says it is the default', () => {
      const plan = planOf(superseded(), day(32));
      expect(plan.due).toEqual([expect.objectContaining({ version: 1, dueAt: day(32), parameters: { supersededAfter: 'P30D', default: true } })]);
      expect(planOf(superseded(), tickBefore(day(32))).due).toEqual([]);
    });

    it('reads the legacy supersededAfterDays as P<n>D', () => {
      const history = superseded({ archival: { supersededAfterDays: 7 } });
      expect(planOf(history, tickBefore(day(9))).upcoming.map((c) => c.dueAt)).toEqual([day(9)]);
      expect(planOf(history, day(9)).due).toEqual([
        expect.objectContaining({ version: 1, rule: 'supersededAfter', parameters: { supersededAfter: 'P7D', supersededAfterDays: 7 } }),
      ]);
    });

    it('archives the rollback target too: it is the rule that retires former champions (keepRollbackTarget spares it from the others)', () => {
      const plan = planOf(superseded({ archival: { supersededAfter: 'PT5S', keepRollbackTarget: true } }), sec(2 * 86_400 + 5));
      expect(dueVersions(plan)).toEqual([[1, 'supersededAfter']]);
      expect(plan.protected).toContainEqual(expect.objectContaining({ version: 1, reason: 'rollback-target', rules: ['staleAfter', 'keepAtMost', 'liveMetric'] }));
    });

    it('waits while a deployment of the former champion is in flight (a rollback to it), and archives it once that fails', () => {
      const history = superseded({ archival: { supersededAfter: 'P1D' } });
      const deploymentId = history.at(day(3)).deploy(1, 'rollback');
      const plan = planOf(history, day(10));
      expect(plan.due).toEqual([]);
      expect(plan.upcoming).toEqual([]);
      expect(plan.protected).toContainEqual(expect.objectContaining({ version: 1, reason: 'deployment-in-flight', rules: ['supersededAfter', 'staleAfter', 'keepAtMost', 'liveMetric'] }));
      history.at(day(11)).fail(1, deploymentId, 'Production');
      expect(planOf(history, day(11)).due).toEqual([expect.objectContaining({ version: 1, rule: 'supersededAfter', dueAt: day(3) })]);
    });

    it('leaves a superseded version restored from Archived to the other rules', () => {
      const history = superseded({ archival: { supersededAfter: 'P1D' } }).at(day(3)).archived(1, 'supersededAfter').at(day(5)).stage(1, 'Staging');
      expect(planOf(history, day(50)).due).toEqual([]);
    });
  });

  describe('staleAfter', () => {
    const history = () =>
      new ModelHistory()
        .register(1)
        .at(sec(10))
        .register(2)
        .stage(2, 'Staging')
        .register(3)
        .promote(3)
        .register(4)
        .at(sec(20))
        .archived(4, 'keepAtMost');
    const policy: ModelPolicy = { archival: { staleAfter: 'PT1M' } };

    it('archives versions left in None or Staging longer than the duration, each from when it entered its stage', () => {
      const plan = planOf(history(), sec(60), policy);
      expect(plan.due).toEqual([
        {
          version: 1,
          rule: 'staleAfter',
          parameters: { staleAfter: 'PT1M' },
          evidence: { stage: 'None', stageSince: sec(0) },
          dueAt: sec(60),
          detail: `v1 has been in None since ${sec(0)}; staleAfter PT1M`,
        },
      ]);
      expect(plan.upcoming).toEqual([expect.objectContaining({ version: 2, rule: 'staleAfter', dueAt: sec(70), evidence: { stage: 'Staging', stageSince: sec(10) } })]);
      expect(dueVersions(planOf(history(), sec(70), policy))).toEqual([
        [1, 'staleAfter'],
        [2, 'staleAfter'],
      ]);
    });

    it('never touches versions in Production or Archived', () => {
      const plan = planOf(history(), day(100), policy);
      expect(plan.due.map((c) => c.version)).toEqual([1, 2]);
      expect(plan.upcoming).toEqual([]);
    });

    it('spares a version with an approval pending, until the approval is decided', () => {
      const h = history().at(sec(30)).requestApproval(2, 'a-1');
      expect(planOf(h, sec(100), policy).due.map((c) => c.version)).toEqual([1]);
      expect(planOf(h, sec(100), policy).protected).toContainEqual(expect.objectContaining({ version: 2, reason: 'approval-pending' }));
      h.at(sec(200)).approvalClosed(2, 'a-1', 'ApprovalRejected');
      expect(planOf(h, sec(200), policy).due.map((c) => c.version)).toEqual([1, 2]);
    });
  });

  describe('keepAtMost', () => {
    /** v1 served, v2 serves since day 2 (v1 the rollback target), v3, v4, v5 registered on days 3, 4, 5. */
    const five = () => superseded().at(day(3)).register(3).at(day(4)).register(4).at(day(5)).register(5);

    it('keeps the K newest and archives the oldest other ones, skipping the serving version and the rollback target', () => {
      const plan = planOf(five(), day(6), { archival: { keepAtMost: 2 } });
      expect(plan.due).toEqual([
        {
          version: 3,
          rule: 'keepAtMost',
          parameters: { keepAtMost: 2 },
          evidence: { nonArchived: 5, kept: [4, 5], pushedOutBy: 5, pushedOutAt: day(5) },
          dueAt: day(5),
          detail: `v3 is older than the 2 newest non-archived versions (v4, v5) since v5 was registered (or restored) at ${day(5)}; keepAtMost 2`,
        },
      ]);
      expect(plan.protected.map((p) => [p.version, p.reason])).toEqual([
        [1, 'rollback-target'],
        [2, 'serving'],
      ]);
    });

    it('is due when the version that pushed it out was registered: at that very moment', () => {
      expect(planOf(five(), tickBefore(day(5)), { archival: { keepAtMost: 2 } }).due).toEqual([]);
      expect(planOf(five(), day(5), { archival: { keepAtMost: 2 } }).due).toEqual([expect.objectContaining({ version: 3, dueAt: day(5) })]);
    });

    it('archives the rollback target, oldest first, when keepRollbackTarget is false', () => {
      const plan = planOf(five(), day(6), { archival: { keepAtMost: 2, keepRollbackTarget: false } });
      expect(plan.due.map((c) => [c.version, c.dueAt])).toEqual([
        [1, day(3)],
        [3, day(5)],
      ]);
    });

    it('never archives one of the K newest, even when protected versions keep the count above K', () => {
      const history = new ModelHistory().register(1).promote(1).at(sec(5)).register(2);
      expect(planOf(history, day(1), { archival: { keepAtMost: 1 } }).due).toEqual([]);
    });

    it('does not count versions other rules archive now', () => {
      const history = new ModelHistory()
        .register(1)
        .at(day(2))
        .register(2)
        .at(day(3))
        .register(3)
        .at(day(15))
        .stage(1, 'Staging')
        .stage(3, 'Staging')
        .at(day(20))
        .register(4);
      const plan = planOf(history, day(20), { archival: { keepAtMost: 3, staleAfter: 'P10D' } });
      // v2 goes as stale; that leaves v1, v3 and v4: no more than 3.
      expect(dueVersions(plan)).toEqual([[2, 'staleAfter']]);
      expect(plan.due[0]?.dueAt).toBe(day(12));
    });

    it('ranks a version restored from Archived from its restoration, so it is not archived again at once', () => {
      const history = new ModelHistory()
        .register(1)
        .at(day(1))
        .register(2)
        .at(day(2))
        .archived(1, 'keepAtMost')
        .at(day(3))
        .stage(1, 'Staging')
        .at(day(4))
        .register(3);
      const plan = planOf(history, day(4), { archival: { keepAtMost: 2 } });
      expect(plan.due).toEqual([expect.objectContaining({ version: 2, dueAt: day(4), evidence: expect.objectContaining({ kept: [1, 3] }) })]);
    });
  });

  describe('never archived', () => {
    it('the serving version, a version with an approval pending or a deployment in flight, an archived one', () => {
      const history = new ModelHistory().register(1).promote(1).register(2).stage(2, 'Staging').requestApproval(2, 'a-2').register(3).stage(3, 'Staging');
      history.deploy(3);
      history.register(4).archived(4, 'staleAfter');
      const policy: ModelPolicy = { archival: { staleAfter: 'PT1S', keepAtMost: 1, liveMetric: { metric: 'accuracy', below: 0.8, for: 'PT1S' } } };
      const now = 30 * 86_400;
      const live = [1, 2, 3, 4].flatMap((v) =>
        samples(v, 'accuracy', [
          [now - 2, 0.1],
          [now - 1, 0.1],
        ]),
      );
      const plan = planOf(history, day(30), policy, live);
      expect(plan.due).toEqual([]);
      expect(plan.upcoming).toEqual([]);
      expect(plan.protected.map((p) => [p.version, p.reason])).toEqual([
        [1, 'serving'],
        [2, 'approval-pending'],
        [3, 'deployment-in-flight'],
      ]);
      expect(plan.breaches.map((b) => b.version)).toEqual([1]);
    });

    it('lists a version once, under the rule that is due first', () => {
      const history = superseded().at(day(3)).register(3).at(day(4)).register(4);
      const plan = planOf(history, day(5), { archival: { keepAtMost: 2, keepRollbackTarget: false, supersededAfter: 'P30D' } });
      expect(dueVersions(plan)).toEqual([[1, 'keepAtMost']]);
      expect(plan.upcoming).toEqual([]);
      const later = planOf(history, day(5), { archival: { supersededAfter: 'P1D', keepAtMost: 2, keepRollbackTarget: false } });
      expect(later.due).toEqual([expect.objectContaining({ version: 1, rule: 'supersededAfter', dueAt: day(3) })]);
    });
  });

  describe('liveMetric', () => {
    const rule: LiveMetricRule = { metric: 'accuracy', below: 0.8, for: 'PT10S' };
    /** v1 the rollback target, v2 serving since day 2, v3 a challenger in Staging since day 2. */
    const three = () => superseded().register(3).stage(3, 'Staging');
    const base = Date.parse(day(2)) / 1000 - Date.parse(sec(0)) / 1000;
    const at = (s: number) => sec(base + s);
    const points = (version: number, list: ReadonlyArray<readonly [number, number, number?]>) =>
      samples(version, 'accuracy', list.map(([s, value, count]) => [base + s, value, count] as const));
    const policy = (more: Partial<LiveMetricRule> = {}, archival: ModelPolicy['archival'] = {}): ModelPolicy => ({
      archival: { liveMetric: { ...rule, ...more }, ...archival },
    });

    it('archives nothing for a dip shorter than the window', () => {
      const live = points(3, [
        [10, 0.7],
        [15, 0.9],
      ]);
      for (const s of [12, 20, 25, 60]) {
        const plan = planOf(three(), at(s), policy(), live);
        expect(plan.due).toEqual([]);
      }
      expect(liveOnly(planOf(three(), at(60), policy(), live).upcoming)).toEqual([]);
    });

    it('archives a non-serving version whose metric stays beyond the threshold for the whole window, with the window as evidence', () => {
      const live = points(3, [
        [10, 0.7],
        [15, 0.5],
        [21, 0.65],
      ]);
      const before = planOf(three(), at(19), policy(), live);
      expect(before.due).toEqual([]);
      expect(liveOnly(before.upcoming)).toEqual([expect.objectContaining({ version: 3, rule: 'liveMetric', dueAt: at(20), evidence: { since: at(10) } })]);
      const plan = planOf(three(), at(20), policy(), live);
      const window = { from: at(10), to: at(20), for: 'PT10S', since: at(10), samples: 2, worst: 0.5, mean: 0.6 };
      expect(plan.due).toEqual([
        {
          version: 3,
          rule: 'liveMetric',
          parameters: { metric: 'accuracy', below: 0.8, for: 'PT10S', minSamples: 1 },
          evidence: { window, breachedAt: at(20) },
          dueAt: at(20),
          detail: `v3: accuracy stayed below 0.8 since ${at(10)}, for PT10S and more (2 samples from ${at(10)} to ${at(20)}, worst 0.5, mean 0.6)`,
        },
      ]);
      expect(plan.breaches).toEqual([]);
    });

    it('raises a breach for the serving version and archives nothing', () => {
      const live = points(2, [
        [10, 0.5],
        [18, 0.6],
      ]);
      expect(planOf(three(), at(19), policy(), live).upcomingBreaches).toEqual([{ version: 2, metric: 'accuracy', dueAt: at(20) }]);
      const plan = planOf(three(), at(20), policy({ rollback: true }), live);
      expect(plan.due).toEqual([]);
      expect(liveOnly(plan.upcoming)).toEqual([]);
      expect(plan.breaches).toEqual([
        {
          version: 2,
          metric: 'accuracy',
          direction: 'below',
          threshold: 0.8,
          rollback: true,
          breachedAt: at(20),
          window: { from: at(10), to: at(20), for: 'PT10S', since: at(10), samples: 2, worst: 0.5, mean: 0.55 },
          detail: `serving v2: accuracy stayed below 0.8 since ${at(10)}, for PT10S and more (2 samples from ${at(10)} to ${at(20)}, worst 0.5, mean 0.55)`,
        },
      ]);
      expect(planOf(three(), at(20), policy(), live).breaches[0]?.rollback).toBe(false);
    });

    it('rounds the numbers in the sentence for people, and keeps every digit in the evidence', () => {
      const live = points(3, [
        [10, 0.7],
        [15, 0.6],
      ]);
      const [candidate] = planOf(three(), at(20), policy(), live).due;
      expect(candidate?.detail).toContain('worst 0.6, mean 0.65)');
      expect(candidate?.evidence).toMatchObject({ window: { mean: (0.7 + 0.6) / 2 } });
      expect((0.7 + 0.6) / 2).not.toBe(0.65);
    });

    it('needs minSamples (counts summed) in the window', () => {
      const one = points(3, [[10, 0.7]]);
      expect(planOf(three(), at(20), policy({ minSamples: 2 }), one).due).toEqual([]);
      const counted = points(3, [[10, 0.7, 2]]);
      expect(planOf(three(), at(20), policy({ minSamples: 2 }), counted).due).toEqual([expect.objectContaining({ version: 3, rule: 'liveMetric' })]);
    });

    it('spares the rollback target unless keepRollbackTarget is false', () => {
      const live = points(1, [[10, 0.1]]);
      expect(planOf(three(), at(20), policy(), live).due).toEqual([]);
      expect(liveOnly(planOf(three(), at(19), policy(), live).upcoming)).toEqual([]);
      expect(planOf(three(), at(20), policy({}, { keepRollbackTarget: false }), live).due).toEqual([
        expect.objectContaining({ version: 1, rule: 'liveMetric', dueAt: at(20) }),
      ]);
    });

    it('reads the samples of the rule’s metric for each version', () => {
      const asked: Array<[number, string]> = [];
      archivalPlan(foldModelFacts('churn', three().events), (version, metric) => (asked.push([version, metric]), noSamples()), at(30), policy());
      expect(asked).toEqual([
        [2, 'accuracy'],
        [3, 'accuracy'],
      ]);
    });
  });

  it('plans with the policy given rather than the model’s own (a backtest, a preview of a proposal)', () => {
    const history = new ModelHistory().policy({ archival: { staleAfter: 'P100D' } }).register(1);
    expect(planOf(history, day(2)).due).toEqual([]);
    expect(planOf(history, day(2), { archival: { staleAfter: 'P1D' } }).due).toEqual([expect.objectContaining({ version: 1, rule: 'staleAfter' })]);
  });
});
