/** Pure formatting for the console's pages (tested in format.unit.spec.ts). */

/** A metric value as people read it: 4 significant digits, `—` when there is none. */
export const formatMetric = (value: number | null | undefined): string => {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : '−∞';
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
};

/** A difference with its sign, so "+0.012" and "−0.004" read at a glance. */
export const formatDifference = (value: number | null | undefined): string => {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const text = formatMetric(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : '0';
};

/** An ISO time in the reader's locale, to the second. */
export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
};

/** How long ago, coarsely ("just now", "5 min ago", "3 h ago", "2 d ago"). */
export const timeAgo = (iso: string | null | undefined, now = Date.now()): string => {
  if (!iso) return '—';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
};

/** The first characters of a digest or hash, without its algorithm prefix. */
export const shortHash = (hash: string | null | undefined, length = 12): string => {
  if (!hash) return '—';
  const bare = hash.includes(':') ? hash.slice(hash.indexOf(':') + 1) : hash;
  return bare.slice(0, length);
};

/** An actor as shown: `alice`, or `evaluator (service)`. */
export const formatActor = (actor: { readonly kind: string; readonly id: string } | null | undefined): string =>
  !actor ? '—' : actor.kind === 'service' ? `${actor.id} (service)` : actor.id;

/** Whether a confidence interval lies wholly on one side of zero. */
export const intervalSide = (ci: { readonly lower: number; readonly upper: number } | undefined): 'above' | 'below' | 'spans' | 'none' => {
  if (!ci) return 'none';
  if (ci.lower > 0) return 'above';
  if (ci.upper < 0) return 'below';
  return 'spans';
};

/** A `datetime-local` input's value (local time) as an ISO instant, or undefined when empty or invalid. */
export const isoFromLocalInput = (value: string): string | undefined => {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};
