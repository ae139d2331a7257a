// Trend charts with uPlot (a small canvas chart library), in its own chunk: only the dashboard loads
// it. The chart follows its box's width (a phone's 360 px or a desktop column); every chart also has
// a table view (work-screens.ts), which is what screen readers get.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLOURS = ['#1d6fb8', '#c05621', '#2f855a'];

export function drawChart(
  box: HTMLElement,
  labels: readonly string[],
  series: readonly (number | null)[][],
  names: readonly string[],
  format: (v: number | null) => string,
  /** counts: ticks on whole numbers only */
  integer = false,
): () => void {
  const xs = labels.map((_, i) => i);
  const width = () => Math.max(260, Math.floor(box.clientWidth || 320));
  const narrow = () => width() < 480;
  const opts: uPlot.Options = {
    width: width(),
    height: 200,
    legend: { show: true, live: false },
    cursor: { show: true, points: { show: true } },
    // From zero, with room above the highest point (a target dot at the top edge stays whole).
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 4] } },
    axes: [
      {
        values: (_u, splits) => splits.map((i) => {
          const label = labels[Math.round(i)] ?? '';
          return narrow() ? label.slice(-2) : label;
        }),
        space: narrow() ? 28 : 48,
        stroke: '#444',
        grid: { stroke: '#e5e5e5' },
      },
      {
        values: (_u, splits) => splits.map((v) => format(v)),
        // As wide as its longest label ("CN¥400K" in English, "¥40万" in Chinese).
        size: (_u, values) => Math.ceil(Math.max(36, ...(values ?? []).map((v) => String(v).length * 8.5)) + 24),
        stroke: '#444',
        grid: { stroke: '#e5e5e5' },
        ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000] } : {}),
      },
    ],
    series: [
      { label: '', value: (_u, v) => (v === null ? '' : labels[Math.round(v)] ?? '') },
      ...names.map((name, i) => ({
        label: name,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        dash: i > 0 ? [6, 4] : undefined,
        points: { show: true, size: 5 },
        value: (_u: uPlot, v: number | null) => format(v),
      })),
    ],
  };
  const data = [xs, ...series.map((s) => s.map((v) => (v === null ? null : v)))] as uPlot.AlignedData;
  const plot = new uPlot(opts, data, box);
  const observer = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.setSize({ width: width(), height: 200 })) : null;
  observer?.observe(box);
  return () => {
    observer?.disconnect();
    plot.destroy();
  };
}
