import type { Board, Deployment, VersionSummary } from '@mrw/client/browser';
import { boardRows, boardTotals } from './board-rows';

const summary = (model: string, version: number, stage: VersionSummary['stage'], extra: Partial<VersionSummary> = {}): VersionSummary => ({
  model,
  version,
  stage,
  serving: false,
  source: 'artifacts://sha256/00',
  digest: null,
  tags: {},
  registeredBy: 'ana',
  registeredAt: '2026-11-30T10:00:00Z',
  updatedAt: '2026-11-30T10:00:00Z',
  latestEvaluation: null,
  pendingApproval: null,
  ...extra,
});
const counts = (None: number, Staging: number, Production: number, Archived: number) => ({ None, Staging, Production, Archived });
const deployment = (model: string, version: number, status: Deployment['status'], environment: string, finishedAt: string | null = null): Deployment => ({
  id: `${model}-${version}-${environment}`,
  model,
  version,
  environment,
  target: 'local',
  status,
  purpose: 'promotion',
  endpoint: null,
  requestedAt: '2026-11-30T10:00:00Z',
  startedAt: null,
  finishedAt,
  reason: null,
});

const board: Board = {
  counts: counts(1, 2, 2, 3),
  models: [
    { name: 'churn', servingVersion: 3, counts: counts(1, 1, 2, 3) },
    { name: 'fraud', servingVersion: null, counts: counts(0, 1, 0, 0) },
    { name: 'empty', servingVersion: null, counts: counts(0, 0, 0, 0) },
  ],
  None: [summary('churn', 6, 'None')],
  Staging: [
    summary('churn', 5, 'Staging', { latestEvaluation: { status: 'running', passed: null } }),
    summary('fraud', 1, 'Staging', { latestEvaluation: { status: 'completed', passed: false } }),
  ],
  Production: [summary('churn', 2, 'Production'), summary('churn', 3, 'Production', { serving: true, pendingApproval: null })],
};

describe('board rows', () => {
  it('puts every model on the board, its versions newest first by stage, with what is in flight', () => {
    const rows = boardRows(board, [deployment('churn', 4, 'started', 'production')]);
    expect(rows.map((r) => r.model)).toEqual(['churn', 'fraud', 'empty']);
    const churn = rows[0]!;
    expect(churn.stages.Production.map((c) => c.version)).toEqual([3, 2]);
    expect(churn.stages.Production[0]).toMatchObject({ serving: true });
    expect(churn.stages.Staging[0]).toMatchObject({ version: 5, evaluation: 'running' });
    expect(rows[1]!.stages.Staging[0]).toMatchObject({ evaluation: 'failed' });
    expect(rows[2]!.stages).toEqual({ None: [], Staging: [], Production: [] });
  });

  it('marks versions being deployed and names the last succeeded deployment per environment', () => {
    const rows = boardRows(board, [
      deployment('churn', 5, 'requested', 'production'),
      deployment('churn', 2, 'succeeded', 'production', '2026-11-29T10:00:00Z'),
      deployment('churn', 3, 'succeeded', 'production', '2026-11-30T09:00:00Z'),
      deployment('churn', 5, 'succeeded', 'shadow', '2026-11-30T09:30:00Z'),
    ]);
    expect(rows[0]!.stages.Staging[0]).toMatchObject({ version: 5, deploying: true });
    expect(rows[0]!.environments).toEqual({ production: 3, shadow: 5 });
  });

  it('filters by model name and totals what is shown', () => {
    const rows = boardRows(board, [], 'FRA');
    expect(rows.map((r) => r.model)).toEqual(['fraud']);
    expect(boardTotals(boardRows(board, []))).toMatchObject({ None: 1, Staging: 2, Production: 2, Archived: 3, evaluating: 1, awaitingApproval: 0 });
  });
});
