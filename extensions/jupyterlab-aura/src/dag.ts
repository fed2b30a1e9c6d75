/**
 * The plan as a layered DAG in SVG: the planner, the tasks by dependency depth, the synthesizer.
 * A node's colour is its state (pending, running, finished, failed, stopped, ...).
 */

import { IAgent, IPlan } from './document';
import { cssToken, num, s, tip } from './dom';

export interface IDagNode {
  id: string;
  label: string;
  detail: string;
  state: string;
  title: string;
  deps: string[];
}

const MIN_W = 168;
const MAX_W = 280;
const NODE_H = 44;
const COL_GAP = 56;
const ROW_GAP = 14;
const PAD = 8;
let markers = 0;

/** Dependency depth of every node (longest path from a root); cycles and unknown deps are ignored. */
export function depths(nodes: IDagNode[]): Map<string, number> {
  const byId = new Map(nodes.map(n => [n.id, n]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) {
      return known;
    }
    if (visiting.has(id)) {
      return 0;
    }
    visiting.add(id);
    const deps = (byId.get(id)?.deps ?? []).filter(d => byId.has(d) && d !== id);
    const value = deps.length ? Math.max(...deps.map(visit)) + 1 : 0;
    visiting.delete(id);
    depth.set(id, value);
    return value;
  };
  nodes.forEach(n => visit(n.id));
  return depth;
}

/** Columns of node ids, each ordered by the mean row of its dependencies (fewer crossings). */
export function layout(nodes: IDagNode[]): string[][] {
  const depth = depths(nodes);
  const columns: string[][] = [];
  for (const node of nodes) {
    const d = depth.get(node.id) ?? 0;
    (columns[d] = columns[d] ?? []).push(node.id);
  }
  const row = new Map<string, number>();
  const byId = new Map(nodes.map(n => [n.id, n]));
  columns.forEach(column => {
    const weight = (id: string): number => {
      const rows = (byId.get(id)?.deps ?? []).map(d => row.get(d)).filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
    };
    column.sort((a, b) => weight(a) - weight(b));
    column.forEach((id, i) => row.set(id, i));
  });
  return columns.filter(Boolean);
}

/** Plan tasks plus the planner and synthesizer agents (when they ran) as graph nodes. */
export function planNodes(plan: IPlan, agents: IAgent[]): IDagNode[] {
  const ids = new Set(plan.tasks.map(t => t.id));
  const planner = agents.find(a => a.name === 'planner')?.state ?? null;
  const synthesizer = agents.find(a => a.name === 'synthesizer')?.state ?? null;
  const nodes: IDagNode[] = plan.tasks.map(task => ({
    id: task.id,
    label: task.id,
    detail: `${task.state} · ${task.steps} steps · ${num(task.total_tokens)} tok`,
    state: task.state,
    title: [task.goal, task.summary, task.error].filter(Boolean).join('\n\n'),
    deps: task.depends_on.filter(d => ids.has(d)).concat(planner && !task.depends_on.length ? ['@planner'] : [])
  }));
  if (planner) {
    nodes.unshift({ id: '@planner', label: 'planner', detail: planner, state: planner, title: plan.rationale, deps: [] });
  }
  if (synthesizer) {
    const used = new Set(plan.tasks.flatMap(t => t.depends_on));
    const sinks = plan.tasks.filter(t => !used.has(t.id)).map(t => t.id);
    nodes.push({ id: '@synthesizer', label: 'synthesizer', detail: synthesizer, state: synthesizer, title: '', deps: sinks });
  }
  return nodes;
}

function clip(text: string, size: number): string {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

/** The SVG drawing of `nodes` in dependency layers, left to right. */
export function dagSvg(nodes: IDagNode[]): SVGElement {
  // wide enough for the longest label (12px bold) and detail line (10px), up to a limit
  const NODE_W = Math.min(MAX_W, Math.max(MIN_W, ...nodes.map(n => Math.max(n.label.length * 7.5, n.detail.length * 6) + 20)));
  const columns = layout(nodes);
  const rows = Math.max(1, ...columns.map(c => c.length));
  const width = PAD * 2 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;
  const height = PAD * 2 + rows * NODE_H + (rows - 1) * ROW_GAP;
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => {
    const offset = ((rows - column.length) * (NODE_H + ROW_GAP)) / 2;
    column.forEach((id, r) => at.set(id, { x: PAD + c * (NODE_W + COL_GAP), y: PAD + offset + r * (NODE_H + ROW_GAP) }));
  });
  const marker = `aura-run-arrow-${++markers}`;
  const svg = s('svg', { class: 'aura-Run-dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.appendChild(
    s(
      'defs',
      {},
      s(
        'marker',
        { id: marker, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'aura-Run-dag-arrow' })
      )
    )
  );
  for (const node of nodes) {
    const to = at.get(node.id);
    for (const dep of node.deps) {
      const from = at.get(dep);
      if (!from || !to) {
        continue;
      }
      const x1 = from.x + NODE_W;
      const y1 = from.y + NODE_H / 2;
      const x2 = to.x;
      const y2 = to.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      const d = `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2 - 1} ${y2}`;
      svg.appendChild(s('path', { d, class: 'aura-Run-dag-edge', 'marker-end': `url(#${marker})` }));
    }
  }
  for (const node of nodes) {
    const p = at.get(node.id);
    if (!p) {
      continue;
    }
    const virtual = node.id.startsWith('@') ? ' aura-Run-dag-agent' : '';
    svg.appendChild(
      s(
        'g',
        {
          class: `aura-Run-dag-node aura-Run-state-${cssToken(node.state)}${virtual}`,
          transform: `translate(${p.x},${p.y})`,
          'data-node': node.id
        },
        tip(node.title || node.label),
        s('rect', { width: NODE_W, height: NODE_H, rx: 6, ry: 6 }),
        s('text', { x: 10, y: 18, class: 'aura-Run-dag-label' }, clip(node.label, Math.floor((NODE_W - 20) / 7.5))),
        s('text', { x: 10, y: 34, class: 'aura-Run-dag-detail' }, clip(node.detail, Math.floor((NODE_W - 20) / 6)))
      )
    );
  }
  return svg;
}
