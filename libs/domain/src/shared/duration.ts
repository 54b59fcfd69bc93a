import { parseDuration } from '@mrw/contracts';

export { parseDuration };

/** `at` plus an ISO 8601 duration, as an ISO timestamp. */
export const addDuration = (at: string, duration: string): string => {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new Error(`invalid duration ${duration}`);
  return new Date(Date.parse(at) + ms).toISOString();
};
