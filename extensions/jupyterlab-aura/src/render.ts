/**
 * The drawing of a run record (application/vnd.aura.run+json), in pieces: header, answer, evidence, alerts and
 * metrics, plan graph, steps, Scratchpad, findings, notes. The JupyterLab renderer (index.ts) draws a record
 * with `renderRun`; the notebook's live view (live.ts) draws a running run with the same pieces.
 * Nothing from the document is parsed as HTML, so the drawing is safe for untrusted notebooks.
 */

import { dagSvg, planNodes } from './dag';
import { IExtraction, IPlan, IPlot, IRunDocument, IStore } from './document';
import { IterationView } from './run.generated';
import { badge, Child, h, num, section, seconds, table } from './dom';
import { chart, markers, timeDomain } from './plot';
import { openStep, waterfall } from './waterfall';

/** Status, question, totals and ids; `status` replaces the shown status (the live view's phase before the first
 * step). */
export function header(doc: IRunDocument, status: string = doc.status): HTMLElement {
  const u = doc.totals;
  const handbacks = u.submissions ? `, ${u.submissions} hand-back` : '';
  const facts = [
    `model ${doc.model || '?'}`,
    `${u.steps} steps (${u.model_calls} model, ${u.tool_calls} tool${handbacks})`,
    `tokens in ${num(u.total_input_tokens)} / out ${num(u.output_tokens)}`,
    seconds(doc.duration_s)
  ];
  if (u.cost_usd !== null) {
    facts.push(`$${u.cost_usd.toFixed(4)}`);
  }
  const ids = [`run ${doc.run_id}`];
  if (doc.trace_id) {
    ids.push(`trace ${doc.trace_id}`);
  }
  if (doc.fork) {
    ids.push(`forked from ${doc.fork.parent_run_id} at step ${doc.fork.at_step}`);
  }
  return h(
    'header',
    'aura-Run-header',
    h('div', '', badge(status, doc.status), ' ', h('span', 'aura-Run-question', doc.question || 'no question')),
    h('div', 'aura-Run-muted', facts.join(' · ')),
    h('div', 'aura-Run-muted', ids.join(' · '))
  );
}

/** The clarification asked, the headline (root cause, trigger, confidence), the answer's prose, the error. */
export function answer(doc: IRunDocument): HTMLElement {
  const rows = doc.headline;
  const parts: Child[] = [];
  const asked = doc.clarification;
  if (asked) {
    const choices = asked.options ?? [];
    const options = choices.length ? ` (options: ${choices.join(', ')})` : '';
    parts.push(h('div', 'aura-Run-headline', h('b', '', 'The run needs input: '), asked.question + options));
    parts.push(h('div', 'aura-Run-muted', 'answer it with %aura answer RUN TEXT'));
  }
  if (rows.length) {
    parts.push(
      h('div', 'aura-Run-headline', ...rows.map(fact => h('span', '', h('span', 'aura-Run-muted', `${fact.label} `), h('b', '', fact.value))))
    );
  }
  parts.push(h('div', 'aura-Run-answer', doc.prose || 'no answer'));
  if (doc.error) {
    parts.push(h('div', 'aura-Run-error', `error: ${doc.error}`));
  }
  return h('section', 'aura-Run-section aura-Run-conclusion', h('h4', 'aura-Run-title', 'Answer'), ...parts);
}

/** A link that opens step `number` in the waterfall. */
function stepLink(number: number, label: string, open: (step: number) => void): HTMLElement {
  const link = h('a', 'aura-Run-link', label);
  link.setAttribute('href', '#');
  link.dataset.step = String(number);
  link.addEventListener('click', event => {
    event.preventDefault();
    open(number);
  });
  return link;
}

/** The conclusion's evidence, each a link that opens the step it cites in the waterfall. */
export function evidence(doc: IRunDocument, open: (step: number) => void): HTMLElement | null {
  if (!doc.evidence.length) {
    return null;
  }
  const rows = doc.evidence.map(item => {
    const link = item.step === null ? null : stepLink(item.step, `step ${item.step}${item.tool ? ` (${item.tool})` : ''}`, open);
    return h('li', '', item.note || '(no note)', link ? ' — ' : '', link);
  });
  return section('Evidence', h('ul', 'aura-Run-evidence', ...rows));
}

/** The plan: one graph per iteration (or one), then its tasks with the planner's and synthesizer's share. */
export function plan(doc: IRunDocument): HTMLElement | null {
  if (!doc.plan) {
    return null;
  }
  const rows = doc.plan.tasks.map(t => [
    h('code', '', t.id),
    h('div', '', t.goal, t.summary ? h('div', 'aura-Run-muted', t.summary) : null, t.error ? h('div', 'aura-Run-error', t.error) : null),
    t.depends_on.join(', ') || '—',
    badge(t.state, t.state),
    String(t.steps),
    num(t.total_tokens)
  ]);
  for (const agent of doc.agents) {
    // the planner's and the synthesizer's share of the tokens
    if (agent.role === 'planner' || agent.role === 'synthesizer') {
      const what = agent.role === 'planner' ? 'planned the tasks' : 'wrote the answer from the task results';
      rows.push([h('i', '', agent.name), what, '', badge(agent.state, agent.state), String(agent.turns), num(agent.total_input_tokens + agent.output_tokens)]);
    }
  }
  const edited = doc.plan.edits ? ` (edited ${doc.plan.edits}×)` : '';
  const iterations = doc.plan.iterations ?? [];
  const graphs =
    iterations.length > 1
      ? iterations.map((it, k) => iterationGraph(doc, it, k === 0, k === iterations.length - 1))
      : [doc.plan.rationale ? h('div', 'aura-Run-muted', doc.plan.rationale) : null, h('div', 'aura-Run-scroll', dagSvg(planNodes(doc.plan, doc.agents)))];
  return section(`Plan${edited}`, ...graphs, table(['task', 'goal', 'depends on', 'state', 'steps / turns', 'tokens'], rows, [4, 5]));
}

/** One iteration's plan graph, headed by its rationale and the coordinator's decision after it (the planner
 * drawn before the first, the synthesizer after the last). */
function iterationGraph(doc: IRunDocument, it: IterationView, first: boolean, last: boolean): HTMLElement {
  const plan = doc.plan as IPlan;
  const ids = new Set(it.tasks);
  const tasks = plan.tasks.filter(t => ids.has(t.id));
  const agents = doc.agents.filter(a => (first || a.role !== 'planner') && (last || a.role !== 'synthesizer'));
  const decided = it.decision ? ` → ${it.decision.route}${it.decision.reason ? `: ${it.decision.reason}` : ''}` : '';
  return h(
    'div',
    'aura-Run-iteration',
    h('div', 'aura-Run-muted', `Iteration ${it.iteration}${it.rationale ? ` — ${it.rationale}` : ''}${decided}`),
    h('div', 'aura-Run-scroll', dagSvg(planNodes({ ...plan, rationale: it.rationale, tasks }, agents)))
  );
}

/** The alerts, then the series as small multiples grouped by service on one time axis, both markers drawn. */
export function metrics(doc: IRunDocument): HTMLElement | null {
  if (!doc.plots.length && !doc.alerts.length) {
    return null;
  }
  const marks = markers(doc);
  const domain = timeDomain(doc.plots);
  const alerts = doc.alerts.map(a => [a.starts_at, a.name ?? '', a.service ?? '', a.severity ?? '', a.state ?? '', a.summary ?? '']);
  return section(
    'Alerts and metrics',
    alerts.length ? table(['onset', 'alert', 'service', 'severity', 'state', 'summary'], alerts) : null,
    ...byService(doc.plots).map(([service, plots]) =>
      h(
        'div',
        'aura-Run-service',
        h('div', 'aura-Run-service-name', service ?? 'other series'),
        h('div', 'aura-Run-plots', ...plots.map(p => chart(p, marks, domain)))
      )
    )
  );
}

/** The plots in runs of the same service, in the record's order (the projection groups them by service). */
function byService(plots: IPlot[]): [string | null, IPlot[]][] {
  const groups: [string | null, IPlot[]][] = [];
  for (const plot of plots) {
    const last = groups[groups.length - 1];
    if (last && last[0] === plot.service) {
      last[1].push(plot);
    } else {
      groups.push([plot.service, [plot]]);
    }
  }
  return groups;
}

/** The Scratchpad: each stored output as a bar of its lines with its extractions, then the tables. */
export function scratchpad(doc: IRunDocument): HTMLElement | null {
  const pad = doc.scratchpad;
  if (!pad.stores.length && !pad.extractions.length) {
    return null;
  }
  const stores = pad.stores.map(st => [
    h('code', '', st.blob_id),
    st.tool,
    st.step === null ? '—' : String(st.step),
    st.shape,
    num(st.size_bytes),
    num(st.tokens),
    num(st.tokens_saved)
  ]);
  const extractions = pad.extractions.map(x => [
    x.step === null ? '—' : String(x.step),
    h('code', '', x.tool),
    h('code', '', x.blob_id),
    h('code', 'aura-Run-json', readable(x.arguments)),
    h('code', 'aura-Run-json', readable(x.position)),
    num(x.tokens)
  ]);
  const saved = pad.stores.reduce((sum, st) => sum + st.tokens, 0);
  const ratio = saved > 0 ? ` (${((100 * pad.tokens_saved) / saved).toFixed(1)}% of the stored outputs' tokens)` : '';
  return section(
    'Scratchpad',
    h('div', '', `${pad.stores.length} output(s) kept out of the context: ${num(pad.bytes_stored)} bytes, ~${num(pad.tokens_saved)} tokens saved${ratio}.`),
    ...pad.stores.map(st => storeBar(st, pad.extractions.filter(x => x.blob_id === st.blob_id))),
    stores.length ? table(['blob', 'tool', 'step', 'shape', 'bytes', 'tokens', 'saved'], stores, [2, 4, 5, 6]) : null,
    extractions.length ? table(['step', 'extraction', 'blob', 'arguments', 'position', 'tokens'], extractions, [0, 5]) : null
  );
}

/** `k=v, …` for arguments (the blob id, shown apart, left out). */
function readable(values: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([key]) => key !== 'blob_id')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** A stored output as a bar of its lines, with each extraction's slice drawn where it sits. */
function storeBar(store: IStore, extractions: IExtraction[]): HTMLElement {
  const track = h('div', 'aura-Run-track aura-Run-store');
  const lines = Math.max(1, store.lines);
  for (const x of extractions) {
    const at = x.position.lines;
    if (!Array.isArray(at) || at.length !== 2) {
      continue;
    }
    const [first, last] = at.map(Number);
    const slice = h('div', 'aura-Run-slice');
    slice.style.left = `${(100 * (first - 1)) / lines}%`;
    slice.style.width = `${Math.max(0.4, (100 * (last - first + 1)) / lines)}%`;
    slice.title = `step ${x.step ?? '?'} ${x.tool}(${readable(x.arguments)}): lines ${first}–${last}, ${num(x.tokens)} tokens`;
    track.appendChild(slice);
  }
  const label = `${store.blob_id} · ${store.tool} (step ${store.step ?? '?'}) · ${num(store.lines)} lines, ${num(store.size_bytes)} bytes, ${store.shape}`;
  return h('div', 'aura-Run-store-row', h('div', 'aura-Run-muted', label), track);
}

/** Instructions given during the run and the errors it met. */
export function notes(doc: IRunDocument): HTMLElement | null {
  if (!doc.errors.length && !doc.instructions.length) {
    return null;
  }
  return section(
    'Notes',
    ...doc.instructions.map(i => h('div', '', `+${seconds(i.at_s)} instruction to ${i.agent}: `, h('q', '', i.text))),
    ...doc.errors.map(e => h('div', 'aura-Run-error', `${e.agent || 'run'}: ${e.error_type ? `${e.error_type}: ` : ''}${e.message}`))
  );
}

/** The findings on how the run worked, each with links to its steps. */
export function findings(doc: IRunDocument, open: (step: number) => void): HTMLElement | null {
  const shown = doc.findings ?? [];
  if (!shown.length) {
    return null;
  }
  return section(
    'How it worked: findings',
    ...shown.map(f =>
      h(
        'div',
        f.severity === 'error' ? 'aura-Run-error' : '',
        `${f.severity} · ${f.kind} · steps `,
        ...f.steps.slice(0, 8).flatMap((n, i) => [i ? ', ' : '', stepLink(n, String(n), open)]),
        `: ${f.explanation} `,
        h('div', 'aura-Run-muted', f.suggestion)
      )
    )
  );
}

/** Render a run document into `host` (exported for tests and reuse). */
export function renderRun(host: HTMLElement, doc: IRunDocument): void {
  host.replaceChildren();
  const steps = waterfall(doc);
  const parts = [header(doc), answer(doc), evidence(doc, n => openStep(steps, n)), metrics(doc), plan(doc), section('Steps', steps), scratchpad(doc), findings(doc, n => openStep(steps, n)), notes(doc)];
  for (const part of parts) {
    if (part) {
      host.appendChild(part);
    }
  }
}
