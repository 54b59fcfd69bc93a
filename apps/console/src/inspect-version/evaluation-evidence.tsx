import * as Plot from '@observablehq/plot';
import { useState } from 'preact/hooks';
import type { Evaluation } from '@mrw/client/browser';
import { formatDifference, formatMetric, formatTime, intervalSide, shortHash } from '../shared/format';
import { PlotFigure } from '../shared/plot-figure';
import { Badge, DataTable, PassMark, TableScroll } from '../shared/ui';
import { CurvesCharts } from './curves';

/**
 * A confidence interval of a difference drawn around zero, scaled to its own row (metrics have
 * different units): what matters is which side of zero it lies on, coloured and said in words.
 */
const IntervalBar = ({ lower, upper }: { lower: number; upper: number }) => {
  const scale = Math.max(Math.abs(lower), Math.abs(upper), 1e-12);
  const x = (v: number) => 60 + (v / scale) * 55;
  const side = intervalSide({ lower, upper });
  return (
    <svg width="120" height="14" viewBox="0 0 120 14" aria-hidden="true" class={`ci ${side}`}>
      <line x1="60" x2="60" y1="0" y2="14" class="zero" />
      <line x1={x(lower)} x2={x(upper)} y1="7" y2="7" class="range" />
      <line x1={x(lower)} x2={x(lower)} y1="3" y2="11" class="range" />
      <line x1={x(upper)} x2={x(upper)} y1="3" y2="11" class="range" />
    </svg>
  );
};

const SIDE_WORDS = { above: 'higher than the champion', below: 'lower than the champion', spans: 'no clear difference', none: '' } as const;

const MetricsTable = ({ evaluation }: { evaluation: Evaluation }) => {
  const comparison = evaluation.comparison;
  const champion = evaluation.details?.championMetrics ?? {};
  const names = Object.keys(evaluation.metrics).sort();
  return (
    <TableScroll label="Metrics">
      <table class="metrics">
        <caption>
          Candidate{comparison ? ` vs champion v${comparison.championVersion}` : ''} on the same rows
          {comparison?.bootstrap ? ` (95% CI: paired bootstrap, ${comparison.bootstrap.resamples} resamples)` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Candidate</th>
            {comparison && <th scope="col">Champion</th>}
            {comparison && <th scope="col">Difference</th>}
            {comparison && <th scope="col">95% CI of the difference</th>}
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const m = comparison?.metrics[name];
            return (
              <tr key={name}>
                <th scope="row">
                  <code>{name}</code>
                </th>
                <td class="num">{formatMetric(evaluation.metrics[name])}</td>
                {comparison && <td class="num">{formatMetric(m?.champion ?? champion[name])}</td>}
                {comparison && <td class="num">{m ? formatDifference(m.difference) : '—'}</td>}
                {comparison && (
                  <td class="num">
                    {m?.ci ? (
                      <span class="ci-cell">
                        [{formatDifference(m.ci.lower)}, {formatDifference(m.ci.upper)}] <IntervalBar lower={m.ci.lower} upper={m.ci.upper} />
                        <span class="sr-only">{SIDE_WORDS[intervalSide(m.ci)]}</span>
                      </span>
                    ) : (
                      '—'
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableScroll>
  );
};

const ConfusionMatrix = ({ matrix }: { matrix: readonly (readonly number[])[] }) => {
  const max = Math.max(1, ...matrix.flat());
  return (
    <TableScroll label="Confusion matrix">
      <table class="confusion">
        <caption>Confusion matrix (rows: true class, columns: predicted class)</caption>
        <thead>
          <tr>
            <td />
            {matrix.map((_, j) => (
              <th scope="col" key={j}>
                predicted {j}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={i}>
              <th scope="row">true {i}</th>
              {row.map((n, j) => (
                <td key={j} class={`num cell ${i === j ? 'diagonal' : 'off'}`} style={{ '--share': String(n / max) }}>
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
};

type Slices = NonNullable<NonNullable<Evaluation['details']>['slices']>;
interface SliceRow {
  readonly group: string;
  readonly value: number;
  readonly count: number;
}

const SliceBars = ({ slices }: { slices: Slices }) => {
  const metrics = [...new Set(slices.flatMap((s) => Object.keys(s.metrics)))].sort();
  const [metric, setMetric] = useState(metrics.includes('accuracy') ? 'accuracy' : (metrics[0] ?? ''));
  const rows: SliceRow[] = slices.map((s) => ({ group: `${s.slice}=${s.group}`, value: s.metrics[metric] ?? Number.NaN, count: s.count }));
  return (
    <div>
      <label class="inline">
        Metric per slice{' '}
        <select value={metric} onChange={(e) => setMetric((e.target as HTMLSelectElement).value)}>
          {metrics.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <PlotFigure
        label={`${metric} per slice`}
        deps={[slices, metric]}
        render={() =>
          Plot.plot({
            width: 520,
            height: Math.max(80, rows.length * 28 + 40),
            marginLeft: 140,
            marginRight: 56,
            x: { label: `${metric} →`, grid: true },
            y: { label: null },
            marks: [Plot.barX(rows, { x: 'value', y: 'group', fill: '#1d5fd1' }), Plot.text(rows, { x: 'value', y: 'group', text: (d: { value: number }) => formatMetric(d.value), dx: 18 }), Plot.ruleX([0])],
          })
        }
      />
      <DataTable
        label="Slices"
        columns={[
          { header: 'Slice', rowHeader: true, cell: (r: SliceRow) => r.group },
          { header: 'Rows', numeric: true, cell: (r: SliceRow) => r.count },
          { header: metric, numeric: true, cell: (r: SliceRow) => formatMetric(r.value) },
        ]}
        rows={rows}
        rowKey={(r) => r.group}
      />
    </div>
  );
};

/** The evidence of one evaluation: data set, metrics beside the champion's, checks, matrix, curves, slices. */
export const EvaluationEvidence = ({ evaluation }: { evaluation: Evaluation }) => {
  const details = evaluation.details;
  return (
    <div class="evidence" data-evaluation={evaluation.id}>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          {evaluation.status === 'running' ? (
            <Badge tone="busy">
              running
              {evaluation.progress ? ` (${evaluation.progress.rowsDone}/${evaluation.progress.rowsTotal} rows)` : ''}
            </Badge>
          ) : evaluation.status === 'failed' ? (
            <Badge tone="bad">failed</Badge>
          ) : (
            <Badge tone={evaluation.verdict?.passed ? 'ok' : 'bad'}>{evaluation.verdict?.passed ? 'passed its gates' : 'failed its gates'}</Badge>
          )}
        </dd>
        <dt>Evaluation set</dt>
        <dd>
          {evaluation.set.name} <code title={String(evaluation.set.digest ?? '')}>{shortHash(evaluation.set.digest ?? null)}</code>
          {details ? `, ${details.rows} rows` : ''}
        </dd>
        <dt>Champion</dt>
        <dd>{evaluation.championVersion === null ? 'none served yet' : `v${evaluation.championVersion}`}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(evaluation.finishedAt)}</dd>
      </dl>
      {evaluation.status === 'failed' && (
        <p class="notice bad">
          {evaluation.code}: {evaluation.reason}
        </p>
      )}
      {evaluation.status === 'completed' && <MetricsTable evaluation={evaluation} />}
      {evaluation.verdict && (
        <TableScroll label="Gate checks">
          <table class="checks">
            <caption>Gate checks</caption>
            <tbody>
              {evaluation.verdict.checks.map((c, i) => (
                <tr key={i}>
                  <td>
                    <PassMark passed={c.passed} />
                  </td>
                  <td>
                    <code>{c.metric}</code> {c.rule}
                  </td>
                  <td>{c.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {details?.curves && <CurvesCharts curves={details.curves} championCurves={details.championCurves} />}
      {details?.confusionMatrix && <ConfusionMatrix matrix={details.confusionMatrix} />}
      {details?.slices && details.slices.length > 0 && <SliceBars slices={details.slices} />}
    </div>
  );
};
