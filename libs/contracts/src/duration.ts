const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Milliseconds of an ISO 8601 duration with weeks, days, hours, minutes, seconds (`P3D`,
 * `PT12H`, `PT0.5S`): the durations policies and settings use. Undefined when malformed.
 */
export const parseDuration = (text: string): number | undefined => {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, m, s] = match;
  const n = (part: string | undefined): number => (part ? Number(part) : 0);
  return ((((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(m)) * 60 + n(s)) * 1000;
};
