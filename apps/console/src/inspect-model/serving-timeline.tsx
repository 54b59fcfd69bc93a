import * as Plot from '@observablehq/plot';
import type { ServingPeriod } from '@mrw/client/browser';
import { formatTime } from '../shared/format';
import { PlotFigure } from '../shared/plot-figure';
import { DataTable } from '../shared/ui';

/** The serving history as periods: each version from when it started serving until the next one did (or now). */
export const servingPeriods = (history: readonly ServingPeriod[], now: Date) =>
  history.map((p, i) => ({
    version: `v${p.version}`,
    from: new Date(p.since),
    to: i + 1 < history.length ? new Date(history[i + 1]!.since) : now,
    current: i + 1 === history.length,
    deploymentId: p.deploymentId,
  }));
type Period = ReturnType<typeof servingPeriods>[number];

/** "What served when": a timeline, and the same periods as a table. */
export const ServingTimeline = ({ history, asOf }: { history: readonly ServingPeriod[]; asOf?: string | undefined }) => {
  if (history.length === 0) return <p class="muted">No version has served yet.</p>;
  const now = asOf ? new Date(asOf) : new Date();
  const periods = servingPeriods(history, now);
  return (
    <>
      <PlotFigure
        label={`Serving timeline: ${periods.map((p) => `${p.version} from ${p.from.toISOString()}`).join('; ')}`}
        deps={[history, asOf]}
        render={() =>
          Plot.plot({
            width: 720,
            height: Math.max(90, new Set(periods.map((p) => p.version)).size * 30 + 50),
            marginLeft: 48,
            x: { type: 'time', label: null },
            y: { label: null, domain: [...new Set(periods.map((p) => p.version))].reverse() },
            marks: [Plot.barX(periods, { x1: 'from', x2: 'to', y: 'version', fill: '#1d5fd1', title: (p: { version: string; from: Date }) => `${p.version} from ${p.from.toLocaleString()}` }), Plot.ruleX([now], { stroke: '#c2410c' })],
          })
        }
      />
      <DataTable
        label="Serving history"
        columns={[
          { header: 'Version', rowHeader: true, cell: (p: Period) => p.version },
          { header: 'Served from', cell: (p: Period) => formatTime(p.from.toISOString()) },
          { header: 'Until', cell: (p: Period) => (p.current ? (asOf ? `(as of ${formatTime(asOf)})` : 'now') : formatTime(p.to.toISOString())) },
        ]}
        rows={periods.slice().reverse()}
        rowKey={(p) => `${p.deploymentId}-${p.from.toISOString()}`}
      />
    </>
  );
};
