import { h, swap, status, table, empty, fmtBytes, fmtTime } from "../dom.js";
import { api } from "../api.js";

// savepointsPage: every savepoint of every job, newest first, each with a delete
// button that asks once more (the server refuses with 409 while one is in
// progress, and its message is shown as it is).
export function savepointsPage(root, ctx) {
  const notice = h("div", { class: "notice", id: "savepoints-notice", role: "alert", hidden: true });
  const list = h("div", { "aria-live": "polite" }, "Loading…");
  root.append(
    h("h1", null, "Savepoints"),
    h("p", { class: "muted" }, "A savepoint is a checkpoint taken on request and kept until it is deleted. Take one from the page of a running job with checkpointing; a job submitted with ",
      h("code", null, "from_savepoint: <id>"), " starts from it."),
    notice,
    h("section", { class: "card" }, h("h2", null, "Savepoints of every job"), list));

  // Deleting asks once more: the first press arms the button for a few seconds.
  const armed = new Map(); // savepoint id -> timeout
  async function remove(sp, btn) {
    if (!armed.has(sp)) {
      armed.set(sp, setTimeout(() => { armed.delete(sp); ctx.refresh(); }, 4000));
      btn.textContent = "Confirm delete";
      btn.classList.add("armed");
      return;
    }
    clearTimeout(armed.get(sp));
    armed.delete(sp);
    notice.hidden = true;
    try {
      await api.deleteSavepoint(sp);
      notice.hidden = false;
      notice.className = "notice ok";
      notice.textContent = `Deleted ${sp}.`;
    } catch (e) {
      notice.hidden = false;
      notice.className = "notice error";
      notice.textContent = `Cannot delete ${sp}: ${e.message}`;
    }
    ctx.refresh();
  }

  async function refresh() {
    const sps = await api.savepoints();
    sps.sort((a, b) => String(b.created).localeCompare(String(a.created)));
    swap(list, sps.length ? table(sps, [
      ["Id", (s) => h("code", null, s.id)],
      ["Job", (s) => h("a", { href: `#/jobs/${encodeURIComponent(s.job_id)}/checkpoints`, "data-key": "job-" + s.id }, s.job_name || s.job_id)],
      ["Status", (s) => status(s.status)],
      ["Created", (s) => fmtTime(s.created), "hide-narrow"],
      ["Completed", (s) => fmtTime(s.completed), "hide-narrow"],
      ["Size", (s) => (s.status === "COMPLETED" ? fmtBytes(s.size) : "—"), "num"],
      ["Checkpoint", (s) => (s.checkpoint ? String(s.checkpoint) : "—"), "num"],
      ["Error", (s) => s.error || ""],
      ["", (s) => h("button", {
        type: "button", class: "danger small" + (armed.has(s.id) ? " armed" : ""), "data-key": "del-" + s.id, "data-savepoint": s.id,
        "aria-label": `delete savepoint ${s.id}`, onclick: (e) => remove(s.id, e.currentTarget),
      }, armed.has(s.id) ? "Confirm delete" : "Delete")],
    ], { id: "savepoints-table", focusable: true, label: "savepoints", rowAttrs: (s) => ({ "data-savepoint": s.id }) })
      : empty("No savepoints yet.", "Open a running job that takes checkpoints and press ", h("strong", null, "Take savepoint"), ", or run ", h("code", null, "weir job savepoint ID"), "."));
  }
  return { title: "Savepoints", refresh, interval: 2000 };
}
