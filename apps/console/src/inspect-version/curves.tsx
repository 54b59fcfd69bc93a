import * as Plot from '@observablehq/plot';
import type { EvaluationDetails } from '@mrw/contracts';
import { PlotFigure } from '../shared/plot-figure';

type Curves = NonNullable<EvaluationDetails['curves']>;
interface Point {
  readonly model: string;
  readonly x: number;
  readonly y: number;
}

const pointsOf = (model: string, xs: readonly number[], ys: readonly number[]): Point[] => xs.map((x, i) => ({ model, x, y: ys[i] as number }));

/** Trapezoid area under a curve given in x order (the ROC's AUC; the PR curve's is shown as average precision by the evaluator's metrics). */
const area = (xs: readonly number[], ys: readonly number[]): number => {
  let sum = 0;
  for (let i = 1; i < xs.length; i += 1) sum += ((xs[i] as number) - (xs[i - 1] as number)) * (((ys[i] as number) + (ys[i - 1] as number)) / 2);
  return Math.abs(sum);
};

const chart = (title: string, x: string, y: string, points: readonly Point[], diagonal: boolean) =>
  Plot.plot({
    title,
    width: 360,
    height: 320,
    marginLeft: 48,
    grid: true,
    x: { domain: [0, 1], label: x },
    y: { domain: [0, 1], label: y },
    color: { legend: true, domain: ['candidate', 'champion'], range: ['#1d5fd1', '#c2410c'] },
    marks: [
      ...(diagonal ? [Plot.line([[0, 0], [1, 1]], { stroke: 'currentColor', strokeOpacity: 0.3, strokeDasharray: '4 4' })] : []),
      Plot.line(points, { x: 'x', y: 'y', stroke: 'model', strokeWidth: 2, curve: 'linear' }),
      Plot.frame(),
    ],
  });

/**
 * ROC and precision-recall curves of the candidate, with the champion's on the same rows when
 * there is one (binary tasks; the evaluator stores them downsampled with the evaluation).
 */
export const CurvesCharts = ({ curves, championCurves }: { curves: Curves; championCurves?: Curves | null | undefined }) => {
  const roc = [...pointsOf('candidate', curves.roc.fpr, curves.roc.tpr), ...(championCurves ? pointsOf('champion', championCurves.roc.fpr, championCurves.roc.tpr) : [])];
  const pr = [
    ...pointsOf('candidate', curves.pr.recall, curves.pr.precision),
    ...(championCurves ? pointsOf('champion', championCurves.pr.recall, championCurves.pr.precision) : []),
  ];
  const aucCandidate = area(curves.roc.fpr, curves.roc.tpr);
  const aucChampion = championCurves ? area(championCurves.roc.fpr, championCurves.roc.tpr) : null;
  return (
    <div class="charts">
      <figure>
        <PlotFigure
          label={`ROC curve: candidate AUC ${aucCandidate.toFixed(3)}${aucChampion === null ? '' : `, champion AUC ${aucChampion.toFixed(3)}`}`}
          render={() => chart('ROC curve', 'False positive rate →', '↑ True positive rate', roc, true)}
          deps={[curves, championCurves]}
        />
        <figcaption>
          ROC: candidate AUC {aucCandidate.toFixed(3)}
          {aucChampion !== null && <>, champion AUC {aucChampion.toFixed(3)}</>} ({curves.roc.fpr.length} points)
        </figcaption>
      </figure>
      <figure>
        <PlotFigure label="Precision-recall curve" render={() => chart('Precision–recall curve', 'Recall →', '↑ Precision', pr, false)} deps={[curves, championCurves]} />
        <figcaption>Precision–recall ({curves.pr.recall.length} points)</figcaption>
      </figure>
    </div>
  );
};
