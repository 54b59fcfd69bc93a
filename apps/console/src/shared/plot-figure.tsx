import { useEffect, useRef } from 'preact/hooks';

/**
 * Mounts an Observable Plot figure (an SVG, or a figure with its legend) and replaces it when
 * `deps` change. `label` names the chart for screen readers; pages put the numbers it draws in
 * a table beside it, so nothing is only a picture.
 */
export const PlotFigure = ({ render, deps, label }: { render: () => Element; deps: readonly unknown[]; label: string }) => {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const figure = render();
    // One image with one name: Plot's own labels on inner groups ("line", "frame") say nothing to a person.
    figure.querySelectorAll('[aria-label]').forEach((element) => element.removeAttribute('aria-label'));
    figure.setAttribute('role', 'img');
    figure.setAttribute('aria-label', label);
    host.current?.replaceChildren(figure);
    return () => figure.remove();
    // The caller lists what the figure depends on, as with useEffect.
  }, deps);
  return <div class="plot" ref={host} />;
};
