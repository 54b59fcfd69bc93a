import { addDuration, parseDuration } from './duration';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('parseDuration: ISO 8601 durations in weeks, days, hours, minutes, seconds', () => {
  it.each<[string, number]>([
    ['P3D', 3 * DAY],
    ['P7D', 7 * DAY],
    ['P1W', 7 * DAY],
    ['P1W2D', 9 * DAY],
    ['PT12H', 12 * HOUR],
    ['PT30M', 30 * 60_000],
    ['PT45S', 45_000],
    ['PT1.5S', 1_500],
    ['P1DT2H30M', DAY + 2.5 * HOUR],
    ['P0D', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['P', 'no amount at all'],
    ['PT', 'a time part without amounts'],
    ['P1DT', 'a dangling time designator'],
    ['3D', 'no P designator'],
    ['P1Y', 'years: their length varies'],
    ['P1M', 'months: their length varies (minutes need the T)'],
    ['P-1D', 'a negative amount'],
    ['p3d', 'lower case designators'],
    ['', 'an empty string'],
    ['three days', 'prose'],
  ])('refuses %s (%s)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('addDuration', () => {
  it('adds a duration to a timestamp', () => {
    expect(addDuration('2025-03-04T10:00:00.000Z', 'P3D')).toBe('2025-03-07T10:00:00.000Z');
    expect(addDuration('2025-03-04T10:00:00.000Z', 'PT12H')).toBe('2025-03-04T22:00:00.000Z');
  });

  it('counts days as 24 hours across a daylight-saving change (UTC has none)', () => {
    expect(addDuration('2025-03-29T12:00:00.000Z', 'P1D')).toBe('2025-03-30T12:00:00.000Z');
  });

  it('throws on a duration it cannot read: callers validate policies first', () => {
    expect(() => addDuration('2025-03-04T10:00:00.000Z', 'P1M')).toThrow('invalid duration P1M');
  });
});
