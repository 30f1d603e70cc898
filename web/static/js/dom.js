// Small DOM and formatting helpers. Every piece of text from the server goes in
// through textContent or an attribute, never through innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

// h builds an element: h("a", {href: "#/jobs", class: "x"}, "text", child, [more]).
// Attributes named on* take a function; null, undefined and false are left out.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s builds an SVG element the same way.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// swap replaces the children of el, keeping keyboard focus on the element with the
// same data-key when the new content has one, so polling never steals focus.
export function swap(el, ...children) {
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.getAttribute("data-key") : null;
  el.replaceChildren();
  append(el, children);
  if (key) {
    const again = el.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

// status renders a status as a coloured badge; the text is always there, so the
// colour is never the only signal.
export function status(st) {
  return h("span", { class: "badge st-" + String(st || "UNKNOWN").toLowerCase(), "data-status": st }, st || "UNKNOWN");
}

export function fmtInt(n) {
  return Math.round(Number(n) || 0).toLocaleString("en-US");
}

// fmtNum is a short number: 950, 12.3k, 4.5M.
export function fmtNum(n) {
  n = Number(n) || 0;
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
  if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
  if (a >= 1e3) return (n / 1e3).toFixed(a >= 1e4 ? 0 : 1) + "k";
  return a >= 10 || n === Math.round(n) ? String(Math.round(n)) : n.toFixed(1);
}

export function fmtBytes(n) {
  n = Number(n) || 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
}

export function fmtPct(x) {
  x = Number(x) || 0;
  if (x > 0 && x < 0.005) return "<1%";
  return Math.round(x * 100) + "%";
}

// fmtDuration is "3s", "4m 12s", "2h 5m", "3d 4h".
export function fmtDuration(ms) {
  let sec = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(sec / 86400); sec -= d * 86400;
  const hr = Math.floor(sec / 3600); sec -= hr * 3600;
  const m = Math.floor(sec / 60); sec -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

// parseTime returns ms since the epoch, or null for Go's zero time.
export function parseTime(t) {
  if (!t || t.startsWith("0001-")) return null;
  const v = Date.parse(t);
  return Number.isNaN(v) ? null : v;
}

export function fmtTime(t) {
  const v = parseTime(t);
  if (v === null) return "—";
  const d = new Date(v);
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function ago(t) {
  const v = parseTime(t);
  if (v === null) return "—";
  return fmtDuration(Date.now() - v) + " ago";
}

export function shortDigest(d) {
  d = String(d || "");
  const i = d.indexOf(":");
  return i >= 0 ? d.slice(0, i + 13) : d.slice(0, 12);
}

export const TERMINAL = new Set(["CANCELED", "FINISHED", "FAILED"]);

// table builds a table inside a scrolling wrapper, so a narrow window scrolls the
// table and never the page. cols: [[header, row => cell, className?], ...].
export function table(rows, cols, opts = {}) {
  return h("div", { class: "table-wrap", tabindex: opts.focusable ? 0 : null, role: opts.focusable ? "region" : null, "aria-label": opts.label || null },
    h("table", { class: opts.class || null, id: opts.id || null },
      h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col", class: c[2] || null }, c[0])))),
      h("tbody", null, rows.map((r) => h("tr", opts.rowAttrs ? opts.rowAttrs(r) : null, cols.map((c) => h("td", { class: c[2] || null }, c[1](r))))))));
}

// empty is an empty state: what is missing and what to do next.
export function empty(title, ...next) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), next.length ? h("p", null, ...next) : null);
}
