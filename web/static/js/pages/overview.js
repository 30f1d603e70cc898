import { h, swap, status, table, empty, fmtDuration, fmtTime, parseTime, TERMINAL } from "../dom.js";
import { api } from "../api.js";

const STATUSES = ["RUNNING", "CREATED", "RESTARTING", "FAILING", "FINISHED", "CANCELED", "FAILED"];

export function uptime(j) {
  const start = parseTime(j.created_at);
  if (start === null) return "—";
  const end = TERMINAL.has(j.status) ? parseTime(j.updated_at) || Date.now() : Date.now();
  return fmtDuration(end - start);
}

// overviewPage: workers, slots used and free, jobs by status, and the first
// steps for a new user.
export function overviewPage(root) {
  const stats = h("div", { class: "stats", "aria-live": "polite" }, "Loading…");
  const start = h("div");
  const recent = h("div");
  root.append(
    h("h1", null, "Overview"),
    stats,
    start,
    h("section", { class: "card" }, h("h2", null, "Recent jobs"), recent),
  );
  async function refresh() {
    const [workers, jobs, modules] = await Promise.all([api.workers(), api.jobs(), api.modules()]);
    const slots = workers.reduce((a, w) => a + w.slots, 0);
    const used = workers.reduce((a, w) => a + w.slots_used, 0);
    const by = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const j of jobs) by[j.status] = (by[j.status] || 0) + 1;
    swap(stats,
      stat("Workers", workers.length, "#/workers"),
      stat("Slots free", `${slots - used} / ${slots}`, "#/workers", `${used} in use`),
      stat("Running jobs", by.RUNNING, "#/jobs"),
      stat("Modules", modules.length, "#/modules"),
      h("div", { class: "stat stat-wide" }, h("div", { class: "stat-label" }, "Jobs by status"),
        h("ul", { class: "status-counts" }, STATUSES.filter((s) => by[s] || s === "RUNNING").map((s) =>
          h("li", null, status(s), " ", h("span", { "data-count": s }, by[s]))))));
    const steps = [];
    if (!workers.length) steps.push(h("li", null, "No worker has registered yet. ", h("code", null, "weir standalone"), " starts one with the control plane."));
    if (!modules.length) steps.push(h("li", null, h("a", { href: "#/modules" }, "Upload a Wasm module"), " with your functions (for example ", h("code", null, "build/wasm/orders.wasm"), " from ", h("code", null, "make examples"), ")."));
    if (!jobs.length) {
      steps.push(h("li", null, "Create the streams your job reads: ", h("code", null, "weir stream create ORDERS orders.in")));
      steps.push(h("li", null, h("a", { href: "#/submit" }, "Write and submit a job"), ": a pipeline from a source through your functions to a sink."));
    }
    swap(start, steps.length ? h("section", { class: "card getting-started" }, h("h2", null, "Get started"), h("ol", null, steps)) : null);
    const sorted = [...jobs].sort((a, b) => (b.created_at || "").localeCompare(a.created_at || "")).slice(0, 8);
    swap(recent, sorted.length ? jobTable(sorted) : empty("No jobs yet.", h("a", { href: "#/submit" }, "Submit a job"), " to see it here."));
  }
  return { title: "Overview", refresh, interval: 2000 };
}

function stat(label, value, href, sub) {
  return h("a", { class: "stat", href }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, String(value)), sub ? h("div", { class: "stat-sub" }, sub) : null);
}

export function jobTable(jobs) {
  return table(jobs, [
    ["Name", (j) => h("a", { href: "#/jobs/" + encodeURIComponent(j.id), "data-key": "job-" + j.id }, j.name)],
    ["Status", (j) => [status(j.status), j.reason ? h("div", { class: "reason" }, j.reason) : null]],
    ["Started", (j) => fmtTime(j.created_at), "hide-narrow"],
    ["Uptime", (j) => uptime(j), "num"],
    ["Id", (j) => h("code", { title: j.id }, j.id.slice(0, 8)), "hide-narrow"],
  ], { class: "jobs" });
}
