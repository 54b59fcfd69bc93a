import { useState } from 'preact/hooks';
import type { AuditSearchItem } from '@mrw/client/browser';
import { useSession } from '../session/session';
import { auditColumns } from '../inspect-version/audit-trail';
import { isoFromLocalInput } from '../shared/format';
import { DataTable, ErrorNotice, type Column } from '../shared/ui';

const where = (e: AuditSearchItem) =>
  !e.model ? (
    '—'
  ) : e.version !== null ? (
    <a href={`/models/${encodeURIComponent(e.model)}/versions/${e.version}`}>
      {e.model} v{e.version}
    </a>
  ) : (
    <a href={`/models/${encodeURIComponent(e.model)}`}>{e.model}</a>
  );

const SEARCH_COLUMNS: ReadonlyArray<Column<AuditSearchItem>> = [
  ...auditColumns<AuditSearchItem>((e) => (
    <>
      <strong>{e.type}</strong>
      {typeof e.data['comment'] === 'string' && e.data['comment'] !== '' ? <span class="muted"> “{e.data['comment']}”</span> : null}
    </>
  )),
  { header: 'Model', cell: where },
];

interface Filters {
  model: string;
  actor: string;
  type: string;
  since: string;
  until: string;
}

/** The audit trail across models: who did what, when, filtered by model, actor, event type and time. */
export const SearchAuditPage = () => {
  const { api } = useSession();
  const [filters, setFilters] = useState<Filters>({ model: '', actor: '', type: '', since: '', until: '' });
  const [items, setItems] = useState<readonly AuditSearchItem[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const query = (after?: number) => ({
    ...(filters.model ? { model: filters.model.trim() } : {}),
    ...(filters.actor ? { actor: filters.actor.trim() } : {}),
    ...(filters.type ? { type: filters.type.trim() } : {}),
    ...(isoFromLocalInput(filters.since) ? { since: isoFromLocalInput(filters.since) } : {}),
    ...(isoFromLocalInput(filters.until) ? { until: isoFromLocalInput(filters.until) } : {}),
    ...(after !== undefined ? { after } : {}),
    limit: 100,
  });
  const search = async (event?: Event, after?: number) => {
    event?.preventDefault();
    setError(undefined);
    try {
      const found = await api.searchAudit(query(after));
      setItems(after === undefined ? found.items : [...(items ?? []), ...found.items]);
      setNext(found.next);
    } catch (failure) {
      setError(failure);
    }
  };
  const set = (key: keyof Filters) => (e: Event) => setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value });
  const field = (key: keyof Filters, label: string) => (
    <label>
      {label}
      <input type="text" value={filters[key]} onInput={set(key)} />
    </label>
  );
  const when = (key: 'since' | 'until', label: string) => (
    <label>
      {label}
      <input type="datetime-local" step={1} value={filters[key]} onInput={set(key)} />
    </label>
  );
  return (
    <>
      <header class="page-head">
        <h1>Audit search</h1>
      </header>
      <form class="filters card" onSubmit={(e) => search(e)} aria-label="Audit filters">
        {field('model', 'Model')}
        {field('actor', 'Actor')}
        {field('type', 'Event type')}
        {when('since', 'Since')}
        {when('until', 'Until')}
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={error} />
      {items !== null && (
        <>
          <p role="status" class="muted">
            {items.length} events{next !== null ? ' (more below)' : ''}
          </p>
          <DataTable label="Audit events" className="audit" columns={SEARCH_COLUMNS} rows={items} rowKey={(e) => e.position} rowData={(e) => ({ 'data-type': e.type })} />
          {next !== null && (
            <button type="button" class="secondary" onClick={() => search(undefined, next)}>
              Load more
            </button>
          )}
        </>
      )}
    </>
  );
};
