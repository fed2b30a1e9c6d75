/**
 * The notebook's live view of a run: the front end of the kernel's `RunView` anywidget. It draws the running
 * run with the record's own pieces (render.ts, the JupyterLab renderer's), so the live view and the record
 * look and read alike; only what is live is its own: the phase before the first step ("connecting to
 * servers…"), the latest steps in a scroll box that follows the newest one, and the selected step (reported to
 * the kernel as `selected`, the step a fork starts from) with its detail below the list.
 *
 * A part is redrawn only when what it draws changed, and an update never moves what the reader looks at: the
 * step list keeps its scroll position (and follows the end while it is scrolled there), and a part growing
 * above the part at the top of the view (the answer, the charts, the plan arriving) scrolls the page by as
 * much. JupyterLab's windowed notebook turns the browser's own scroll anchoring off, so this is explicit.
 */

import { IRunDocument } from './document';
import { h } from './dom';
import { answer, evidence, findings, header, metrics, notes, plan, scratchpad } from './render';
import { axis, onActivate, span, stepDetail, stepRow } from './waterfall';

/** The anywidget model: the kernel's `RunView` traits `document` (the run document as JSON text), `selected`,
 * `question`, `phase`. */
interface IModel {
  get(key: 'selected'): number;
  get(key: 'document' | 'question' | 'phase'): string;
  set(key: 'selected', value: number): void;
  on(event: string, handler: () => void): void;
  save_changes(): void;
}

/** The live view lists the latest steps; the record lists them all. */
export const LIVE_ROWS = 300;

/** A slot of the view holding one part, redrawn when its key (what the part draws) changes. */
class Slot {
  readonly node: HTMLElement = h('div', 'aura-Live-part');
  private key = '';

  /** Redraw with `draw()` when `key` differs from the last one drawn. */
  update(key: string, draw: () => Array<HTMLElement | null>): void {
    if (key === this.key) {
      return;
    }
    this.key = key;
    this.node.replaceChildren(...draw().filter((part): part is HTMLElement => part !== null));
  }
}

/** The element that scrolls `node` into view: the nearest scrolling ancestor, else the page. */
function scroller(node: HTMLElement): HTMLElement {
  for (let p = node.parentElement; p; p = p.parentElement) {
    const { overflowY } = getComputedStyle(p);
    if ((overflowY === 'auto' || overflowY === 'scroll') && p.scrollHeight > p.clientHeight) {
      return p;
    }
  }
  return (document.scrollingElement as HTMLElement | null) ?? document.documentElement;
}

/** Run `update`, which may grow any of `blocks` (in page order), without moving what the reader looks at:
 * the block at the top of the view stays where it is on screen. A reader at the top (or before the first
 * frame) sees the first block grow where it is. */
function keepInPlace(blocks: HTMLElement[], update: () => void): void {
  const box = scroller(blocks[0]);
  const page = box === document.scrollingElement || box === document.documentElement;
  const viewTop = page ? 0 : box.getBoundingClientRect().top;
  const drawn = blocks[0].childElementCount > 0;
  const anchor = drawn ? blocks.find(node => node.getBoundingClientRect().bottom > viewTop) : undefined;
  const before = anchor?.getBoundingClientRect().top ?? 0;
  update();
  if (!anchor || anchor === blocks[0]) {
    return;
  }
  const moved = anchor.getBoundingClientRect().top - before;
  if (Math.abs(moved) >= 1) {
    box.scrollTop += moved;
  }
}

function answered(doc: IRunDocument): boolean {
  return Boolean(doc.conclusion || doc.answer || doc.error || doc.clarification);
}

/** The latest steps as the record's rows, in a scroll box; the selected step's detail in a slot below it. */
class StepList {
  readonly list: HTMLElement = h('div', 'aura-Run-waterfall aura-Live-steps');
  readonly detail: HTMLElement = h('div', 'aura-Live-detail');
  private key = '';
  private shown = -1;

  constructor(private model: IModel) {}

  update(doc: IRunDocument): void {
    const selected = this.model.get('selected');
    const total = span(doc);
    const last = doc.steps[doc.steps.length - 1];
    const key = `${doc.totals.steps}:${last?.step ?? 0}:${total}:${selected}`;
    if (key !== this.key) {
      this.key = key;
      this.drawRows(doc, total, selected);
    }
    if (selected !== this.shown) {
      this.shown = selected;
      const chosen = doc.steps.find(st => st.step === selected);
      const hint = doc.steps.length ? 'click a step for its arguments and result (a fork starts after it)' : '';
      this.detail.replaceChildren(chosen ? stepDetail(chosen) : h('div', 'aura-Run-muted', hint));
      this.detail.dataset.step = chosen ? String(selected) : '';
    }
  }

  /** Open step `number` (an evidence or finding link): select it and bring it into view. */
  open(number: number): void {
    this.select(number, true);
    this.list.querySelector(`.aura-Run-step[data-step="${number}"]`)?.scrollIntoView({ block: 'nearest' });
  }

  private select(number: number, keep = false): void {
    this.model.set('selected', !keep && number === this.model.get('selected') ? 0 : number);
    this.model.save_changes();
  }

  private drawRows(doc: IRunDocument, total: number, selected: number): void {
    const list = this.list;
    const following = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    const kept = list.scrollTop;
    const steps = doc.steps.slice(-LIVE_ROWS);
    const rows = steps.map(step => {
      const line = stepRow(step, total);
      line.title = `step ${step.step}: ${step.kind} ${step.name} — click for details (a fork starts after it)`;
      if (step.step === selected) {
        line.classList.add('aura-Live-selected');
        line.setAttribute('aria-expanded', 'true');
      }
      onActivate(line, () => this.select(step.step));
      return line;
    });
    const earlier = doc.totals.steps - steps.length; // a long run's document keeps some of its steps
    list.replaceChildren(axis(total), ...(earlier > 0 ? [h('div', 'aura-Run-muted', `… ${earlier} earlier steps`)] : []), ...rows);
    list.scrollTop = following ? list.scrollHeight : kept;
  }
}

/** The status, question and totals; `phase` stands for the status until the first step. */
function top(doc: IRunDocument, model: IModel, steps: StepList): Array<HTMLElement | null> {
  const phase = model.get('phase');
  const shown = { ...doc, question: doc.question || model.get('question') };
  const status = phase && !doc.totals.steps ? phase : doc.status;
  return [header(shown, status), answered(doc) ? answer(doc) : null, evidence(doc, n => steps.open(n))];
}

function render({ model, el }: { model: IModel; el: HTMLElement }): void {
  const slots = { top: new Slot(), metrics: new Slot(), plan: new Slot(), pad: new Slot(), findings: new Slot(), notes: new Slot() };
  const steps = new StepList(model);
  const stepsPart = h('section', 'aura-Run-section aura-Live-part', h('h4', 'aura-Run-title', 'Steps'), steps.list, steps.detail);
  const order = [slots.top.node, slots.metrics.node, slots.plan.node, stepsPart, slots.pad.node, slots.findings.node, slots.notes.node];
  el.replaceChildren(h('div', 'aura-Run aura-Live tex2jax_ignore mathjax_ignore', ...order));

  let text = '';
  let doc = JSON.parse('{}') as IRunDocument;
  const draw = (): void => {
    if (model.get('document') !== text) {
      text = model.get('document');
      doc = JSON.parse(text) as IRunDocument;
    }
    if (!Array.isArray(doc.steps)) {
      return; // no document yet
    }
    const json = JSON.stringify;
    keepInPlace(order, () => {
      slots.top.update(
        json([doc.status, doc.question, doc.totals, doc.duration_s, doc.model, doc.run_id, doc.trace_id, doc.fork, doc.conclusion, doc.answer, doc.error, doc.clarification, model.get('phase'), model.get('question')]),
        () => top(doc, model, steps)
      );
      slots.metrics.update(json([doc.plots, doc.alerts, doc.onset, doc.trigger]), () => [metrics(doc)]);
      slots.plan.update(json([doc.plan, doc.agents]), () => [plan(doc)]);
      steps.update(doc);
      slots.pad.update(json(doc.scratchpad), () => [scratchpad(doc)]);
      slots.findings.update(json(doc.findings ?? []), () => [findings(doc, n => steps.open(n))]);
      slots.notes.update(json([doc.errors, doc.instructions]), () => [notes(doc)]);
    });
  };
  model.on('change:document', draw);
  model.on('change:selected', draw);
  model.on('change:phase', draw);
  draw();
}

export default { render };
