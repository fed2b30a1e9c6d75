/**
 * Time series as plain SVG small multiples on one shared time axis (UTC ticks at round intervals), with the
 * record's triggering change and alert onset (computed once, in the projection) as labelled markers.
 */

import { IPlot, IRunDocument } from './document';
import { h, s, tip } from './dom';

const W = 560;
const H = 176;
const LABEL_ROW = 13;
const M = { top: 12 + 2 * LABEL_ROW, right: 12, bottom: 24, left: 52 };
const MAX_TICKS = 6;
const TICK_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** A moment drawn on every chart: the triggering change or the alert onset. */
export interface IMarker {
  kind: 'change' | 'onset';
  at: number; // ms since the epoch
  label: string;
  detail: string;
}

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

function clock(ms: number, withSeconds = false): string {
  return new Date(ms).toISOString().slice(11, withSeconds ? 19 : 16);
}

/** The value axis: from zero when the values come near it (a rate, a count), else from just under their
 * least, so a series that moves far from zero shows how it moves. */
export function valueRange(values: number[]): [number, number] {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = (high - low) * 0.05 || Math.abs(high) * 0.1 || 1;
  return low >= 0 && low <= 0.5 * high ? [0, high + pad] : [low - pad, high + pad];
}

/** The record's markers: the triggering change (if a tool result shows it), then the alert onset. */
export function markers(doc: IRunDocument): IMarker[] {
  const found: IMarker[] = [];
  const change = doc.trigger ?? null; // absent in records saved before the projection carried it
  if (change) {
    const which = change.basis === 'conclusion' ? 'change' : 'last change before onset';
    const at = change.at * 1000;
    found.push({
      kind: 'change',
      at,
      label: `${which} ${change.id ?? change.kind ?? ''} ${clock(at)}`.replace('  ', ' '),
      detail: `${change.what} · ${change.service ?? 'no service'} · step ${change.step}`
    });
  }
  const onset = doc.onset ?? null;
  if (onset) {
    const at = onset.at * 1000;
    found.push({
      kind: 'onset',
      at,
      label: `${onset.alert} onset ${clock(at)}`,
      detail: `alert ${onset.alert} on ${onset.service ?? 'no service'} · step ${onset.step ?? '?'}`
    });
  }
  return found;
}

/** The time range every chart shares: from the earliest to the latest point of any timed series. */
export function timeDomain(plots: IPlot[]): [number, number] | null {
  let low = Infinity;
  let high = -Infinity;
  for (const plot of plots) {
    for (const x of plot.x) {
      const t = toTime(x);
      if (!Number.isNaN(t)) {
        low = Math.min(low, t);
        high = Math.max(high, t);
      }
    }
  }
  return high > low ? [low, high] : null;
}

/** Ticks at a round interval (1 s … 1 day, UTC-aligned), at most `MAX_TICKS` of them, and that interval. */
export function timeTicks(x0: number, x1: number): [number[], number] {
  const span = (x1 - x0) / 1000;
  const step = (TICK_STEPS_S.find(st => span / st <= MAX_TICKS) ?? Math.ceil(span / MAX_TICKS / 86400) * 86400) * 1000;
  const ticks: number[] = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
    ticks.push(t);
  }
  return [ticks, step];
}

/** The chart of one series on the shared time axis `domain`, with `marks` drawn across it and labelled above
 * the plot area (one row each), so no label covers the data. */
export function chart(plot: IPlot, marks: IMarker[], domain: [number, number] | null): HTMLElement {
  const xs = plot.x.map(toTime);
  const timed = domain !== null && xs.every(x => !Number.isNaN(x));
  const px = timed ? xs : plot.x.map((_, i) => i);
  const ys = plot.y.filter((y): y is number => y !== null);
  const [x0, x1] = timed && domain ? domain : [Math.min(...px), Math.max(...px)];
  const [y0, y1] = valueRange(ys);
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
  const outside: string[] = [];
  if (timed) {
    const [ticks, step] = timeTicks(x0, x1);
    for (const t of ticks) {
      svg.appendChild(s('line', { x1: sx(t), y1: M.top, x2: sx(t), y2: H - M.bottom + 3, class: 'aura-Run-grid' }));
      svg.appendChild(s('text', { x: sx(t), y: H - 6, class: 'aura-Run-axis-text', 'text-anchor': 'middle' }, clock(t, step < 60_000)));
    }
    marks.forEach((mark, row) => {
      if (mark.at < x0 || mark.at > x1) {
        outside.push(`${mark.label} (outside the charted data)`);
        return;
      }
      const x = sx(mark.at);
      const right = x > W / 2;
      svg.appendChild(
        s(
          'g',
          { class: `aura-Run-marker aura-Run-${mark.kind}`, 'data-kind': mark.kind, 'data-at': mark.at },
          tip(`${mark.label}: ${mark.detail}`),
          s('line', { x1: x, y1: M.top - 2, x2: x, y2: H - M.bottom }),
          s(
            'text',
            { x: x + (right ? -3 : 3), y: 10 + row * LABEL_ROW, 'text-anchor': right ? 'end' : 'start' },
            mark.label
          )
        )
      );
    });
  }
  svg.appendChild(s('polyline', { points, class: 'aura-Run-line' }));
  const unit = plot.unit ? ` (${plot.unit})` : '';
  const where = plot.step !== null ? ` · step ${plot.step}` : '';
  const note = `${plot.y.length} points${plot.downsampled ? ', downsampled' : ''}${where}${timed ? ' · UTC' : ''}`;
  return h(
    'figure',
    'aura-Run-figure',
    h('figcaption', '', h('strong', '', plot.title + unit), ' ', h('span', 'aura-Run-muted', note)),
    svg,
    outside.length ? h('div', 'aura-Run-muted', outside.join('; ')) : null
  );
}
