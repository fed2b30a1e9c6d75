/**
 * Small DOM helpers. Text always goes in through `textContent`, never `innerHTML`,
 * so nothing from a run document is ever parsed as markup.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

export type Child = Node | string | null | undefined | false;

function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** An HTML element with a class and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  append(node, children);
  return node;
}

/** An SVG element with attributes and children. */
export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/** An SVG `<title>` (a tooltip). */
export function tip(text: string): SVGElement {
  return s('title', {}, text);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', 'aura-Run-section', h('h4', 'aura-Run-title', title), ...children);
}

export function badge(text: string, kind: string): HTMLElement {
  const node = h('span', `aura-Run-badge aura-Run-state-${cssToken(kind)}`, text);
  return node;
}

/** A string safe to use inside a class name. */
export function cssToken(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

export function num(value: number): string {
  return value.toLocaleString('en-US');
}

export function seconds(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(value < 10 ? 2 : 1)} s`;
}

export function table(headers: string[], rows: Child[][], numeric: number[] = []): HTMLTableElement {
  const head = h('tr', '', ...headers.map((text, i) => h('th', numeric.includes(i) ? 'aura-Run-num' : '', text)));
  const body = rows.map(row =>
    h('tr', '', ...row.map((cell, i) => h('td', numeric.includes(i) ? 'aura-Run-num' : '', cell)))
  );
  return h('table', 'aura-Run-table', h('thead', '', head), h('tbody', '', ...body));
}
