/**
 * Time series as plain SVG line charts, with the alert onsets of the same service as dashed markers.
 */

import { IAlert, IPlot } from './document';
import { h, s, tip } from './dom';

const W = 560;
const H = 160;
const M = { top: 22, right: 12, bottom: 24, left: 52 };
const X_TICKS = 5;

/** Milliseconds since the epoch for an ISO string or epoch seconds/milliseconds; NaN when unknown. */
export function toTime(value: string | number): number {
  if (typeof value === 'number') {
    return value < 1e11 ? value * 1000 : value;
  }
  return Date.parse(value);
}

function label(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.01 || abs >= 1e6)) {
    return value.toExponential(1);
  }
  return Number(value.toPrecision(3)).toString();
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16) + 'Z';
}

/** The chart of one series; alerts whose service matches (or is unknown) are marked at their onset, labelled
 * above the plot area so the label never covers the data. */
export function chart(plot: IPlot, alerts: IAlert[]): HTMLElement {
  const xs = plot.x.map(toTime);
  const timed = xs.every(x => !Number.isNaN(x));
  const px = timed ? xs : plot.x.map((_, i) => i);
  const ys = plot.y.filter((y): y is number => y !== null);
  const x0 = Math.min(...px);
  const x1 = Math.max(...px);
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(...ys);
  const sx = (x: number): number => M.left + ((x - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const sy = (y: number): number => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const points = px
    .map((x, i) => [x, plot.y[i]] as const)
    .filter((p): p is readonly [number, number] => p[1] !== null)
    .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
    .join(' ');
  const svg = s('svg', { class: 'aura-Run-plot', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  svg.appendChild(s('line', { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom, class: 'aura-Run-axis-line' }));
  svg.appendChild(s('line', { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom, class: 'aura-Run-axis-line' }));
  for (const y of [y0, (y0 + y1) / 2, y1]) {
    svg.appendChild(s('text', { x: M.left - 6, y: sy(y) + 4, class: 'aura-Run-axis-text', 'text-anchor': 'end' }, label(y)));
  }
  if (timed) {
    for (let i = 0; i <= X_TICKS; i++) {
      const t = x0 + ((x1 - x0) * i) / X_TICKS;
      const anchor = i === 0 ? 'start' : i === X_TICKS ? 'end' : 'middle';
      svg.appendChild(s('line', { x1: sx(t), y1: H - M.bottom, x2: sx(t), y2: H - M.bottom + 3, class: 'aura-Run-axis-line' }));
      svg.appendChild(s('text', { x: sx(t), y: H - 6, class: 'aura-Run-axis-text', 'text-anchor': anchor }, clock(t)));
    }
    let labelled = false;
    for (const alert of alerts) {
      const t = toTime(alert.starts_at);
      if (Number.isNaN(t) || t < x0 || t > x1 || (alert.service && plot.service && alert.service !== plot.service)) {
        continue;
      }
      const right = sx(t) > W / 2;
      svg.appendChild(
        s(
          'g',
          { class: 'aura-Run-onset' },
          tip(`${alert.name ?? 'alert'} (${alert.severity ?? '?'}) from ${alert.starts_at}: ${alert.summary ?? ''}`),
          s('line', { x1: sx(t), y1: M.top - 4, x2: sx(t), y2: H - M.bottom }),
          labelled
            ? null
            : s(
                'text',
                { x: sx(t) + (right ? -3 : 3), y: M.top - 8, class: 'aura-Run-axis-text', 'text-anchor': right ? 'end' : 'start' },
                `${alert.name ?? 'alert'} onset ${clock(t)}`
              )
        )
      );
      labelled = true;
    }
  }
  svg.appendChild(s('polyline', { points, class: 'aura-Run-line' }));
  const unit = plot.unit ? ` (${plot.unit})` : '';
  const where = plot.step !== null ? ` · step ${plot.step}` : '';
  const note = `${plot.y.length} points${plot.downsampled ? ', downsampled' : ''}${where}`;
  return h('figure', 'aura-Run-figure', h('figcaption', '', h('strong', '', plot.title + unit), ' ', h('span', 'aura-Run-muted', note)), svg);
}
