// The live view of a run: plan graph, waterfall with step details, Scratchpad panel.
// It renders the run document (`doc`, the same JSON as application/vnd.aura.run+json) and reports the
// selected step back to the kernel (`selected`).

const STATE_COLOURS = {
  pending: "#9ca3af", running: "#3b82f6", finished: "#16a34a", failed: "#dc2626", stopped: "#f59e0b",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function depths(tasks) {
  const byId = Object.fromEntries(tasks.map((t) => [t.id, t]));
  const memo = {};
  const depth = (id, seen = new Set()) => {
    if (id in memo) return memo[id];
    if (seen.has(id) || !byId[id]) return 0;
    seen.add(id);
    const deps = byId[id].depends_on.filter((d) => byId[d]);
    memo[id] = deps.length ? 1 + Math.max(...deps.map((d) => depth(d, seen))) : 0;
    return memo[id];
  };
  return Object.fromEntries(tasks.map((t) => [t.id, depth(t.id)]));
}

function planGraph(plan) {
  const tasks = plan?.tasks ?? [];
  const box = el("div", { class: "aura-plan" });
  if (!tasks.length) return box;
  const depth = depths(tasks);
  const columns = {};
  for (const t of tasks) (columns[depth[t.id]] ??= []).push(t);
  const W = 150, H = 40, GX = 60, GY = 16;
  const pos = {};
  for (const [d, col] of Object.entries(columns)) {
    col.forEach((t, i) => (pos[t.id] = { x: 8 + d * (W + GX), y: 8 + i * (H + GY) }));
  }
  const width = 16 + (Math.max(...Object.values(depth)) + 1) * (W + GX) - GX;
  const height = 16 + Math.max(...Object.values(columns).map((c) => c.length)) * (H + GY) - GY;
  const graph = svg("svg", { width, height, class: "aura-plan-graph", "data-tasks": tasks.length });
  const defs = svg("defs");
  const marker = svg("marker", { id: "aura-arrow", markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z", fill: "#6b7280" }));
  defs.append(marker);
  graph.append(defs);
  for (const t of tasks) {
    for (const d of t.depends_on) {
      if (!pos[d]) continue;
      graph.append(svg("line", {
        x1: pos[d].x + W, y1: pos[d].y + H / 2, x2: pos[t.id].x - 2, y2: pos[t.id].y + H / 2,
        stroke: "#6b7280", "marker-end": "url(#aura-arrow)",
      }));
    }
  }
  for (const t of tasks) {
    const { x, y } = pos[t.id];
    const g = svg("g", { class: "aura-task", "data-state": t.state });
    g.append(svg("rect", { x, y, width: W, height: H, rx: 6, fill: STATE_COLOURS[t.state] ?? "#9ca3af", opacity: 0.9 }));
    g.append(svg("text", { x: x + 8, y: y + 16, fill: "white", "font-weight": "bold", "font-size": 12 }, t.id));
    g.append(svg("text", { x: x + 8, y: y + 32, fill: "white", "font-size": 10 }, `${t.state} · ${t.steps} steps`));
    g.append(svg("title", {}, `${t.goal}\n${t.summary ?? t.error ?? ""}`));
    graph.append(g);
  }
  box.append(graph);
  return box;
}

const LIVE_ROWS = 300;  // the live view shows the latest steps; the record shows them all

function waterfall(doc, model) {
  const all = doc.steps ?? [];
  const total = all.reduce((end, s) => Math.max(end, s.start_s + s.latency_s), 1e-6);
  const steps = all.slice(-LIVE_ROWS);
  const rows = el("div", { class: "aura-waterfall" });
  if (all.length > steps.length) rows.append(el("div", { class: "aura-meta" }, `… ${all.length - steps.length} earlier steps`));
  const selected = model.get("selected");
  for (const s of steps) {
    const bar = el("div", {
      class: `aura-bar aura-${s.kind}${s.error ? " aura-error" : ""}${s.intercepted ? " aura-stored" : ""}`,
      style: { marginLeft: `${(100 * s.start_s) / total}%`, width: `${Math.max(0.5, (100 * s.latency_s) / total)}%` },
    });
    const tokens = s.kind === "model" ? `${s.total_input_tokens}→${s.output_tokens} tok` : `${s.result_bytes ?? 0} B`;
    const row = el("div", {
      class: `aura-step${s.step === selected ? " aura-selected" : ""}`, "data-step": s.step,
      onclick: () => { model.set("selected", s.step === selected ? 0 : s.step); model.save_changes(); },
    },
      el("span", { class: "aura-step-label" }, `${s.step}. ${s.agent} · ${s.name}`),
      el("span", { class: "aura-step-track" }, bar),
      el("span", { class: "aura-step-meta" }, `${tokens} · ${(s.latency_s * 1000).toFixed(0)} ms${s.error ? " · error" : ""}`),
    );
    rows.append(row);
    if (s.step === selected) rows.append(detail(s));
  }
  return rows;
}

function detail(step) {
  const pre = (label, value) => el("div", {}, el("b", {}, label), el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 1)));
  const box = el("div", { class: "aura-detail" });
  if (step.kind === "tool") {
    box.append(pre("arguments", step.arguments ?? {}));
    box.append(pre(step.intercepted ? `stub (full output stored as ${step.result_ref})` : "result", step.result_preview ?? ""));
  } else {
    box.append(pre("response", step.text_preview || (step.tool_requests ?? []).join(", ")));
  }
  if (step.error) box.append(pre("error", step.error));
  return box;
}

function scratchpad(doc) {
  const sp = doc.scratchpad ?? {};
  const box = el("div", { class: "aura-scratchpad" });
  const stores = sp.stores ?? [];
  if (!stores.length) return box;
  box.append(el("b", {}, `Scratchpad: ${stores.length} stored, ${sp.tokens_saved ?? 0} tokens kept out of context`));
  for (const b of stores) {
    const line = el("div", { class: "aura-blob", "data-blob": b.blob_id },
      `${b.blob_id} ← step ${b.step ?? "?"} ${b.tool} · ${b.size_bytes} B · ${b.lines} lines · ${b.shape}`);
    for (const x of (sp.extractions ?? []).filter((x) => x.blob_id === b.blob_id)) {
      const where = Object.entries(x.position ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
      line.append(el("div", { class: "aura-extraction" },
        `step ${x.step ?? "?"} ${x.tool} ${JSON.stringify(x.arguments)} → ${x.tokens} tok ${where}`));
    }
    box.append(line);
  }
  return box;
}

function header(doc) {
  const totals = doc.totals ?? {};
  return el("div", { class: "aura-header" },
    el("span", { class: `aura-status aura-${doc.status}` }, doc.status ?? ""),
    el("span", {}, ` ${doc.question ?? ""} `),
    el("span", { class: "aura-meta" }, `${doc.model ?? ""} · ${totals.steps ?? 0} steps · ${totals.total_input_tokens ?? 0} in / ${totals.output_tokens ?? 0} out tokens`),
  );
}

function render({ model, el: root }) {
  const draw = () => {
    const doc = model.get("doc") ?? {};
    root.replaceChildren(el("div", { class: "aura-run" },
      header(doc), planGraph(doc.plan), waterfall(doc, model), scratchpad(doc),
      doc.answer ? el("div", { class: "aura-answer" }, doc.answer) : "",
    ));
  };
  model.on("change:doc", draw);
  model.on("change:selected", draw);
  draw();
}

export default { render };
