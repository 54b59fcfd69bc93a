import { useState } from 'preact/hooks';
import type { ModelVersion, Stage, VersionApproval, VersionDeployment } from '@mrw/client/browser';
import { useLiveReload } from '../live-updates/live-events';
import { useSession } from '../session/session';
import { formatActor, formatTime, shortHash } from '../shared/format';
import { Badge, DataTable, ErrorNotice, Loading, PassMark, Section, StageChip, StatusBadge, type Column } from '../shared/ui';
import { useLoad } from '../shared/use-load';
import { AuditTrail, ChainBadge } from './audit-trail';
import { EvaluationEvidence } from './evaluation-evidence';

/** Next stages a contributor may ask for, as the API's stage rules allow them. */
const NEXT: Readonly<Record<Stage, readonly Stage[]>> = { None: ['Staging', 'Archived'], Staging: ['Production', 'None', 'Archived'], Production: ['Archived'], Archived: ['Staging'] };

const APPROVAL_COLUMNS: ReadonlyArray<Column<VersionApproval>> = [
  { header: 'Status', cell: (a) => <StatusBadge status={a.status} /> },
  {
    header: 'Decisions',
    cell: (a) => (
      <>
        {a.approvals.map((d) => (
          <div key={d.at}>
            ✓ {formatActor(d.by)} {formatTime(d.at)} {d.comment && `“${d.comment}”`}
          </div>
        ))}
        {a.rejection && (
          <div>
            ✗ {formatActor(a.rejection.by)} {formatTime(a.rejection.at)} {a.rejection.comment && `“${a.rejection.comment}”`}
          </div>
        )}
      </>
    ),
  },
  { header: 'Expires', cell: (a) => formatTime(a.expiresAt) },
];

const DEPLOYMENT_COLUMNS: ReadonlyArray<Column<VersionDeployment>> = [
  { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
  { header: 'Environment', cell: (d) => d.environment ?? '—' },
  { header: 'Target', cell: (d) => d.target ?? '—' },
  { header: 'Endpoint or reason', cell: (d) => d.endpoint ?? d.reason ?? '—' },
];

const TransitionActions = ({ version, onDone }: { version: ModelVersion; onDone: () => void }) => {
  const { api, can } = useSession();
  const [error, setError] = useState<unknown>(undefined);
  const [said, setSaid] = useState('');
  if (!can('contributor')) return null;
  const ask = async (toStage: Stage) => {
    setError(undefined);
    setSaid('');
    try {
      const answer = await api.requestTransition(version.model, version.version, { toStage });
      setSaid(`${toStage} requested: ${answer.request?.status ?? 'done'}${answer.request?.reasons?.length ? ` (${answer.request.reasons.join('; ')})` : ''}`);
      onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div class="actions">
      {(NEXT[version.stage] ?? []).map((stage) => (
        <button key={stage} type="button" class="secondary" onClick={() => ask(stage)}>
          Request {stage}
        </button>
      ))}
      <p role="status" class="muted">
        {said}
      </p>
      <ErrorNotice error={error} />
    </div>
  );
};

/** One version: evidence, gates, approvals, deployments and the audit trail with its chain verified. */
export const VersionPage = ({ name, number }: { name: string; number: number }) => {
  const { api } = useSession();
  const loaded = useLoad(async () => {
    const [version, audit, verification] = await Promise.all([api.getVersion(name, number), api.versionAudit(name, number), api.verifyVersionAudit(name, number)]);
    return { version, audit, verification };
  }, [api, name, number]);
  useLiveReload(loaded.reload, (e) => e.model === name && (e.version === number || e.version === null || e.version === undefined));

  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what={`${name} v${number}`} />;
  const { version, audit, verification } = loaded.data;
  const latest = version.evaluations.at(-1);
  const request = [...version.requests].reverse().find((r) => (r.checks?.length ?? 0) > 0);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/">Board</a> › <a href={`/models/${encodeURIComponent(name)}`}>{name}</a> › v{number}
      </nav>
      <header class="page-head">
        <h1>
          {name} v{number}
        </h1>
        <StageChip stage={version.stage} />
        {version.serving && <Badge tone="ok">★ serving</Badge>}
        {version.aliases.map((a) => (
          <Badge key={a} tone="info">
            @{a}
          </Badge>
        ))}
      </header>
      <ErrorNotice error={loaded.error} />
      <dl class="facts">
        <dt>Source</dt>
        <dd>
          <code>{version.source}</code>
        </dd>
        <dt>Artifact digest</dt>
        <dd>
          <code title={version.digest ?? ''}>{shortHash(version.digest)}</code>
        </dd>
        <dt>Registered</dt>
        <dd>
          {formatTime(version.registeredAt)} by {formatActor(version.registeredBy)}
          {version.runId ? `, run ${version.runId}` : ''}
        </dd>
        <dt>In {version.stage} since</dt>
        <dd>{formatTime(version.stageSince)}</dd>
      </dl>
      {version.description && <p>{version.description}</p>}
      <TransitionActions version={version} onDone={loaded.reload} />

      <Section title="Evaluation evidence" id="evidence">
        {latest ? <EvaluationEvidence evaluation={latest} /> : <p class="muted">Not evaluated yet: it is evaluated on entering Staging when the model's policy names a set.</p>}
      </Section>

      {request && (
        <Section title={`Gates for ${request.toStage}`} id="gates">
          <p>
            Request by {formatActor(request.requestedBy)}, {formatTime(request.requestedAt)}: <strong>{request.status}</strong>
          </p>
          <ul class="checks">
            {request.checks?.map((c, i) => (
              <li key={i}>
                <PassMark passed={c.passed} /> {c.detail}
              </li>
            ))}
          </ul>
        </Section>
      )}

      <Section title="Approvals" id="approvals">
        {version.approvals.length === 0 ? (
          <p class="muted">None requested.</p>
        ) : (
          <DataTable label="Approvals" columns={APPROVAL_COLUMNS} rows={version.approvals} rowKey={(a) => a.id} />
        )}
      </Section>

      <Section title="Deployments" id="deployments">
        {version.deployments.length === 0 ? (
          <p class="muted">Never deployed.</p>
        ) : (
          <DataTable label="Deployments of this version" columns={DEPLOYMENT_COLUMNS} rows={version.deployments} rowKey={(d) => d.id} />
        )}
      </Section>

      <Section title="Audit trail" id="audit" actions={<ChainBadge verification={verification} />}>
        <AuditTrail events={audit.events} />
      </Section>
    </>
  );
};
