import { escalationAt, nextReminderAt, parseIsoDuration } from './follow-up-times';

const REQUESTED = '2026-03-02T09:00:00.000Z';
const EXPIRES = '2026-03-03T09:00:00.000Z'; // P1D later

/** The reminders a request gets when each one fires at `firedAt(due)`: the handler's chain, driven by a controlled clock. */
const reminderChain = (every: string, firedAt: (due: Date) => Date = (due) => due): string[] => {
  const times: string[] = [];
  let due = nextReminderAt(REQUESTED, every, EXPIRES);
  while (due && times.length < 100) {
    times.push(due.toISOString());
    const now = firedAt(due);
    due = nextReminderAt(REQUESTED, every, EXPIRES, new Date(Math.max(due.getTime(), now.getTime())).toISOString());
  }
  return times;
};

describe('follow-up times', () => {
  it('parses the ISO 8601 durations policies allow, and refuses others', () => {
    expect(parseIsoDuration('P1D')).toBe(86_400_000);
    expect(parseIsoDuration('PT6H')).toBe(6 * 3_600_000);
    expect(parseIsoDuration('P1W')).toBe(7 * 86_400_000);
    expect(parseIsoDuration('PT1M30S')).toBe(90_000);
    expect(parseIsoDuration('P')).toBeUndefined();
    expect(parseIsoDuration('PT')).toBeUndefined();
    expect(parseIsoDuration('P1M')).toBeUndefined(); // months have no fixed length
    expect(parseIsoDuration('6h')).toBeUndefined();
  });

  it('reminds at every multiple of remindEvery after the request, and stops before the expiry', () => {
    expect(reminderChain('PT6H')).toEqual(['2026-03-02T15:00:00.000Z', '2026-03-02T21:00:00.000Z', '2026-03-03T03:00:00.000Z']);
    // A reminder that would fall at the expiry itself is not sent: the request is over then.
    expect(reminderChain('PT8H')).toEqual(['2026-03-02T17:00:00.000Z', '2026-03-03T01:00:00.000Z']);
    expect(reminderChain('P2D')).toEqual([]);
  });

  it('skips the reminders a downtime missed instead of sending them in a burst', () => {
    // The first reminder fires 13 hours late (the service was down): the next is the next multiple after now.
    const late = (due: Date): Date => (due.toISOString() === '2026-03-02T15:00:00.000Z' ? new Date(Date.parse('2026-03-03T04:00:00.000Z')) : due);
    expect(reminderChain('PT6H', late)).toEqual(['2026-03-02T15:00:00.000Z']);
    expect(nextReminderAt(REQUESTED, 'PT6H', EXPIRES, '2026-03-02T22:30:00.000Z')?.toISOString()).toBe('2026-03-03T03:00:00.000Z');
  });

  it('has no reminder for a malformed or empty duration', () => {
    expect(nextReminderAt(REQUESTED, 'PT0S', EXPIRES)).toBeUndefined();
    expect(nextReminderAt(REQUESTED, 'soon', EXPIRES)).toBeUndefined();
  });

  it('escalates half-way between the request and its expiry', () => {
    expect(escalationAt(REQUESTED, EXPIRES)?.toISOString()).toBe('2026-03-02T21:00:00.000Z');
    expect(escalationAt(REQUESTED, '2026-03-09T09:00:00.000Z')?.toISOString()).toBe('2026-03-05T21:00:00.000Z');
    expect(escalationAt(EXPIRES, REQUESTED)).toBeUndefined();
  });
});
