import type { Board, Deployment, StageCounts, VersionSummary } from '@mrw/client/browser';

/** One version on the board, with what is in flight for it. */
export interface BoardChip {
  readonly version: number;
  readonly serving: boolean;
  readonly evaluation: 'running' | 'passed' | 'failed' | 'error' | null;
  readonly awaitingApproval: boolean;
  readonly deploying: boolean;
}

export interface BoardRow {
  readonly model: string;
  readonly servingVersion: number | null;
  readonly counts: StageCounts;
  readonly stages: Readonly<Record<'None' | 'Staging' | 'Production', readonly BoardChip[]>>;
  /** Deployed environments (from the deployer's record), e.g. `{production: 7, shadow: 9}`. */
  readonly environments: Readonly<Record<string, number>>;
}

const evaluationOf = (v: VersionSummary): BoardChip['evaluation'] => {
  const e = v.latestEvaluation;
  if (!e) return null;
  if (e.status === 'running') return 'running';
  if (e.status === 'failed') return 'error';
  return e.passed === false ? 'failed' : 'passed';
};

/**
 * The board's rows: one per model (those with no version yet too), its versions by stage, newest
 * first, marked with what is in flight: an evaluation, an approval, a deployment (requested or
 * started). `environments` is the last succeeded deployment per environment.
 */
export const boardRows = (board: Board, deployments: readonly Deployment[], filter = ''): BoardRow[] => {
  const wanted = filter.trim().toLowerCase();
  const deploying = new Set(deployments.filter((d) => d.status === 'requested' || d.status === 'started').map((d) => `${d.model}@${d.version}`));
  const environments = new Map<string, Record<string, { version: number; at: string }>>();
  for (const d of deployments) {
    if (d.status !== 'succeeded' || !d.environment) continue;
    const at = d.finishedAt ?? d.requestedAt;
    const envs = environments.get(d.model) ?? {};
    const known = envs[d.environment];
    if (!known || known.at < at) envs[d.environment] = { version: d.version, at };
    environments.set(d.model, envs);
  }
  const byModel = new Map<string, Record<'None' | 'Staging' | 'Production', BoardChip[]>>();
  for (const stage of ['None', 'Staging', 'Production'] as const) {
    for (const v of board[stage]) {
      const stages = byModel.get(v.model) ?? { None: [], Staging: [], Production: [] };
      stages[stage].push({
        version: v.version,
        serving: v.serving,
        evaluation: evaluationOf(v),
        awaitingApproval: v.pendingApproval !== null,
        deploying: deploying.has(`${v.model}@${v.version}`),
      });
      byModel.set(v.model, stages);
    }
  }
  return board.models
    .filter((m) => wanted === '' || m.name.toLowerCase().includes(wanted))
    .map((m) => {
      const stages = byModel.get(m.name) ?? { None: [], Staging: [], Production: [] };
      for (const chips of Object.values(stages)) chips.sort((a, b) => b.version - a.version);
      return {
        model: m.name,
        servingVersion: m.servingVersion,
        counts: m.counts,
        stages,
        environments: Object.fromEntries(Object.entries(environments.get(m.name) ?? {}).map(([env, { version }]) => [env, version])),
      };
    });
};

/** Totals over the rows shown: versions per stage and what is in flight. */
export const boardTotals = (rows: readonly BoardRow[]) => {
  const totals = { None: 0, Staging: 0, Production: 0, Archived: 0, evaluating: 0, awaitingApproval: 0, deploying: 0 };
  for (const row of rows) {
    for (const stage of ['None', 'Staging', 'Production', 'Archived'] as const) totals[stage] += row.counts[stage];
    for (const chips of Object.values(row.stages)) {
      for (const chip of chips) {
        if (chip.evaluation === 'running') totals.evaluating += 1;
        if (chip.awaitingApproval) totals.awaitingApproval += 1;
        if (chip.deploying) totals.deploying += 1;
      }
    }
  }
  return totals;
};
