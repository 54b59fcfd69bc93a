import type { LiveMetricRule } from '@mrw/contracts';
import { breachAt } from './live-metric-windows';
import { samples, sec, tickBefore } from './testing/model-history';

const accuracyBelow: LiveMetricRule = { metric: 'accuracy', below: 0.8, for: 'PT10S' };

describe('breachAt (is a live metric beyond its threshold for the whole window?)', () => {
  it('is not breached, and not due, without samples or when the latest sample is on the good side', () => {
    expect(breachAt([], accuracyBelow, sec(100))).toEqual({ breached: false, dueAt: null, since: null });
    const recovered = samples(1, 'accuracy', [
      [0, 0.7],
      [20, 0.9],
    ]);
    expect(breachAt(recovered, accuracyBelow, sec(100))).toEqual({ breached: false, dueAt: null, since: null });
  });

  it('is due `for` after the first sample of the run, and breached exactly then, not a tick before', () => {
    const run = samples(1, 'accuracy', [
      [0, 0.9],
      [5, 0.7],
      [8, 0.75],
    ]);
    expect(breachAt(run, accuracyBelow, sec(9))).toEqual({ breached: false, dueAt: sec(15), since: sec(5) });
    expect(breachAt(run, accuracyBelow, tickBefore(sec(15)))).toEqual({ breached: false, dueAt: sec(15), since: sec(5) });
    expect(breachAt(run, accuracyBelow, sec(15))).toMatchObject({ breached: true, firstBreachedAt: sec(15) });
  });

  it('archives nothing for a dip shorter than the window, at any moment', () => {
    const dip = samples(1, 'accuracy', [
      [0, 0.9],
      [5, 0.7],
      [9, 0.6],
      [14, 0.85],
      [30, 0.9],
    ]);
    for (let s = 0; s <= 40; s += 1) expect(breachAt(dip, accuracyBelow, sec(s)).breached).toBe(false);
    // Before the recovery is reported, the dip looked like it would last.
    expect(breachAt(dip, accuracyBelow, sec(13))).toEqual({ breached: false, dueAt: sec(15), since: sec(5) });
    expect(breachAt(dip, accuracyBelow, sec(14))).toEqual({ breached: false, dueAt: null, since: null });
  });

  it('ignores samples after now: they are not known yet', () => {
    const later = samples(1, 'accuracy', [
      [5, 0.7],
      [12, 0.95],
    ]);
    expect(breachAt(later, accuracyBelow, sec(11))).toEqual({ breached: false, dueAt: sec(15), since: sec(5) });
  });

  it('shows the window judged: from now − for to now, its sample count, worst value and count-weighted mean', () => {
    const run = samples(1, 'accuracy', [
      [0, 0.9],
      [2, 0.5, 1],
      [6, 0.7, 3],
      [9, 0.6, 1],
      [14, 0.75, 4],
    ]);
    const state = breachAt(run, accuracyBelow, sec(16));
    expect(state).toEqual({
      breached: true,
      firstBreachedAt: sec(12),
      window: { from: sec(6), to: sec(16), for: 'PT10S', since: sec(2), samples: 8, worst: 0.6, mean: (0.7 * 3 + 0.6 + 0.75 * 4) / 8 },
    });
  });

  it('judges `above` rules the other way, and a value equal to the threshold is not beyond it', () => {
    const latency: LiveMetricRule = { metric: 'p99_latency_ms', above: 250, for: 'PT10S' };
    const run = samples(1, 'p99_latency_ms', [
      [0, 250],
      [1, 300],
      [11, 280],
    ]);
    expect(breachAt(run, latency, sec(11))).toMatchObject({ breached: true, firstBreachedAt: sec(11), window: { since: sec(1), worst: 300, samples: 2 } });
    const atThreshold = samples(1, 'p99_latency_ms', [[0, 250]]);
    expect(breachAt(atThreshold, latency, sec(30))).toEqual({ breached: false, dueAt: null, since: null });
  });

  it('needs minSamples in the window, counts summed; a run old enough but too thin waits for samples (no due time)', () => {
    const rule: LiveMetricRule = { ...accuracyBelow, minSamples: 5 };
    const thin = samples(1, 'accuracy', [
      [0, 0.7, 2],
      [4, 0.7, 2],
    ]);
    expect(breachAt(thin, rule, sec(9))).toEqual({ breached: false, dueAt: sec(10), since: sec(0) });
    expect(breachAt(thin, rule, sec(10))).toEqual({ breached: false, dueAt: null, since: sec(0) });
    const filled = [...thin, ...samples(1, 'accuracy', [[12, 0.7, 3]])];
    // At 12 the window [2, 12] holds 2 + 3 samples: the one at 0 has left it.
    expect(breachAt(filled, rule, sec(12))).toMatchObject({ breached: true, firstBreachedAt: sec(12), window: { samples: 5 } });
    // Once the old ones leave the window it is too thin again.
    expect(breachAt(filled, rule, sec(15))).toEqual({ breached: false, dueAt: null, since: sec(0) });
  });

  it('holds with minSamples met exactly at the end of the window (both ends included)', () => {
    const rule: LiveMetricRule = { ...accuracyBelow, minSamples: 2 };
    const run = samples(1, 'accuracy', [
      [0, 0.7],
      [10, 0.7],
    ]);
    expect(breachAt(run, rule, sec(10))).toMatchObject({ breached: true, firstBreachedAt: sec(10), window: { from: sec(0), samples: 2 } });
  });

  it('ends a run at a moment with a good sample, even when a bad one has the same time', () => {
    const tie = [
      ...samples(1, 'accuracy', [
        [0, 0.7],
        [5, 0.7],
      ]),
      ...samples(1, 'accuracy', [[5, 0.9]]),
      ...samples(1, 'accuracy', [[7, 0.7]]),
    ];
    expect(breachAt(tie, accuracyBelow, sec(12))).toEqual({ breached: false, dueAt: sec(17), since: sec(7) });
    expect(breachAt([...tie].reverse(), accuracyBelow, sec(12))).toEqual({ breached: false, dueAt: sec(17), since: sec(7) });
  });

  it('reads only the rule’s metric', () => {
    const other = samples(1, 'recall', [[0, 0.1]]);
    expect(breachAt(other, accuracyBelow, sec(30))).toEqual({ breached: false, dueAt: null, since: null });
  });

  it('finds nothing with a rule it cannot read (a window that is no duration)', () => {
    const run = samples(1, 'accuracy', [[0, 0.1]]);
    expect(breachAt(run, { ...accuracyBelow, for: 'ten seconds' }, sec(30))).toEqual({ breached: false, dueAt: null, since: null });
  });
});
