import type { LiveSample } from '../plan-archival';

/** The most samples one request may carry. */
export const MAX_BATCH = 10_000;
/** Metric names: letters, digits, `_ . : -` (Prometheus and scikit-learn names both fit). */
export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/;
/** How far ahead of the clock a sample may be stamped (clock skew between hosts). */
const FUTURE_SLACK_MS = 5 * 60_000;
const MAX_ERRORS = 20;

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a live-metrics batch as monitoring posts it — a JSON array of `{version, metric, value,
 * at, count?}` — against the model's registered versions and the clock. Either every sample is
 * good and they are returned, or the problems are (the batch is then refused whole).
 */
export const parseLiveMetricsBatch = (
  body: unknown,
  isVersion: (version: number) => boolean,
  now: Date,
): { readonly samples: LiveSample[] } | { readonly problems: FieldProblem[] } => {
  if (!Array.isArray(body)) return { problems: [{ field: 'body', message: 'must be a JSON array of {version, metric, value, at, count?}' }] };
  if (body.length === 0) return { problems: [{ field: 'body', message: 'must hold at least one sample' }] };
  if (body.length > MAX_BATCH) return { problems: [{ field: 'body', message: `holds ${body.length} samples; at most ${MAX_BATCH} per request` }] };
  const problems: FieldProblem[] = [];
  const samples: LiveSample[] = [];
  const latest = now.getTime() + FUTURE_SLACK_MS;
  body.forEach((item: unknown, i) => {
    if (problems.length >= MAX_ERRORS) return;
    const at = (field: string, message: string) => problems.push({ field: `[${i}].${field}`, message });
    if (!isRecord(item)) return void problems.push({ field: `[${i}]`, message: 'must be an object' });
    const { version, metric, value, count } = item;
    const when = item['at'];
    const before = problems.length;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) at('version', 'must be a positive integer');
    else if (!isVersion(version)) at('version', `version ${version} is not registered for this model`);
    if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) at('metric', 'must be a metric name (letters, digits, _ . : -; at most 128)');
    if (typeof value !== 'number' || !Number.isFinite(value)) at('value', 'must be a finite number');
    if (typeof when !== 'string' || !ISO_INSTANT.test(when) || Number.isNaN(Date.parse(when))) at('at', 'must be an ISO 8601 timestamp with a time zone');
    else if (Date.parse(when) > latest) at('at', 'is more than 5 minutes in the future');
    if (count !== undefined && (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > 1_000_000_000)) at('count', 'must be a positive integer');
    const unknown = Object.keys(item).filter((k) => !['version', 'metric', 'value', 'at', 'count'].includes(k));
    if (unknown.length > 0) at(unknown[0] as string, 'is not a field of a sample');
    if (problems.length === before) {
      samples.push({ version: version as number, metric: metric as string, value: value as number, at: new Date(Date.parse(when as string)).toISOString(), count: (count as number | undefined) ?? 1 });
    }
  });
  return problems.length > 0 ? { problems } : { samples };
};
