/**
 * A JupyterLab MIME renderer for aura_nb run records (application/vnd.aura.run+json):
 * header, answer, plan graph, step waterfall, alerts and metric plots, Scratchpad, errors.
 * Nothing from the document is parsed as HTML, so the renderer is safe for untrusted notebooks.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { dagSvg, planNodes } from './dag';
import { IRunDocument, isRunDocument, MIME_TYPE, upgradeDocument } from './document';
import { badge, Child, h, num, section, seconds, table } from './dom';
import { chart } from './plot';
import { waterfall } from './waterfall';

export { MIME_TYPE } from './document';

function header(doc: IRunDocument): HTMLElement {
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
    h('div', 'aura-Run-question', doc.question || 'no question'),
    h('div', '', badge(doc.status, doc.status), ' ', facts.join(' · ')),
    h('div', 'aura-Run-muted', ids.join(' · '))
  );
}

function answer(doc: IRunDocument): HTMLElement {
  const parts: Child[] = [h('div', 'aura-Run-answer', doc.answer || 'no answer')];
  const c = doc.conclusion;
  if (c) {
    const keys = ['root_cause_service', 'fault_type', 'triggering_change', 'confidence'];
    const rows = keys.filter(k => c[k] !== null && c[k] !== undefined).map(k => [k.replace(/_/g, ' '), String(c[k])]);
    if (rows.length) {
      parts.push(table(['conclusion', ''], rows));
    }
  }
  if (doc.error) {
    parts.push(h('div', 'aura-Run-error', `error: ${doc.error}`));
  }
  return section('Answer', ...parts);
}

function plan(doc: IRunDocument): HTMLElement | null {
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
  const edited = doc.plan.edits ? ` (edited ${doc.plan.edits}×)` : '';
  return section(
    `Plan${edited}`,
    doc.plan.rationale ? h('div', 'aura-Run-muted', doc.plan.rationale) : null,
    h('div', 'aura-Run-scroll', dagSvg(planNodes(doc.plan, doc.agents))),
    table(['task', 'goal', 'depends on', 'state', 'steps', 'tokens'], rows, [4, 5])
  );
}

function evidence(doc: IRunDocument): HTMLElement | null {
  if (!doc.plots.length && !doc.alerts.length) {
    return null;
  }
  const alerts = doc.alerts.map(a => [a.starts_at, a.name ?? '', a.service ?? '', a.severity ?? '', a.state ?? '', a.summary ?? '']);
  return section(
    'Alerts and metrics',
    alerts.length ? table(['onset', 'alert', 'service', 'severity', 'state', 'summary'], alerts) : null,
    h('div', 'aura-Run-plots', ...doc.plots.map(p => chart(p, doc.alerts)))
  );
}

function scratchpad(doc: IRunDocument): HTMLElement | null {
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
    h('code', 'aura-Run-json', JSON.stringify(x.arguments)),
    h('code', 'aura-Run-json', JSON.stringify(x.position)),
    num(x.tokens)
  ]);
  const saved = pad.stores.reduce((sum, st) => sum + st.tokens, 0);
  const ratio = saved > 0 ? ` (${((100 * pad.tokens_saved) / saved).toFixed(1)}% of the stored outputs' tokens)` : '';
  return section(
    'Scratchpad',
    h('div', '', `${pad.stores.length} output(s) kept out of the context: ${num(pad.bytes_stored)} bytes, ~${num(pad.tokens_saved)} tokens saved${ratio}.`),
    stores.length ? table(['blob', 'tool', 'step', 'shape', 'bytes', 'tokens', 'saved'], stores, [2, 4, 5, 6]) : null,
    extractions.length ? table(['step', 'extraction', 'blob', 'arguments', 'position', 'tokens'], extractions, [0, 5]) : null
  );
}

function notes(doc: IRunDocument): HTMLElement | null {
  if (!doc.errors.length && !doc.instructions.length) {
    return null;
  }
  return section(
    'Notes',
    ...doc.instructions.map(i => h('div', '', `+${seconds(i.at_s)} instruction to ${i.agent}: `, h('q', '', i.text))),
    ...doc.errors.map(e => h('div', 'aura-Run-error', `${e.agent || 'run'}: ${e.error_type ? `${e.error_type}: ` : ''}${e.message}`))
  );
}

function findings(doc: IRunDocument): HTMLElement | null {
  const shown = (doc.findings ?? []).filter(f => f.severity !== 'info');
  if (!shown.length) {
    return null;
  }
  return section(
    'How it worked: findings',
    ...shown.map(f =>
      h(
        'div',
        f.severity === 'error' ? 'aura-Run-error' : '',
        `${f.severity} · ${f.kind} · steps ${f.steps.slice(0, 8).join(', ')}: ${f.explanation} `,
        h('div', 'aura-Run-muted', f.suggestion)
      )
    )
  );
}

/** Render a run document into `host` (exported for tests and reuse). */
export function renderRun(host: HTMLElement, doc: IRunDocument): void {
  host.replaceChildren();
  const parts = [header(doc), answer(doc), plan(doc), section('Steps', waterfall(doc)), evidence(doc), scratchpad(doc), findings(doc), notes(doc)];
  for (const part of parts) {
    if (part) {
      host.appendChild(part);
    }
  }
}

/** The widget JupyterLab creates for each output of our MIME type. */
export class RunRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('aura-Run');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = upgradeDocument(model.data[this._mimeType]);
    if (isRunDocument(data)) {
      renderRun(this.node, data);
    } else {
      const version = (data as { version?: unknown } | null)?.version;
      this.node.replaceChildren(h('div', 'aura-Run-error', `aura run record: unsupported document (version ${String(version)})`));
    }
    return Promise.resolve();
  }

  private _mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new RunRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'jupyterlab-aura:plugin',
  description: 'Renders aura_nb run records: plan graph, step waterfall, Scratchpad and metric plots.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
