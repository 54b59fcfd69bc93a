const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO 8601 duration with weeks, days, hours, minutes, seconds (`P3D`, `PT12H`). */
export const parseDuration = (text: string): number | undefined => {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, m, s] = match;
  const n = (part: string | undefined): number => (part ? Number(part) : 0);
  return ((((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(m)) * 60 + n(s)) * 1000;
};

/** `at` plus an ISO 8601 duration, as an ISO timestamp. */
export const addDuration = (at: string, duration: string): string => {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new Error(`invalid duration ${duration}`);
  return new Date(Date.parse(at) + ms).toISOString();
};
