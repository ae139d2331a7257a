// The 12-month revenue trend as a small inline SVG (bars, the latest month stressed).
import { formatMoney, formatMonth, t } from '../i18n';
import { svg } from './dom';

const W = 320;
const H = 132;
const TOP = 18;
const BOTTOM = 20;

export function revenueChart(months: readonly { month: string; cents: number }[]): SVGSVGElement {
  const max = Math.max(1, ...months.map((m) => m.cents));
  const n = Math.max(1, months.length);
  const slot = W / n;
  const barWidth = Math.max(4, slot * 0.62);
  const plot = H - TOP - BOTTOM;
  const first = months[0]?.month ?? '';
  const last = months[months.length - 1]?.month ?? '';
  const label = t('acct.revenueChart', { from: formatMonth(first), to: formatMonth(last), max: formatMoney(max) });

  const bars = months.map((m, i) => {
    const height = m.cents > 0 ? Math.max(2, (m.cents / max) * plot) : 0;
    return svg(
      'rect',
      {
        class: i === months.length - 1 ? 'bar bar-last' : 'bar',
        x: (i * slot + (slot - barWidth) / 2).toFixed(1),
        y: (TOP + plot - height).toFixed(1),
        width: barWidth.toFixed(1),
        height: height.toFixed(1),
        rx: 2,
      },
      svg('title', null, `${formatMonth(m.month)}: ${formatMoney(m.cents)}`),
    );
  });
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, testid: 'revenue-chart' },
    svg('line', { class: 'chart-axis', x1: 0, x2: W, y1: TOP + plot + 0.5, y2: TOP + plot + 0.5 }),
    svg('line', { class: 'chart-grid', x1: 0, x2: W, y1: TOP + 0.5, y2: TOP + 0.5 }),
    svg('text', { class: 'chart-label', x: 2, y: TOP - 5 }, formatMoney(max, true)),
    bars,
    svg('text', { class: 'chart-label', x: 2, y: H - 5 }, formatMonth(first)),
    svg('text', { class: 'chart-label', x: W - 2, y: H - 5, 'text-anchor': 'end' }, formatMonth(last)),
  );
}
