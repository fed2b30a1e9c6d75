/**
 * The steps as a waterfall: one row per model turn or tool call on the run's time axis.
 * Clicking a row (or Enter/Space on it) expands what was asked and returned.
 */

import { IRunDocument, IStep, StepImage } from './document';
import { badge, h, num, seconds } from './dom';

const TICKS = 4;

function pre(label: string, text: string): HTMLElement {
  return h('div', 'aura-Run-detail-block', h('div', 'aura-Run-muted', label), h('pre', 'aura-Run-pre', text));
}

/** The raster types a record embeds; any other `src` is not rendered (never SVG: it can carry script). */
const IMAGE_SRC = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

/** A tool image embedded in the record, or a placeholder saying its type, size and why it is not shown. */
export function stepImage(image: StepImage): HTMLElement {
  const label = `image ${image.mime_type}, ${num(image.size)} bytes`;
  if (image.src && IMAGE_SRC.test(image.src)) {
    const img = h('img', 'aura-Run-image');
    img.src = image.src;
    img.alt = label;
    return h('div', 'aura-Run-detail-block', h('div', 'aura-Run-muted', label), img);
  }
  return h('div', 'aura-Run-detail-block aura-Run-image-placeholder', `[${label}: ${image.note ?? 'not shown'}]`);
}

/** The expanded detail of one step. */
export function stepDetail(step: IStep): HTMLElement {
  const tokens = `tokens in ${num(step.total_input_tokens)} (cache read ${num(step.cache_read_tokens)}, write ${num(
    step.cache_write_tokens
  )}) · out ${num(step.output_tokens)}`;
  const facts = [`${step.kind} · ${step.server || '—'}`, `start +${seconds(step.start_s)}`, `latency ${seconds(step.latency_s)}`];
  if (step.kind === 'model') {
    facts.push(tokens);
  }
  const parts: Array<HTMLElement | null> = [h('div', 'aura-Run-muted', facts.join(' · '))];
  if (step.kind === 'tool') {
    parts.push(pre('arguments', JSON.stringify(step.arguments ?? {}, null, 2)));
    const ref = step.result_ref ? ` · stored in the Scratchpad as ${step.result_ref}` : '';
    const cut = step.result_truncated ? ' (preview, truncated)' : '';
    parts.push(pre(`result · ${num(step.result_bytes ?? 0)} bytes${ref}${cut}`, step.result_preview ?? ''));
    parts.push(...(step.images ?? []).map(stepImage));
  } else {
    if (step.tool_requests && step.tool_requests.length) {
      parts.push(pre('tool calls requested', step.tool_requests.join('\n')));
    }
    if (step.text_preview) {
      parts.push(pre(step.text_truncated ? 'text (truncated)' : 'text', step.text_preview));
    }
  }
  if (step.error) {
    parts.push(pre(`error · ${step.error_type ?? 'error'}`, step.error));
  }
  return h('div', 'aura-Run-detail', ...parts);
}

function barClass(step: IStep): string {
  if (step.error) {
    return 'aura-Run-bar aura-Run-bar-error';
  }
  if (step.intercepted) {
    return 'aura-Run-bar aura-Run-bar-intercepted';
  }
  return `aura-Run-bar aura-Run-bar-${step.kind}`;
}

/** The time axis over the rows (`total` seconds). */
export function axis(total: number): HTMLElement {
  const track = h('div', 'aura-Run-track aura-Run-axis');
  for (let i = 0; i <= TICKS; i++) {
    const tick = h('span', 'aura-Run-tick', seconds((total * i) / TICKS));
    tick.style.left = `${(100 * i) / TICKS}%`;
    track.appendChild(tick);
  }
  return h('div', 'aura-Run-wf-row aura-Run-wf-head', h('span', '', '#'), h('span', '', 'agent'), h('span', '', 'step'), track, h('span', 'aura-Run-num', 'tokens'), h('span', 'aura-Run-num', 'latency'));
}

/** The end of the last step of `doc` (at least its duration): the span of the waterfall's time axis. */
export function span(doc: IRunDocument): number {
  return doc.steps.reduce((end, step) => Math.max(end, step.start_s + step.latency_s), doc.duration_s || 0);
}

/** One step as a row on a time axis of `total` seconds: number, agent, badges and name, bar, tokens, latency. */
export function stepRow(step: IStep, total: number): HTMLElement {
  const bar = h('div', barClass(step));
  const start = total > 0 ? (100 * step.start_s) / total : 0;
  bar.style.left = `${Math.min(100, start)}%`;
  bar.style.width = `${Math.max(0, Math.min(100 - start, total > 0 ? (100 * step.latency_s) / total : 0))}%`;
  // the badges come before the name, so a long name never hides them
  const flags = [
    step.error ? badge(step.error_type ?? 'error', 'failed') : null,
    step.intercepted ? badge('scratchpad', 'intercepted') : null,
    step.replayed ? badge('replayed', 'pending') : null
  ];
  const line = h(
    'div',
    'aura-Run-wf-row aura-Run-clickable aura-Run-step',
    h('span', 'aura-Run-num', String(step.step)),
    h('span', 'aura-Run-ellipsis', step.agent),
    h('span', 'aura-Run-ellipsis', ...flags, flags.some(Boolean) ? ' ' : '', h('code', '', step.name)),
    h('div', 'aura-Run-track', bar),
    h('span', 'aura-Run-num', step.kind === 'model' ? `${num(step.total_input_tokens)}→${num(step.output_tokens)}` : ''),
    h('span', 'aura-Run-num', seconds(step.latency_s))
  );
  line.dataset.step = String(step.step);
  line.tabIndex = 0;
  line.setAttribute('role', 'button');
  line.setAttribute('aria-expanded', 'false');
  line.title = `step ${step.step}: ${step.kind} ${step.name} — click for details`;
  return line;
}

/** Run `action` when `line` is clicked, or on Enter or Space while it has the focus. */
export function onActivate(line: HTMLElement, action: () => void): void {
  line.addEventListener('click', action);
  line.addEventListener('keydown', event => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      action();
    }
  });
}

/** A row that expands its detail below itself when activated. */
function row(step: IStep, total: number): HTMLElement {
  const line = stepRow(step, total);
  let detail: HTMLElement | null = null;
  const toggle = (): void => {
    if (detail) {
      detail.remove();
      detail = null;
    } else {
      detail = stepDetail(step);
      line.after(detail);
    }
    line.setAttribute('aria-expanded', detail ? 'true' : 'false');
  };
  onActivate(line, toggle);
  return line;
}

/** Rows are added this many at a time, so a run of thousands of steps opens as fast as a short one. */
const PAGE = 200;

/** The waterfall of the steps of `doc`: the first `PAGE`, then more on request. */
export function waterfall(doc: IRunDocument): HTMLElement {
  const total = span(doc);
  const container = h('div', 'aura-Run-waterfall', axis(total));
  let shown = 0;
  const more = h('button', 'aura-Run-more');
  const showMore = (): void => {
    const next = doc.steps.slice(shown, shown + PAGE);
    more.before(...next.map(step => row(step, total)));
    shown += next.length;
    const left = doc.steps.length - shown;
    more.textContent = `show ${Math.min(left, PAGE)} more of ${left} remaining steps`;
    more.style.display = left > 0 ? '' : 'none';
  };
  more.addEventListener('click', showMore);
  container.append(more);
  const left = doc.totals.steps - doc.steps.length;
  if (left > 0) {
    const note = `${num(left)} of the run's ${num(doc.totals.steps)} steps are not in this record (it keeps the first and the last, and every failed, stored or cited one): the run directory holds them all`;
    container.append(h('div', 'aura-Run-muted', note));
  }
  showMore();
  return container;
}

/** Open step `number` in `container` (a `waterfall`), showing more rows until it is there; scroll to it. */
export function openStep(container: HTMLElement, number: number): void {
  const more = container.querySelector<HTMLButtonElement>('.aura-Run-more');
  let row = container.querySelector<HTMLElement>(`.aura-Run-step[data-step="${number}"]`);
  while (!row && more && more.style.display !== 'none') {
    more.click();
    row = container.querySelector<HTMLElement>(`.aura-Run-step[data-step="${number}"]`);
  }
  if (!row) {
    return;
  }
  if (row.getAttribute('aria-expanded') !== 'true') {
    row.click();
  }
  row.scrollIntoView({ block: 'center' });
}
