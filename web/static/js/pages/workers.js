import { h, swap, table, empty, fmtBytes, ago } from "../dom.js";
import { api } from "../api.js";

// workersPage: every registered worker with its slots, tasks and memory.
export function workersPage(root) {
  const list = h("div", { "aria-live": "polite" }, "Loading…");
  root.append(h("h1", null, "Workers"), h("section", { class: "card" }, list));
  async function refresh() {
    const workers = await api.workers();
    swap(list, workers.length ? table(workers, [
      ["Worker", (w) => h("code", null, w.id)],
      ["Address", (w) => w.address || "in process", "hide-narrow"],
      ["Slots used", (w) => h("span", null, `${w.slots_used} / ${w.slots}`, slotBar(w)), "num"],
      ["Tasks", (w) => String(w.tasks), "num"],
      ["Memory", (w) => (w.memory_bytes ? fmtBytes(w.memory_bytes) : "—"), "num"],
      ["Last heartbeat", (w) => ago(w.last_heartbeat)],
    ], { id: "workers-table" })
      : empty("No worker has registered yet.", "Start one: ", h("code", null, "weir standalone"), " runs the control plane with one worker in the same process."));
  }
  return { title: "Workers", refresh, interval: 2000 };
}

function slotBar(w) {
  const pct = w.slots ? Math.round((100 * w.slots_used) / w.slots) : 0;
  return h("span", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": w.slots, "aria-valuenow": w.slots_used, "aria-label": "slots used" },
    h("span", { class: "meter-fill", style: `width:${pct}%` }));
}
