import type { ComponentChildren } from 'preact';
import { MrwApiError, MrwConnectionError, type Stage } from '@mrw/client/browser';

export const STAGE_ORDER: readonly Stage[] = ['None', 'Staging', 'Production', 'Archived'];

/** A stage as a coloured chip; the word is always there, colour only repeats it. */
export const StageChip = ({ stage }: { stage: Stage }) => <span class={`chip stage-${stage.toLowerCase()}`}>{stage}</span>;

export const Badge = ({ tone, children, title }: { tone: 'ok' | 'bad' | 'busy' | 'info' | 'muted'; children: ComponentChildren; title?: string }) => (
  <span class={`badge ${tone}`} title={title}>
    {children}
  </span>
);

/** A pass/fail mark with its word, for checks. */
export const PassMark = ({ passed }: { passed: boolean }) => (
  <span class={`mark ${passed ? 'ok' : 'bad'}`}>
    <span aria-hidden="true">{passed ? '✓' : '✗'}</span> {passed ? 'pass' : 'fail'}
  </span>
);

/** What went wrong, in words a person can act on: the API's code and detail, and what to do next. */
export const describeError = (error: unknown): { title: string; detail: string; fields: ReadonlyArray<{ field: string; message: string }> } => {
  if (error instanceof MrwApiError) {
    const next =
      error.status === 401
        ? ' Sign in again with a valid token.'
        : error.status === 403
          ? ' Your token lacks the role or model scope for this; ask an admin.'
          : '';
    return { title: `${error.code} (${error.status})`, detail: `${error.detail}${next}`, fields: error.errors };
  }
  if (error instanceof MrwConnectionError) return { title: 'The registry cannot be reached', detail: 'Check that the suite is running, then try again.', fields: [] };
  return { title: 'Something went wrong', detail: error instanceof Error ? error.message : String(error), fields: [] };
};

export const ErrorNotice = ({ error }: { error: unknown }) => {
  if (error === undefined || error === null) return null;
  const { title, detail, fields } = describeError(error);
  return (
    <div class="notice bad" role="alert">
      <strong>{title}</strong>
      <p>{detail}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
};

export const Loading = ({ what }: { what: string }) => (
  <p class="muted" role="status">
    Loading {what}…
  </p>
);

export const Section = ({ title, children, id, actions }: { title: string; children: ComponentChildren; id?: string; actions?: ComponentChildren }) => (
  <section class="card" aria-labelledby={id ? `${id}-title` : undefined}>
    <header class="card-head">
      <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
      {actions}
    </header>
    {children}
  </section>
);

/** A wide table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export const TableScroll = ({ children, label }: { children: ComponentChildren; label: string }) => (
  <div class="table-scroll" role="region" aria-label={label} tabIndex={0}>
    {children}
  </div>
);

export interface Column<T> {
  readonly header: ComponentChildren;
  readonly cell: (row: T) => ComponentChildren;
  /** Right-aligned tabular figures. */
  readonly numeric?: boolean;
  /** The cell that names the row (`<th scope="row">`). */
  readonly rowHeader?: boolean;
  /** An attribute for tests and styles, e.g. `data-stage`. */
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * A table of rows by columns, in a region that scrolls sideways on a narrow screen: every
 * list in the console is one, so headers are scoped and rows named the same way everywhere.
 */
export const DataTable = <T,>({
  label,
  caption,
  columns,
  rows,
  rowKey,
  rowData,
  className,
}: {
  label: string;
  caption?: ComponentChildren;
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowData?: (row: T) => Readonly<Record<string, string>>;
  className?: string;
}) => (
  <TableScroll label={label}>
    <table class={className}>
      {caption && <caption>{caption}</caption>}
      <thead>
        <tr>
          {columns.map((c, i) => (
            <th scope="col" key={i}>
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} {...(rowData?.(row) ?? {})}>
            {columns.map((c, i) =>
              c.rowHeader ? (
                <th scope="row" key={i} {...(c.data ?? {})}>
                  {c.cell(row)}
                </th>
              ) : (
                <td key={i} class={c.numeric ? 'num' : undefined} {...(c.data ?? {})}>
                  {c.cell(row)}
                </td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  </TableScroll>
);

/** A status as a badge whose tone follows the usual words (succeeded/delivered/approved, failed/rejected, in flight). */
export const StatusBadge = ({ status }: { status: string }) => (
  <Badge tone={['succeeded', 'delivered', 'approved', 'active', 'HEALTHY'].includes(status) ? 'ok' : ['failed', 'rejected', 'expired', 'dead', 'FAILING', 'DISABLED'].includes(status) ? 'bad' : 'busy'}>
    {status}
  </Badge>
);
