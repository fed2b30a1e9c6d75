// The live view of a run: status and question from the first frame, the answer (root cause, trigger,
// confidence) when it comes, the plan graph, the waterfall that follows new steps, the selected step's
// detail, the Scratchpad. It renders the run document (`doc`, the JSON of application/vnd.aura.run+json),
// reports the selected step back to the kernel (`selected`), and shows `phase` ("connecting to
// servers…") until the run's first event. The elements are built once and updated in place, so an update
// never moves what the reader is looking at: the waterfall keeps its scroll position (and follows the
// newest step while it is scrolled to the end), and the detail of a step opens below the list instead of
// pushing its rows apart; the answer or a task arriving above the part of the page the reader looks at does
// not move it either. Colours come from JupyterLab's theme variables (light and dark).

const FENCED = /```[a-zA-Z]*[ \t]*\n([\s\S]*?)\n[ \t]*```/g;
const LIVE_ROWS = 300; // the live view lists the latest steps; the record lists them all

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The answer without its fenced JSON objects (the conclusion they hold is the headline). */
export function prose(answer) {
  return (answer ?? "").replace(FENCED, (block, body) => {
    try {
      const value = JSON.parse(body);
      return value && typeof value === "object" && !Array.isArray(value) ? "" : block;
    } catch {
      return block;
    }
  }).replace(/\n{3,}/g, "\n\n").trim();
}

/** Root cause (fault type), trigger, confidence as [label, value] pairs. */
export function headline(conclusion) {
  if (!conclusion) return [];
  const rows = [];
  const { root_cause_service: cause, fault_type: fault, triggering_change: trigger } = conclusion;
  if (cause) rows.push(["root cause", fault ? `${cause} (${fault})` : cause]);
  else if (fault) rows.push(["fault", fault]);
  if (trigger) rows.push(["trigger", trigger]);
  rows.push(["confidence", `${Math.round(100 * (conclusion.confidence ?? 0))}%`]);
  return rows;
}

function depths(nodes) {
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  const memo = {};
  const depth = (id, seen = new Set()) => {
    if (id in memo) return memo[id];
    if (seen.has(id) || !byId[id]) return 0;
    seen.add(id);
    const deps = byId[id].deps.filter((d) => byId[d]);
    memo[id] = deps.length ? 1 + Math.max(...deps.map((d) => depth(d, seen))) : 0;
    return memo[id];
  };
  return Object.fromEntries(nodes.map((n) => [n.id, depth(n.id)]));
}

function agentState(agents, name) {
  const agent = (agents ?? []).find((a) => a.name === name);
  if (!agent) return null;
  return agent.status === "submitted" || agent.status === "answered" ? "finished" : agent.status;
}

/** The plan's tasks plus the planner and the synthesizer (when they ran) as graph nodes, as the JupyterLab
 * renderer draws them (dag.ts `planNodes`). */
export function planNodes(plan, agents) {
  const tasks = plan?.tasks ?? [];
  const ids = new Set(tasks.map((t) => t.id));
  const planner = agentState(agents, "planner");
  const synthesizer = agentState(agents, "synthesizer");
  const nodes = tasks.map((t) => ({
    id: t.id, label: t.id, state: t.state, meta: `${t.state} · ${t.steps} steps · ${t.total_tokens} tok`,
    title: `${t.goal}\n${t.summary ?? t.error ?? ""}`,
    deps: t.depends_on.filter((d) => ids.has(d)).concat(planner && !t.depends_on.length ? ["@planner"] : []),
  }));
  if (planner) nodes.unshift({ id: "@planner", label: "planner", state: planner, meta: planner, title: plan.rationale ?? "", deps: [] });
  if (synthesizer) {
    const used = new Set(tasks.flatMap((t) => t.depends_on));
    const sinks = tasks.filter((t) => !used.has(t.id)).map((t) => t.id);
    nodes.push({ id: "@synthesizer", label: "synthesizer", state: synthesizer, meta: synthesizer, title: "", deps: sinks });
  }
  return nodes;
}

function planGraph(doc) {
  const nodes = (doc.plan?.tasks ?? []).length ? planNodes(doc.plan, doc.agents) : [];
  const box = el("div", { class: "aura-plan" });
  if (!nodes.length) return box;
  const depth = depths(nodes);
  const columns = {};
  for (const n of nodes) (columns[depth[n.id]] ??= []).push(n);
  const W = 168, H = 40, GX = 56, GY = 14;
  const pos = {};
  for (const [d, col] of Object.entries(columns)) {
    col.forEach((n, i) => (pos[n.id] = { x: 8 + d * (W + GX), y: 8 + i * (H + GY) }));
  }
  const width = 16 + (Math.max(...Object.values(depth)) + 1) * (W + GX) - GX;
  const height = 16 + Math.max(...Object.values(columns).map((c) => c.length)) * (H + GY) - GY;
  const tasks = nodes.filter((n) => !n.id.startsWith("@")).length;
  const graph = svg("svg", { width, height, class: "aura-plan-graph", "data-tasks": tasks });
  for (const n of nodes) {
    for (const d of n.deps) {
      if (!pos[d]) continue;
      const [x1, y1, x2, y2] = [pos[d].x + W, pos[d].y + H / 2, pos[n.id].x - 2, pos[n.id].y + H / 2];
      graph.append(svg("path", { d: `M ${x1} ${y1} C ${(x1 + x2) / 2} ${y1}, ${(x1 + x2) / 2} ${y2}, ${x2} ${y2}`, class: "aura-edge" }));
    }
  }
  for (const n of nodes) {
    const { x, y } = pos[n.id];
    const agent = n.id.startsWith("@") ? " aura-agent" : "";
    const g = svg("g", { class: `aura-task aura-state-${n.state}${agent}`, "data-state": n.state, "data-node": n.id });
    g.append(svg("rect", { x, y, width: W, height: H, rx: 6 }));
    g.append(svg("text", { x: x + 8, y: y + 16, class: "aura-task-id" }, n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label));
    g.append(svg("text", { x: x + 8, y: y + 32, class: "aura-task-meta" }, n.meta));
    g.append(svg("title", {}, n.title));
    graph.append(g);
  }
  box.append(graph);
  return box;
}

function stepRow(s, total, selected) {
  const kind = `aura-bar aura-${s.kind}${s.error ? " aura-error" : ""}${s.intercepted ? " aura-stored" : ""}`;
  const bar = el("div", {
    class: kind,
    style: { marginLeft: `${(100 * s.start_s) / total}%`, width: `${Math.max(0.5, (100 * s.latency_s) / total)}%` },
  });
  const tokens = s.kind === "model" ? `${s.total_input_tokens}→${s.output_tokens} tok` : `${s.result_bytes ?? 0} B`;
  return el("div", { class: `aura-step${s.step === selected ? " aura-selected" : ""}`, "data-step": s.step },
    el("span", { class: "aura-step-label" }, `${s.step}. ${s.agent} · ${s.name}`),
    el("span", { class: "aura-step-track" }, bar),
    el("span", { class: "aura-step-meta" }, `${tokens} · ${(s.latency_s * 1000).toFixed(0)} ms${s.error ? " · error" : ""}`),
  );
}

// The raster types a record embeds; any other `src` is not rendered (never SVG: it can carry script).
const IMAGE_SRC = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

function stepImage(image) {
  const label = `image ${image.mime_type}, ${image.size.toLocaleString()} bytes`;
  if (image.src && IMAGE_SRC.test(image.src)) {
    return el("div", {}, el("div", { class: "aura-detail-label" }, label),
      el("img", { class: "aura-image", src: image.src, alt: label }));
  }
  return el("div", { class: "aura-image-note" }, `[${label}: ${image.note ?? "not shown"}]`);
}

function detail(step) {
  const box = el("div", { class: "aura-detail", "data-step": step.step });
  const pre = (label, value) => box.append(el("div", { class: "aura-detail-label" }, label),
    el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 1)));
  box.append(el("div", { class: "aura-meta" }, `step ${step.step} · ${step.agent} · ${step.kind} ${step.name}`));
  if (step.kind === "tool") {
    pre("arguments", step.arguments ?? {});
    pre(step.intercepted ? `stub the model saw (full output stored as ${step.result_ref})` : "result", step.result_preview ?? "");
    for (const image of step.images ?? []) box.append(stepImage(image));
  } else {
    pre("response", step.text_preview || (step.tool_requests ?? []).join(", "));
  }
  if (step.error) pre("error", step.error);
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
    // the stored output as a bar of its lines, each extraction's slice drawn where it sits
    const track = el("div", { class: "aura-store-track" });
    const lines = Math.max(1, b.lines);
    for (const x of (sp.extractions ?? []).filter((x) => x.blob_id === b.blob_id)) {
      const args = Object.entries(x.arguments ?? {}).filter(([k]) => k !== "blob_id").map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
      line.append(el("div", { class: "aura-extraction" }, `step ${x.step ?? "?"} ${x.tool}(${args}) → ${x.tokens} tok`));
      const at = x.position?.lines;
      if (Array.isArray(at) && at.length === 2) {
        track.append(el("div", { class: "aura-slice", title: `lines ${at[0]}–${at[1]}`,
          style: { left: `${(100 * (at[0] - 1)) / lines}%`, width: `${Math.max(0.4, (100 * (at[1] - at[0] + 1)) / lines)}%` } }));
      }
    }
    box.append(line, track);
  }
  return box;
}

function header(doc, model) {
  const totals = doc.totals ?? {};
  const steps = totals.steps ?? 0;
  const phase = model.get("phase");
  const status = phase && !steps ? phase : doc.status || "starting";
  return [
    el("div", { class: "aura-title" },
      el("span", { class: `aura-status aura-${doc.status || "running"}` }, status),
      el("span", { class: "aura-question" }, ` ${doc.question || model.get("question") || ""}`)),
    el("div", { class: "aura-meta" },
      `${doc.model || ""} · ${steps} steps · ${totals.total_input_tokens ?? 0} in / ${totals.output_tokens ?? 0} out tokens`),
  ];
}

function answer(doc) {
  const rows = headline(doc.conclusion);
  const text = prose(doc.answer);
  if (!rows.length && !text && !doc.error) return [];
  return [el("div", { class: "aura-answer" },
    rows.length ? el("div", { class: "aura-headline" }, ...rows.map(([k, v]) => el("span", {}, el("span", { class: "aura-meta" }, `${k} `), el("b", {}, v)))) : null,
    text ? el("div", { class: "aura-prose" }, text) : null,
    doc.error ? el("div", { class: "aura-error-text" }, `error: ${doc.error}`) : null,
  )];
}

/** The element that scrolls `node` into view: the nearest scrolling ancestor, else the page. */
function scroller(node) {
  for (let p = node.parentElement; p; p = p.parentElement) {
    const { overflowY } = getComputedStyle(p);
    if ((overflowY === "auto" || overflowY === "scroll") && p.scrollHeight > p.clientHeight) return p;
  }
  return document.scrollingElement || document.documentElement;
}

/** Run `update`, which may grow the first of `blocks` (the status and the answer) or the others, without moving
 * what the reader looks at: when the first block is out of sight above, the scroller is moved by as much as the
 * block at the top of the view moved. JupyterLab's windowed notebook turns the browser's own scroll anchoring off. */
function keepInPlace(blocks, update) {
  const box = scroller(blocks[0]);
  const page = box === document.scrollingElement || box === document.documentElement;
  const viewTop = page ? 0 : box.getBoundingClientRect().top;
  const drawn = blocks[0].childElementCount > 0; // nothing to keep in place before the first frame
  const anchor = drawn ? blocks.find((node) => node.getBoundingClientRect().bottom > viewTop) : undefined;
  const before = anchor?.getBoundingClientRect().top;
  update();
  if (!anchor || anchor === blocks[0]) return;
  const moved = anchor.getBoundingClientRect().top - before;
  if (Math.abs(moved) >= 1) box.scrollTop += moved;
}

function render({ model, el: root }) {
  const top = el("div", { class: "aura-top" });
  const plan = el("div");
  const list = el("div", { class: "aura-waterfall" });
  const panel = el("div", { class: "aura-detail-slot" });
  const pad = el("div");
  root.replaceChildren(el("div", { class: "aura-run tex2jax_ignore mathjax_ignore" }, top, plan, list, panel, pad));
  list.addEventListener("click", (event) => {
    const row = event.target.closest?.(".aura-step");
    if (!row) return;
    const step = Number(row.dataset.step);
    model.set("selected", step === model.get("selected") ? 0 : step);
    model.save_changes();
  });

  const draw = () => {
    const doc = model.get("doc") ?? {};
    const selected = model.get("selected");
    keepInPlace([top, plan, list, panel, pad], () => {
      top.replaceChildren(...header(doc, model), ...answer(doc));
      plan.replaceChildren(planGraph(doc));
    });
    // the waterfall: rebuilt in its own scroll box, whose position is kept (and follows the end)
    const following = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    const kept = list.scrollTop;
    const all = doc.steps ?? [];
    const total = all.reduce((end, s) => Math.max(end, s.start_s + s.latency_s), 1e-6);
    const steps = all.slice(-LIVE_ROWS);
    const rows = steps.map((s) => stepRow(s, total, selected));
    if (all.length > steps.length) rows.unshift(el("div", { class: "aura-meta" }, `… ${all.length - steps.length} earlier steps`));
    list.replaceChildren(...rows);
    list.scrollTop = following ? list.scrollHeight : kept;
    const chosen = all.find((s) => s.step === selected);
    panel.replaceChildren(chosen ? detail(chosen) : el("div", { class: "aura-meta" }, all.length ? "click a step for its arguments and result" : ""));
    pad.replaceChildren(scratchpad(doc));
  };
  model.on("change:doc", draw);
  model.on("change:selected", draw);
  model.on("change:phase", draw);
  draw();
}

export default { render };
