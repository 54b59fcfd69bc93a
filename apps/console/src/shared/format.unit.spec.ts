import { formatActor, formatDifference, formatMetric, intervalSide, isoFromLocalInput, shortHash, timeAgo } from './format';

describe('console formatting', () => {
  it('shows metrics to 4 significant digits, tiny ones in exponent form, missing ones as a dash', () => {
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(12345.678)).toBe('12350');
    expect(formatMetric(0.0000123)).toBe('1.23e-5');
    expect(formatMetric(Number.NaN)).toBe('—');
    expect(formatMetric(null)).toBe('—');
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe('+∞');
  });

  it('signs differences', () => {
    expect(formatDifference(0.0123)).toBe('+0.0123');
    expect(formatDifference(-0.004)).toBe('−0.004');
    expect(formatDifference(0)).toBe('0');
  });

  it('says how long ago, coarsely', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(timeAgo('2026-11-30T11:59:50Z', now)).toBe('just now');
    expect(timeAgo('2026-11-30T11:55:00Z', now)).toBe('5 min ago');
    expect(timeAgo('2026-11-30T09:00:00Z', now)).toBe('3 h ago');
    expect(timeAgo('2026-11-28T12:00:00Z', now)).toBe('2 d ago');
  });

  it('shortens digests without their algorithm, names services as such, reads interval sides', () => {
    expect(shortHash('sha256:0123456789abcdef0123')).toBe('0123456789ab');
    expect(formatActor({ kind: 'service', id: 'evaluator' })).toBe('evaluator (service)');
    expect(formatActor({ kind: 'user', id: 'rita' })).toBe('rita');
    expect(intervalSide({ lower: 0.01, upper: 0.03 })).toBe('above');
    expect(intervalSide({ lower: -0.03, upper: -0.01 })).toBe('below');
    expect(intervalSide({ lower: -0.01, upper: 0.02 })).toBe('spans');
    expect(intervalSide(undefined)).toBe('none');
  });

  it('reads a datetime-local value as an instant', () => {
    expect(isoFromLocalInput('')).toBeUndefined();
    expect(isoFromLocalInput('not a date')).toBeUndefined();
    expect(isoFromLocalInput('2026-11-30T10:00')).toBe(new Date('2026-11-30T10:00').toISOString());
  });
});
