import { useState } from 'preact/hooks';
import type { VersionSummary } from '@mrw/client/browser';
import { useLiveReload } from '../live-updates/live-events';
import { useSession } from '../session/session';
import { formatTime, isoFromLocalInput } from '../shared/format';
import { Badge, DataTable, ErrorNotice, Loading, Section, StageChip, type Column } from '../shared/ui';
import { useLoad } from '../shared/use-load';
import { PolicyEditor } from './policy-editor';
import { ServingTimeline } from './serving-timeline';

const evaluationWord = (v: VersionSummary): string => {
  const e = v.latestEvaluation;
  if (e === null) return '—';
  if (e.status === 'running') return 'running';
  if (e.status === 'failed') return 'failed';
  return e.passed ? 'passed' : 'gates failed';
};

const versionColumns = (name: string): ReadonlyArray<Column<VersionSummary>> => [
  {
    header: 'Version',
    rowHeader: true,
    cell: (v) => (
      <>
        <a href={`/models/${encodeURIComponent(name)}/versions/${v.version}`}>v{v.version}</a> {v.serving && <Badge tone="ok">★ serving</Badge>}
      </>
    ),
  },
  { header: 'Stage', cell: (v) => <StageChip stage={v.stage} /> },
  { header: 'Evaluation', cell: evaluationWord },
  { header: 'Registered', cell: (v) => `${formatTime(v.registeredAt)} by ${v.registeredBy}` },
];

/** One model: versions, aliases, policy, what served when, and the same as of a past moment. */
export const ModelPage = ({ name }: { name: string }) => {
  const { api } = useSession();
  const [asOfInput, setAsOfInput] = useState('');
  const asOf = isoFromLocalInput(asOfInput);
  const loaded = useLoad(async () => {
    const [model, versions] = await Promise.all([api.getModel(name, asOf ? { asOf } : {}), api.listVersions(name, { limit: 500 })]);
    return { model, versions };
  }, [api, name, asOf]);
  useLiveReload(loaded.reload, (e) => e.model === name && !asOf);

  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what={name} />;
  const { model, versions } = loaded.data;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/">Board</a> › {name}
      </nav>
      <header class="page-head">
        <h1>{name}</h1>
        {model.servingVersion !== null && <Badge tone="ok">★ serving v{model.servingVersion}</Badge>}
        {Object.entries(model.aliases).map(([alias, v]) => (
          <Badge key={alias} tone="info">
            @{alias} → v{v}
          </Badge>
        ))}
      </header>
      <form class="time-travel" onSubmit={(e) => e.preventDefault()}>
        <label for="as-of">Show as of</label>
        <input id="as-of" type="datetime-local" step={1} value={asOfInput} onInput={(e) => setAsOfInput((e.target as HTMLInputElement).value)} />
        {asOf && (
          <button type="button" class="secondary" onClick={() => setAsOfInput('')}>
            Back to now
          </button>
        )}
        {asOf && (
          <span role="status" class="badge info">
            as of {formatTime(asOf)}
          </span>
        )}
      </form>
      <ErrorNotice error={loaded.error} />
      {model.description && <p>{model.description}</p>}
      {Object.keys(model.tags).length > 0 && (
        <p>
          {Object.entries(model.tags).map(([k, v]) => (
            <Badge key={k} tone="muted">
              {k}: {v}
            </Badge>
          ))}
        </p>
      )}

      <Section title="What served when" id="serving">
        <ServingTimeline history={model.servingHistory} asOf={asOf} />
      </Section>

      <Section title="Versions" id="versions">
        <DataTable label="Versions" columns={versionColumns(name)} rows={versions.items} rowKey={(v) => v.version} />
        {asOf && <p class="muted">The version list is today's; the model's serving history, aliases and policy above are as of the chosen moment.</p>}
      </Section>

      <Section title="Policy" id="policy">
        <PolicyEditor model={model} onSaved={loaded.reload} />
      </Section>
    </>
  );
};
