import { useState } from 'preact/hooks';
import type { Approval } from '@mrw/client/browser';
import { useLiveReload } from '../live-updates/live-events';
import { useSession } from '../session/session';
import { formatActor, formatTime, shortHash } from '../shared/format';
import { Badge, ErrorNotice, Loading, PassMark } from '../shared/ui';
import { useLoad } from '../shared/use-load';

const Decide = ({ approval, onDecided }: { approval: Approval; onDecided: () => void }) => {
  const { api } = useSession();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const decide = async (verdict: 'approve' | 'reject') => {
    setBusy(true);
    setError(undefined);
    try {
      // The same rules and error codes as the API: the console only carries the decision.
      await (verdict === 'approve' ? api.approve(approval.id, comment) : api.reject(approval.id, comment));
      onDecided();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const field = `comment-${approval.id}`;
  return (
    <div class="decide">
      <label for={field}>Comment</label>
      <textarea id={field} rows={2} value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => decide('reject')}>
          Reject
        </button>
      </div>
      <ErrorNotice error={error} />
    </div>
  );
};

/** Pending approvals this token may decide, with the evidence, approve or reject with a comment. */
export const InboxPage = () => {
  const { api, can } = useSession();
  const loaded = useLoad(() => api.listApprovals({ status: 'pending', ...(can('reviewer') ? { reviewer: 'me' as const } : {}), limit: 200 }), [api]);
  useLiveReload(loaded.reload, (e) => e.type.startsWith('Approval') || e.type === 'StageTransitionRequested' || e.type === 'RollbackRequested');
  if (!loaded.data) return loaded.error ? <ErrorNotice error={loaded.error} /> : <Loading what="the approvals inbox" />;
  const items = loaded.data.items;
  return (
    <>
      <header class="page-head">
        <h1>Approvals inbox</h1>
        <Badge tone={items.length > 0 ? 'busy' : 'muted'}>{items.length} pending</Badge>
      </header>
      <ErrorNotice error={loaded.error} />
      {!can('reviewer') && <p class="muted">Your token has no reviewer role: you see the pending approvals but cannot decide them.</p>}
      {items.length === 0 && <p class="muted">Nothing waits for you.</p>}
      <ul class="inbox">
        {items.map((a) => (
          <li key={a.id} class="card" data-approval={a.id}>
            <header class="card-head">
              <h2>
                <a href={`/models/${encodeURIComponent(a.model)}/versions/${a.version}`}>
                  {a.model} v{a.version}
                </a>{' '}
                → {a.targetStage} <span class="muted">({a.purpose}{a.afterTheFact ? ', after the fact' : ''})</span>
              </h2>
              <Badge tone="busy">
                {a.collected}/{a.required} approvals
              </Badge>
            </header>
            <p>
              Requested by {formatActor(a.requestedBy)} {formatTime(a.openedAt)}; expires {formatTime(a.expiresAt)}. Reviewers: {a.reviewers.join(', ')}.
            </p>
            {a.comment && <blockquote>{a.comment}</blockquote>}
            <p class="muted">
              Evidence: evaluation {String(a.evidence['evaluationId'] ?? '—')}, data set <code>{shortHash((a.evidence['datasetDigest'] as string | null) ?? null)}</code>, champion{' '}
              {a.evidence['championVersion'] === null || a.evidence['championVersion'] === undefined ? 'none' : `v${String(a.evidence['championVersion'])}`}
            </p>
            <ul class="checks">
              {a.checks.map((c, i) => (
                <li key={i}>
                  <PassMark passed={c.passed} /> {c.detail}
                </li>
              ))}
            </ul>
            {can('reviewer') && <Decide approval={a} onDecided={loaded.reload} />}
          </li>
        ))}
      </ul>
    </>
  );
};
