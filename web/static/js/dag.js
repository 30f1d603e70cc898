// The job graph as a DAG: one node per vertex (its chained steps listed inside),
// one arrow per edge labelled with its partitioning. Layered layout: a vertex's
// layer is its longest path from a source; within a layer vertices are ordered by
// the mean position of their inputs. Left to right on a wide screen, top to bottom
// on a narrow one. Self-written: no layout library.

import { s, fmtNum, fmtInt, fmtPct } from "./dom.js";
import { sparkPath } from "./spark.js";

const W = 232;          // node width
const GX = 76, GY = 26; // gaps between layers and within a layer
const LINE = 16;

// Set by renderDag: a plan preview has no live figures, so its nodes are shorter.
let withStats = true;

function nodeHeight(v) {
  return 30 + LINE * v.steps.length + (withStats ? LINE * 3 + 34 : 0);
}

// layout returns {pos: Map(id -> {x, y, h}), width, height}.
export function layout(plan, vertical) {
  const vs = plan.vertices, es = plan.edges;
  const ins = new Map(vs.map((v) => [v.id, []]));
  const outs = new Map(vs.map((v) => [v.id, []]));
  for (const e of es) {
    if (ins.has(e.to) && outs.has(e.from)) { ins.get(e.to).push(e.from); outs.get(e.from).push(e.to); }
  }
  // Longest path from a source, in topological order (Kahn).
  const layer = new Map(vs.map((v) => [v.id, 0]));
  const indeg = new Map(vs.map((v) => [v.id, ins.get(v.id).length]));
  const queue = vs.filter((v) => indeg.get(v.id) === 0).map((v) => v.id);
  while (queue.length) {
    const id = queue.shift();
    for (const to of outs.get(id)) {
      layer.set(to, Math.max(layer.get(to), layer.get(id) + 1));
      indeg.set(to, indeg.get(to) - 1);
      if (indeg.get(to) === 0) queue.push(to);
    }
  }
  const layers = [];
  for (const v of vs) {
    const l = layer.get(v.id);
    (layers[l] = layers[l] || []).push(v);
  }
  // Order each layer by the mean index of its inputs in the layer before.
  const index = new Map();
  layers.forEach((ls, li) => {
    if (li > 0) {
      const bary = (v) => {
        const is = ins.get(v.id).map((p) => index.get(p)).filter((x) => x !== undefined);
        return is.length ? is.reduce((a, b) => a + b, 0) / is.length : 0;
      };
      ls.sort((a, b) => bary(a) - bary(b));
    }
    ls.forEach((v, i) => index.set(v.id, i));
  });

  const pos = new Map();
  let width = 0, height = 0;
  if (!vertical) {
    const colH = layers.map((ls) => ls.reduce((a, v) => a + nodeHeight(v), 0) + GY * (ls.length - 1));
    height = Math.max(0, ...colH);
    layers.forEach((ls, li) => {
      let y = (height - colH[li]) / 2;
      for (const v of ls) {
        pos.set(v.id, { x: li * (W + GX), y, h: nodeHeight(v) });
        y += nodeHeight(v) + GY;
      }
    });
    width = layers.length * W + (layers.length - 1) * GX;
  } else {
    const rowW = layers.map((ls) => ls.length * W + (ls.length - 1) * GY);
    width = Math.max(0, ...rowW);
    let y = 0;
    layers.forEach((ls, li) => {
      let x = (width - rowW[li]) / 2;
      const rh = Math.max(...ls.map(nodeHeight));
      for (const v of ls) {
        pos.set(v.id, { x, y, h: nodeHeight(v) });
        x += W + GY;
      }
      y += rh + (li < layers.length - 1 ? GX * 0.8 : 0);
    });
    height = y;
  }
  return { pos, width: Math.max(width, W), height };
}

function clip(text, max) {
  text = String(text);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

// level is the backpressure class of a vertex, after Flink's thresholds.
export function bpLevel(bp) {
  if (bp >= 0.5) return "high";
  if (bp >= 0.1) return "low";
  return "ok";
}

// renderDag draws plan. opts: {vertical, href(vertex) -> link, label}. It returns
// {el, update(stats)} where stats maps vertex id -> {recordsIn, recordsOut, rateIn,
// rateOut, backpressure, busy, history: [rate...]}.
export function renderDag(plan, opts = {}) {
  withStats = opts.stats !== false;
  const { pos, width, height } = layout(plan, opts.vertical);
  const pad = 4;
  const svg = s("svg", {
    class: "dag" + (opts.vertical ? " dag-vertical" : ""),
    viewBox: `${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`,
    width: width + 2 * pad, height: height + 2 * pad,
    role: "group", "aria-label": opts.label || "job graph",
    "data-nodes": plan.vertices.length, "data-edges": plan.edges.length,
  });
  const defs = s("defs", null,
    s("marker", { id: "dag-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      s("path", { d: "M0 0 L10 5 L0 10 z", class: "dag-arrowhead" })));
  svg.appendChild(defs);

  const edgeLayer = s("g", { class: "dag-edges" });
  const nodeLayer = s("g", { class: "dag-nodes" });
  const labelLayer = s("g", { class: "dag-labels" });
  svg.append(edgeLayer, nodeLayer, labelLayer);
  for (const e of plan.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    let x1, y1, x2, y2, d;
    if (!opts.vertical) {
      x1 = a.x + W; y1 = a.y + a.h / 2; x2 = b.x - 2; y2 = b.y + b.h / 2;
      const c = (x2 - x1) / 2;
      d = `M${x1} ${y1} C${x1 + c} ${y1} ${x2 - c} ${y2} ${x2} ${y2}`;
    } else {
      x1 = a.x + W / 2; y1 = a.y + a.h; x2 = b.x + W / 2; y2 = b.y - 2;
      const c = (y2 - y1) / 2;
      d = `M${x1} ${y1} C${x1} ${y1 + c} ${x2} ${y2 - c} ${x2} ${y2}`;
    }
    edgeLayer.appendChild(s("path", { class: "dag-edge", d, "marker-end": "url(#dag-arrow)", "data-from": e.from, "data-to": e.to, "data-partitioning": e.partitioning },
      s("title", null, `${e.from}${e.tag ? "#" + e.tag : ""} → ${e.to}: ${e.partitioning}`)));
    // A side output's edge names it; so does an edge into a second input.
    let label = String(e.partitioning || "").toUpperCase();
    if (e.tag) label += " #" + e.tag;
    if (e.input) label += " (input " + (e.input + 1) + ")";
    const lw = label.length * 7 + 10;
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    labelLayer.appendChild(s("g", { class: "dag-edge-label" },
      s("rect", { x: mx - lw / 2, y: my - 9, width: lw, height: 18, rx: 9 }),
      s("text", { x: mx, y: my + 4, "text-anchor": "middle" }, label)));
  }

  const refs = new Map();
  const maxChars = Math.floor((W - 20) / 6.6);
  for (const v of plan.vertices) {
    const p = pos.get(v.id);
    const g = s("g", { class: "dag-node bp-ok", "data-vertex": v.id, transform: `translate(${p.x},${p.y})` });
    const box = s("rect", { class: "dag-rect", width: W, height: p.h, rx: 7 });
    g.appendChild(box);
    g.appendChild(s("text", { class: "dag-title", x: 10, y: 20 }, clip(v.id, maxChars - 6)));
    g.appendChild(s("text", { class: "dag-par", x: W - 10, y: 20, "text-anchor": "end" }, "×" + v.parallelism,
      s("title", null, `parallelism ${v.parallelism}`)));
    let y = 20 + LINE;
    for (const st of v.steps) {
      const fn = st.module ? ` ${st.module}.${st.function}` : "";
      g.appendChild(s("text", { class: "dag-step", x: 10, y },
        s("tspan", { class: "dag-kind" }, st.kind), " " + clip(st.id + fn, maxChars - st.kind.length - 1),
        s("title", null, `${st.kind} ${st.id}${fn}`)));
      y += LINE;
    }
    if (!withStats) {
      g.appendChild(s("title", null, v.name));
      nodeLayer.appendChild(g);
      continue;
    }
    const rates = s("text", { class: "dag-rates", x: 10, y: y + 4 }, "—");
    const totals = s("text", { class: "dag-totals", x: 10, y: y + 4 + LINE, "data-metric": "vertex-records" }, "—");
    const load = s("text", { class: "dag-load", x: 10, y: y + 4 + 2 * LINE }, "—");
    g.append(rates, totals, load);
    const sparkY = y + 4 + 2 * LINE + 8;
    const sparkHolder = s("g", { class: "dag-spark" });
    sparkHolder.appendChild(sparkPath([], W - 20, 22, 10, sparkY));
    g.appendChild(sparkHolder);
    const busyBar = s("rect", { class: "dag-busy", x: 0, y: p.h - 4, width: 0, height: 4, rx: 2 });
    g.appendChild(busyBar);
    const title = s("title", null, v.name);
    g.appendChild(title);
    const node = opts.href ? s("a", { href: opts.href(v), class: "dag-link", "aria-label": `vertex ${v.id}, parallelism ${v.parallelism}`, "data-key": "dag-" + v.id }, g) : g;
    nodeLayer.appendChild(node);
    refs.set(v.id, { g, rates, totals, load, sparkHolder, busyBar, sparkY, title, v });
  }

  function update(stats) {
    for (const [id, r] of refs) {
      const st = stats && stats.get(id);
      if (!st) continue;
      const lvl = bpLevel(st.backpressure);
      r.g.setAttribute("class", "dag-node bp-" + lvl);
      r.rates.textContent = `${fmtNum(st.rateIn)}/s in · ${fmtNum(st.rateOut)}/s out`;
      r.totals.textContent = `records ${fmtInt(st.recordsIn)} in · ${fmtInt(st.recordsOut)} out`;
      r.load.textContent = `busy ${fmtPct(st.busy)} · backpressure ${fmtPct(st.backpressure)}`;
      r.busyBar.setAttribute("width", String(Math.max(0, Math.min(1, st.busy)) * W));
      r.sparkHolder.replaceChildren(sparkPath(st.history || [], W - 20, 22, 10, r.sparkY));
      r.sparkHolder.setAttribute("data-samples", String((st.history || []).length));
      r.title.textContent = `${r.v.name}\nbackpressure ${fmtPct(st.backpressure)} (${lvl.toUpperCase()}), busy ${fmtPct(st.busy)}`;
    }
  }
  return { el: svg, update };
}
