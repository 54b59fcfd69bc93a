import Table from 'cli-table3';

/** Plain, column-aligned tables (no borders, no colours): readable in a terminal and in a CI log, greppable. */
export const table = (head: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string => {
  if (rows.length === 0) return '(none)';
  const t = new Table({
    head: [...head],
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '',
    },
  });
  for (const row of rows) t.push(row.map(cell));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
};

/** `key  value` lines, keys aligned. */
export const fields = (entries: ReadonlyArray<readonly [string, unknown]>): string => {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
};

export const cell = (value: unknown): string => {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return Array.isArray(value) ? (value as unknown[]).map(cell).join(', ') || '-' : entries.map(([k, v]) => `${k}=${cell(v)}`).join(', ') || '-';
  }
  return String(value);
};

export const shortHash = (hash: string | null | undefined): string => (hash ? hash.replace(/^sha256:/, '').slice(0, 12) : '-');

export const bytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
};

export const actor = (a: { kind: string; id: string } | string | null | undefined): string =>
  a === null || a === undefined ? '-' : typeof a === 'string' ? a : `${a.kind === 'service' ? 'service:' : ''}${a.id}`;

const KEY_METRICS = ['accuracy', 'f1', 'roc_auc', 'rmse', 'mae', 'r2'];

/** The few metrics people look at first, those of them an evaluation has. */
export const keyMetrics = (metrics: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(KEY_METRICS.filter((n) => typeof metrics[n] === 'number').map((n) => [n, metrics[n] as number]));
