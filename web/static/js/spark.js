import { s } from "./dom.js";

// sparkline draws values (oldest first) as a small SVG line with a filled area,
// scaled to its own maximum; a flat zero line when there is nothing yet.
export function sparkline(values, w = 120, h = 28, label = "record rate") {
  const svg = s("svg", { class: "spark", viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": label });
  svg.appendChild(sparkPath(values, w, h));
  return svg;
}

// sparkPath returns a <g> with the area and the line, to put into an existing SVG.
export function sparkPath(values, w, h, x0 = 0, y0 = 0) {
  const g = s("g", { class: "spark-g", transform: `translate(${x0},${y0})` });
  const n = values.length;
  const max = Math.max(1, ...values);
  const step = n > 1 ? w / (n - 1) : w;
  const pts = values.map((v, i) => [n > 1 ? i * step : w, h - 1 - (Math.max(0, v) / max) * (h - 2)]);
  if (pts.length === 1) pts.unshift([0, pts[0][1]]);
  if (!pts.length) pts.push([0, h - 1], [w, h - 1]);
  const line = pts.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" ");
  g.appendChild(s("rect", { class: "spark-bg", x: 0, y: 0, width: w, height: h, rx: 2 }));
  g.appendChild(s("path", { class: "spark-area", d: `${line} L${pts[pts.length - 1][0].toFixed(1)} ${h} L${pts[0][0].toFixed(1)} ${h} Z` }));
  g.appendChild(s("path", { class: "spark-line", d: line }));
  return g;
}
