import { useState } from 'preact/hooks';
import { MrwApiError, type Deployment, type MrwApi } from '@mrw/client/browser';
import { useLiveReload } from '../live-updates/live-events';
import { useSession } from '../session/session';
import { DataTable, ErrorNotice, Loading, type Column } from '../shared/ui';
import { useLoad } from '../shared/use-load';
import { boardRows, boardTotals, type BoardChip, type BoardRow } from './board-rows';

const chipLabel = (model: string, chip: BoardChip): string =>
  [
    // The visible text ("v7") first, so the name people see is the name a screen reader says.
    `v${chip.version} of ${model}`,
    chip.serving && 'serving',
    chip.evaluation === 'running' && 'evaluation running',
    chip.evaluation === 'passed' && 'evaluation passed',
    chip.evaluation === 'failed' && 'evaluation failed its gates',
    chip.evaluation === 'error' && 'evaluation errored',
    chip.awaitingApproval && 'awaiting approval',
    chip.deploying && 'deploying',
  ]
    .filter(Boolean)
    .join(', ');

const Chip = ({ model, chip }: { model: string; chip: BoardChip }) => (
  <a
    href={`/models/${encodeURIComponent(model)}/versions/${chip.version}`}
    class={`vchip${chip.serving ? ' serving' : ''}${chip.evaluation === 'failed' || chip.evaluation === 'error' ? ' failing' : ''}`}
    aria-label={chipLabel(model, chip)}
    title={chipLabel(model, chip)}
    data-version={chip.version}
  >
    v{chip.version}
    {chip.serving && <span aria-hidden="true"> ★</span>}
    {chip.evaluation === 'running' && <span aria-hidden="true" class="spin"> ◔</span>}
    {chip.evaluation === 'passed' && <span aria-hidden="true"> ✓</span>}
    {(chip.evaluation === 'failed' || chip.evaluation === 'error') && <span aria-hidden="true"> ✗</span>}
    {chip.awaitingApproval && <span aria-hidden="true"> ◷</span>}
    {chip.deploying && <span aria-hidden="true"> ⇪</span>}
  </a>
);

const stageColumn = (stage: 'None' | 'Staging' | 'Production'): Column<BoardRow> => ({
  header: stage,
  data: { 'data-stage': stage },
  cell: (row) => (
    <div class="chips">
      {row.stages[stage].map((chip) => (
        <Chip key={chip.version} model={row.model} chip={chip} />
      ))}
    </div>
  ),
});

const servingCell = (row: BoardRow) => {
  const environments = Object.entries(row.environments);
  if (environments.length === 0) return row.servingVersion === null ? '—' : `v${row.servingVersion}`;
  return environments.map(([env, version]) => (
    <div key={env}>
      {env}: v{version}
    </div>
  ));
};

const BOARD_COLUMNS: ReadonlyArray<Column<BoardRow>> = [
  { header: 'Model', rowHeader: true, cell: (row) => <a href={`/models/${encodeURIComponent(row.model)}`}>{row.model}</a> },
  stageColumn('None'),
  stageColumn('Staging'),
  stageColumn('Production'),
  { header: 'Archived', numeric: true, cell: (row) => row.counts.Archived },
  { header: 'Serving', cell: servingCell },
];

/** The most recent succeeded deployments the deployer lists (in request order, 500 at most per page). */
const LATEST = 500;

/**
 * What the board needs from the deployer: the deployments in flight and the latest succeeded
 * ones. Where no deployer answers on this origin (a distributed suite without a route to it),
 * the board shows what the registry knows.
 */
const deploymentsForBoard = async (api: MrwApi): Promise<Deployment[]> => {
  try {
    const [requested, started, count] = await Promise.all([
      api.listDeployments({ status: 'requested', limit: LATEST }),
      api.listDeployments({ status: 'started', limit: LATEST }),
      api.listDeployments({ status: 'succeeded', limit: 1 }),
    ]);
    const succeeded = await api.listDeployments({ status: 'succeeded', limit: LATEST, offset: Math.max(0, count.total - LATEST) });
    return [...requested.items, ...started.items, ...succeeded.items];
  } catch (error) {
    if (error instanceof MrwApiError && error.status === 404) return [];
    throw error;
  }
};

/**
 * The stage board: every model with its versions by stage, what serves in each environment and
 * what is in flight, reloaded when an event arrives over the live stream.
 */
export const BoardPage = () => {
  const { api } = useSession();
  const [filter, setFilter] = useState('');
  const loaded = useLoad(async () => {
    const [board, deployments] = await Promise.all([api.board(), deploymentsForBoard(api)]);
    return { board, deployments };
  }, [api]);
  useLiveReload(loaded.reload);

  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what="the stage board" />;
  const rows = boardRows(loaded.data.board, loaded.data.deployments, filter);
  const totals = boardTotals(rows);
  return (
    <>
      <header class="page-head">
        <h1>Stage board</h1>
        <label class="inline">
          Filter models <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        </label>
      </header>
      <ErrorNotice error={loaded.error} />
      <ul class="totals" aria-label="Totals">
        <li>
          <strong>{rows.length}</strong> models
        </li>
        {(['None', 'Staging', 'Production', 'Archived'] as const).map((s) => (
          <li key={s}>
            <strong>{totals[s]}</strong> {s}
          </li>
        ))}
        <li>
          <strong>{totals.evaluating}</strong> evaluating
        </li>
        <li>
          <strong>{totals.awaitingApproval}</strong> awaiting approval
        </li>
        <li>
          <strong>{totals.deploying}</strong> deploying
        </li>
      </ul>
      <p class="muted legend">
        ★ serving · ◔ evaluating · ✓/✗ evaluation passed/failed · ◷ awaiting approval · ⇪ deploying
      </p>
      <DataTable label="Stage board" className="board" columns={BOARD_COLUMNS} rows={rows} rowKey={(r) => r.model} rowData={(r) => ({ 'data-model': r.model })} />
      {rows.length === 0 && <p class="muted">No models{filter ? ` match “${filter}”` : ' yet: register one with mrw or the API'}.</p>}
    </>
  );
};
