/**
 * When reminders and the escalation of an open approval fall due: pure arithmetic on the
 * request's times, so a controlled clock in a test sees exactly what production does.
 */
import { parseDuration } from '@mrw/contracts';

/** Milliseconds of an ISO 8601 duration with weeks, days, hours, minutes and seconds (`P1D`, `PT4H`); undefined if malformed. */
export const parseIsoDuration = parseDuration;

/**
 * The first reminder due after `after` (exclusive): the next multiple of `remindEvery` counted
 * from `requestedAt`, or undefined when there is none before `expiresAt` (an expired request is
 * not remindable) or the duration is not a positive one.
 */
export const nextReminderAt = (requestedAt: string, remindEvery: string, expiresAt: string, after: string = requestedAt): Date | undefined => {
  const every = parseIsoDuration(remindEvery);
  const start = Date.parse(requestedAt);
  const end = Date.parse(expiresAt);
  if (every === undefined || every <= 0 || !Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  const since = Math.max(0, Date.parse(after) - start);
  const due = start + (Math.floor(since / every) + 1) * every;
  return due < end ? new Date(due) : undefined;
};

/** Half-way between the request and its expiry: when the escalation contact is told. */
export const escalationAt = (requestedAt: string, expiresAt: string): Date | undefined => {
  const start = Date.parse(requestedAt);
  const end = Date.parse(expiresAt);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return undefined;
  return new Date(start + Math.floor((end - start) / 2));
};
