import type { Deployment } from '@mrw/client/browser';
import { useLiveReload } from '../live-updates/live-events';
import { useSession } from '../session/session';
import { formatTime } from '../shared/format';
import { Badge, DataTable, ErrorNotice, Loading, StatusBadge, type Column } from '../shared/ui';
import { useLoad } from '../shared/use-load';

const COLUMNS: ReadonlyArray<Column<Deployment>> = [
  {
    header: 'Version',
    rowHeader: true,
    cell: (d) => (
      <a href={`/models/${encodeURIComponent(d.model)}/versions/${d.version}`}>
        {d.model} v{d.version}
      </a>
    ),
  },
  { header: 'Purpose', cell: (d) => d.purpose },
  { header: 'Environment', cell: (d) => d.environment ?? '—' },
  { header: 'Target', cell: (d) => d.target ?? '—' },
  { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
  { header: 'Requested', cell: (d) => formatTime(d.requestedAt) },
  { header: 'Finished', cell: (d) => formatTime(d.finishedAt) },
  { header: 'Endpoint or reason', cell: (d) => d.endpoint ?? d.reason ?? '—' },
];

/** Every deployment the deployer follows, newest first. */
export const DeploymentsPage = () => {
  const { api } = useSession();
  const loaded = useLoad(() => api.listDeployments({ limit: 500 }), [api]);
  useLiveReload(loaded.reload, (e) => e.type.startsWith('Deployment') || e.type === 'ServingEnded');
  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what="deployments" />;
  const items = [...loaded.data.items].sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : -1));
  return (
    <>
      <header class="page-head">
        <h1>Deployments</h1>
        <Badge tone="muted">{loaded.data.total}</Badge>
      </header>
      <ErrorNotice error={loaded.error} />
      <DataTable label="Deployments" columns={COLUMNS} rows={items} rowKey={(d) => d.id} rowData={(d) => ({ 'data-deployment': d.id })} />
      {items.length === 0 && <p class="muted">No deployment yet.</p>}
    </>
  );
};
