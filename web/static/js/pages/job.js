import { h, swap, status, table, empty, fmtInt, fmtNum, fmtPct, fmtBytes, fmtTime, TERMINAL } from "../dom.js";
import { api, ApiError } from "../api.js";
import { renderDag, bpLevel } from "../dag.js";
import { sparkline } from "../spark.js";
import { uptime } from "./overview.js";
import { specView } from "./submit.js";

const TABS = [
  ["overview", "Overview"],
  ["subtasks", "Subtasks"],
  ["exceptions", "Exceptions"],
  ["configuration", "Configuration"],
  ["checkpoints", "Checkpoints"],
];
const HISTORY = 60; // samples kept per vertex for the rate charts

// Rate history per job, kept across tab switches (each switch mounts the page anew).
const histories = new Map(); // job id -> Map(vertex id -> [{t, in, out}])

function vertexStats(job) {
  const hist = histories.get(job.id) || new Map();
  histories.set(job.id, hist);
  const sinks = new Set(job.plan.vertices.map((v) => v.id));
  for (const e of job.plan.edges) sinks.delete(e.from);
  const now = Date.now();
  const out = new Map();
  for (const v of job.plan.vertices) {
    const st = { recordsIn: 0, recordsOut: 0, bytesIn: 0, bytesOut: 0, buffers: 0, backpressure: 0, busy: 0, watermark: null, rateIn: 0, rateOut: 0, history: [] };
    for (const t of v.subtasks) {
      st.recordsIn += t.records_in; st.recordsOut += t.records_out;
      st.bytesIn += t.bytes_in || 0; st.bytesOut += t.bytes_out || 0;
      st.buffers += t.buffers_in_flight || 0;
      st.backpressure = Math.max(st.backpressure, t.backpressure || 0);
      st.busy = Math.max(st.busy, t.busy || 0);
      if (t.watermark) st.watermark = st.watermark === null ? t.watermark : Math.min(st.watermark, t.watermark);
    }
    const samples = hist.get(v.id) || [];
    hist.set(v.id, samples);
    const last = samples[samples.length - 1];
    // Counters move once per worker heartbeat, not per poll: take a sample when
    // they changed (or after 3 s of silence, which is a rate of zero), so polls
    // between two heartbeats do not show as dips.
    const changed = !last || st.recordsIn !== last.in || st.recordsOut !== last.out;
    if (!last || (changed && now - last.t >= 500) || now - last.t >= 3000) {
      samples.push({ t: now, in: st.recordsIn, out: st.recordsOut });
      if (samples.length > HISTORY + 1) samples.shift();
    }
    // A rate spans at least 2 s of samples: a poll and a heartbeat are not in
    // step, so the counters of one poll interval may hold one heartbeat or two.
    const rate = (i, k) => {
      let j = i - 1;
      while (j > 0 && samples[i].t - samples[j].t < 2000) j--;
      const a = samples[j], b = samples[i];
      const dt = (b.t - a.t) / 1000;
      return dt > 0 ? Math.max(0, (b[k] - a[k]) / dt) : 0; // a restart resets counters: no negative rates
    };
    if (samples.length >= 2 && !TERMINAL.has(job.status)) {
      st.rateIn = rate(samples.length - 1, "in");
      st.rateOut = rate(samples.length - 1, "out");
      const key = sinks.has(v.id) ? "in" : "out";
      for (let i = 1; i < samples.length; i++) st.history.push(rate(i, key));
    }
    out.set(v.id, st);
  }
  return out;
}

function planSignature(plan) {
  return JSON.stringify([plan.vertices.map((v) => [v.id, v.parallelism, v.steps.map((s) => s.id)]), plan.edges]);
}

// jobPage: one job with its DAG, subtasks, exceptions, configuration and
// checkpoints, each tab at its own URL (#/jobs/{id}/{tab}).
export function jobPage(root, ctx) {
  const id = ctx.params[0];
  const tab = TABS.some((t) => t[0] === ctx.params[1]) ? ctx.params[1] : "overview";
  const base = "#/jobs/" + encodeURIComponent(id);
  let job = null, exceptions = [], gone = false, canceling = false, checkpoints = null;
  // The savepoint this page last asked for: its id and status, polled until it ends.
  let savepoint = null;

  const heading = h("h1", { class: "job-name" }, "Job");
  const statusEl = h("span", { id: "job-status", "aria-live": "polite" });
  const meta = h("dl", { class: "meta" });
  const reason = h("div", { class: "reason-box", hidden: true, role: "status" });
  const actions = h("div", { class: "actions" });
  const tabs = h("nav", { class: "tabs", "aria-label": "job sections" },
    TABS.map(([k, label]) => h("a", { href: k === "overview" ? base : `${base}/${k}`, "aria-current": k === tab ? "page" : null, "data-tab": k }, label,
      k === "exceptions" ? h("span", { class: "count", id: "exception-count" }) : null)));
  const panel = h("div", { class: "tab-panel", id: "tab-" + tab });
  const notice = h("div", { class: "notice", role: "alert", hidden: true });
  const dialog = cancelDialog();

  root.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "Jobs"), " / "),
    h("div", { class: "page-head" }, h("div", null, heading, " ", statusEl), actions),
    reason, notice, meta, tabs, panel, dialog.el);

  // Tab content that lives across polls.
  let dagBox = null, dag = null, dagSig = "", dagVertical = null, vertexBox = null, subtaskBox = null, subtaskFilter = null, checkpointBox = null;
  if (tab === "overview") {
    dagBox = h("div", { class: "dag-box", id: "job-dag" });
    vertexBox = h("div");
    panel.append(
      h("section", { class: "card" }, h("h2", null, "Job graph"), dagBox, legend()),
      h("section", { class: "card" }, h("h2", null, "Vertices"), vertexBox));
  } else if (tab === "subtasks") {
    subtaskFilter = h("select", { id: "vertex-filter", "aria-label": "vertex", onchange: () => {
      const q = subtaskFilter.value ? "?vertex=" + encodeURIComponent(subtaskFilter.value) : "";
      history.replaceState(null, "", `${base}/subtasks${q}`);
      ctx.refresh();
    } });
    subtaskBox = h("div");
    panel.append(h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Subtasks"), h("label", null, "Vertex ", subtaskFilter)), subtaskBox));
  } else if (tab === "checkpoints") {
    checkpointBox = h("div", { id: "checkpoints" });
    panel.append(checkpointBox);
  }

  function onResize() {
    if (!job || !dagBox) return;
    const vertical = dagBox.clientWidth < 700;
    if (vertical !== dagVertical) { dagSig = ""; draw(); }
  }
  window.addEventListener("resize", onResize);

  function draw() {
    if (!job || !dagBox) return;
    const stats = vertexStats(job);
    const sig = planSignature(job.plan);
    const vertical = dagBox.clientWidth < 700;
    if (sig !== dagSig || vertical !== dagVertical) {
      dag = renderDag(job.plan, { vertical, href: (v) => `${base}/subtasks?vertex=${encodeURIComponent(v.id)}`, label: `job graph of ${job.name}: ${job.plan.vertices.length} vertices, ${job.plan.edges.length} edges` });
      dagSig = sig; dagVertical = vertical;
      swap(dagBox, dag.el);
    }
    dag.update(stats);
    return stats;
  }

  function renderHeader() {
    heading.textContent = job.name;
    document.title = "Weir · " + job.name;
    // After a cancel is accepted the job shows CANCELING until it has ended.
    const shown = canceling && !TERMINAL.has(job.status) ? "CANCELING" : job.status;
    if (statusEl.firstChild?.dataset.status !== shown) swap(statusEl, status(shown));
    reason.hidden = !job.reason;
    reason.textContent = job.reason || "";
    const restarts = Math.max(0, (job.attempt || 0) - 1);
    swap(meta,
      h("div", null, h("dt", null, "Id"), h("dd", null, h("code", null, job.id))),
      h("div", null, h("dt", null, "Started"), h("dd", null, fmtTime(job.created_at))),
      h("div", null, h("dt", null, TERMINAL.has(job.status) ? "Ran for" : "Uptime"), h("dd", null, uptime(job))),
      h("div", null, h("dt", null, "Restarts"), h("dd", null, String(restarts))),
      h("div", null, h("dt", null, "Records"), h("dd", { id: "job-records", "data-metric": "records" }, recordsText(job))));
    const el = document.getElementById("exception-count");
    if (el) el.textContent = exceptions.length ? String(exceptions.length) : "";
    if (TERMINAL.has(job.status) || canceling) {
      swap(actions, savepointLine());
    } else if (!actions.querySelector("#cancel-job") || actions.dataset.sp !== spSig()) {
      const can = job.status === "RUNNING" && checkpointing();
      actions.dataset.sp = spSig();
      swap(actions,
        h("div", { class: "action-buttons" },
          h("button", { id: "take-savepoint", type: "button", disabled: !can, onclick: () => takeSavepoint(false) }, "Take savepoint"),
          h("button", { id: "stop-savepoint", type: "button", disabled: !can, onclick: () => takeSavepoint(true) }, "Stop with savepoint"),
          h("button", { id: "cancel-job", class: "danger", type: "button", "data-key": "cancel", onclick: () => dialog.open(job) }, "Cancel job")),
        checkpointing() ? savepointLine()
          : h("p", { class: "muted small" }, "Savepoints need checkpointing: add a checkpointing section to the job spec."));
    }
  }

  // checkpointing reports whether the job's spec has a checkpointing section.
  function checkpointing() {
    return /^checkpointing\s*:/m.test(job.spec || "");
  }

  function spSig() {
    return savepoint ? savepoint.id + ":" + savepoint.status : "";
  }

  function savepointLine() {
    if (!savepoint) return null;
    return h("p", { class: "small", id: "savepoint-status", role: "status" },
      `Savepoint ${savepoint.id}: `, status(savepoint.status), savepoint.error ? " " + savepoint.error : "");
  }

  async function takeSavepoint(stop) {
    notice.hidden = true;
    try {
      const res = stop ? await api.stopWithSavepoint(id) : await api.savepoint(id);
      savepoint = { id: stop ? res.savepoint : res.id, status: "IN_PROGRESS" };
    } catch (e) {
      notice.hidden = false;
      notice.textContent = (stop ? "Stop with savepoint" : "Savepoint") + " failed: " + e.message;
    }
    ctx.refresh();
  }

  function notFound() {
    gone = true;
    heading.textContent = "No such job";
    swap(panel, h("section", { class: "card" }, empty(`There is no job with id ${id}.`, h("a", { href: "#/jobs" }, "See every job"), ".")));
  }

  let checked = false;
  async function refresh() {
    if (gone) return;
    // A bookmark to a job that is gone: ask the list first, so the page shows
    // that without a failed request in the console.
    if (!checked) {
      if (!(await api.jobs()).some((j) => j.id === id)) { notFound(); return; }
      checked = true;
    }
    try {
      [job, exceptions] = await Promise.all([api.job(id), api.exceptions(id)]);
      if (savepoint && savepoint.status === "IN_PROGRESS") savepoint = await api.savepointStatus(savepoint.id);
      if (tab === "checkpoints") checkpoints = await api.checkpoints(id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { notFound(); return; }
      throw e;
    }
    renderHeader();
    if (tab === "overview") {
      const stats = draw();
      swap(vertexBox, vertexTable(job, stats));
    } else if (tab === "subtasks") {
      renderSubtasks();
    } else if (tab === "exceptions") {
      swap(panel, exceptionList(exceptions, job));
    } else if (tab === "configuration" && !panel.childElementCount) {
      panel.append(configuration(job));
    } else if (tab === "checkpoints") {
      swap(checkpointBox, checkpointView(checkpoints));
    }
  }

  function renderSubtasks() {
    const want = new URLSearchParams(location.hash.split("?")[1] || "").get("vertex") || "";
    // Rebuild the options only when the vertices change: replacing them on every
    // poll would close the list while the user is choosing.
    const sig = job.plan.vertices.map((v) => v.id).join("\n");
    if (subtaskFilter.dataset.sig !== sig) {
      swap(subtaskFilter, h("option", { value: "" }, "all vertices"), job.plan.vertices.map((v) => h("option", { value: v.id }, v.id)));
      subtaskFilter.dataset.sig = sig;
    }
    if (document.activeElement !== subtaskFilter) subtaskFilter.value = want;
    const rows = [];
    for (const v of job.plan.vertices) {
      if (want && v.id !== want) continue;
      for (const t of v.subtasks) rows.push({ v, t });
    }
    swap(subtaskBox, rows.length ? table(rows, [
      ["Vertex", (r) => r.v.id],
      ["#", (r) => String(r.t.index), "num"],
      ["Status", (r) => status(r.t.status)],
      ["Worker", (r) => r.t.worker || "—"],
      ["Records in", (r) => fmtInt(r.t.records_in), "num"],
      ["Records out", (r) => fmtInt(r.t.records_out), "num"],
      ["Bytes in", (r) => fmtBytes(r.t.bytes_in), "num"],
      ["Bytes out", (r) => fmtBytes(r.t.bytes_out), "num"],
      ["Buffers in flight", (r) => String(r.t.buffers_in_flight || 0), "num"],
      ["Sent to other workers", (r) => fmtBytes(r.t.exchange_bytes_out), "num"],
      ["Input queue / credit", (r) => `${r.t.input_queued || 0} / ${r.t.input_credit || 0}`, "num"],
      ["Wasm time", (r) => `${(r.t.wasm_call_seconds || 0).toFixed(1)} s`, "num"],
      ["Wasm memory", (r) => fmtBytes(r.t.wasm_memory_bytes), "num"],
      ["Backpressure", (r) => bpCell(r.t.backpressure), "num"],
      ["Busy", (r) => fmtPct(r.t.busy), "num"],
      ["Watermark", (r) => (r.t.watermark ? fmtTime(new Date(r.t.watermark).toISOString()) : "—")],
    ], { id: "subtasks-table", focusable: true, label: "subtasks" })
      : empty(TERMINAL.has(job.status) ? `The job is ${job.status}: it has no subtasks any more.` : "No subtasks are deployed yet: the job waits for free slots."));
  }

  return {
    title: "Job",
    refresh,
    interval: 1000,
    unmount: () => window.removeEventListener("resize", onResize),
  };

  function cancelDialog() {
    const msg = h("p");
    const el = h("dialog", { class: "dialog", id: "cancel-dialog", "aria-labelledby": "cancel-title" },
      h("h2", { id: "cancel-title" }, "Cancel this job?"), msg,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => el.close() }, "Keep running"),
        h("button", { type: "button", class: "danger", id: "confirm-cancel", onclick: async () => {
          el.close();
          notice.hidden = true;
          try {
            await api.cancel(id);
            canceling = true;
            swap(statusEl, status("CANCELING"));
            swap(actions);
          } catch (e) {
            notice.hidden = false;
            notice.textContent = "Cancelling failed: " + e.message;
          }
          ctx.refresh();
        } }, "Cancel job")));
    return {
      el,
      open(j) {
        msg.textContent = `${j.name} stops now and ends CANCELED. Records already written by its sinks stay; nothing is saved for a restart.`;
        el.showModal();
      },
    };
  }
}

function recordsText(job) {
  // A job's intake is what its first vertices read, its output what its last
  // vertices (ending in the sinks, maybe chained with more steps) wrote.
  const targets = new Set(job.plan.edges.map((e) => e.to));
  const sources = new Set(job.plan.edges.map((e) => e.from));
  let read = 0, written = 0;
  for (const v of job.plan.vertices) {
    const sum = (k) => v.subtasks.reduce((a, t) => a + t[k], 0);
    if (!targets.has(v.id)) read += sum("records_in");
    if (!sources.has(v.id)) written += sum("records_out");
  }
  return `${fmtInt(read)} read · ${fmtInt(written)} written`;
}

function bpCell(bp) {
  const lvl = bpLevel(bp || 0);
  return h("span", { class: "bp bp-" + lvl }, `${fmtPct(bp)} ${lvl.toUpperCase()}`);
}

function legend() {
  return h("p", { class: "legend" },
    h("span", { class: "bp bp-ok" }, "OK"), " backpressure under 10% · ",
    h("span", { class: "bp bp-low" }, "LOW"), " 10–50% · ",
    h("span", { class: "bp bp-high" }, "HIGH"), " 50% or more. The bar under a vertex is its busy time; the chart its record rate. Select a vertex for its subtasks.");
}

function vertexTable(job, stats) {
  return table(job.plan.vertices, [
    ["Vertex", (v) => h("a", { href: `#/jobs/${encodeURIComponent(job.id)}/subtasks?vertex=${encodeURIComponent(v.id)}`, "data-key": "v-" + v.id }, v.id)],
    ["Steps", (v) => v.steps.map((s) => s.kind + " " + s.id).join(" → "), "hide-narrow"],
    ["Par.", (v) => String(v.parallelism), "num"],
    ["Records in", (v) => fmtInt(stats.get(v.id).recordsIn), "num"],
    ["Records out", (v) => fmtInt(stats.get(v.id).recordsOut), "num"],
    ["Rate", (v) => h("span", { class: "rate" }, sparkline(stats.get(v.id).history, 90, 22, `record rate of ${v.id}`), " ", fmtNum(stats.get(v.id).rateOut) + "/s")],
    ["Backpressure", (v) => bpCell(stats.get(v.id).backpressure), "num"],
    ["Busy", (v) => fmtPct(stats.get(v.id).busy), "num"],
    ["Watermark", (v) => (stats.get(v.id).watermark ? fmtTime(new Date(stats.get(v.id).watermark).toISOString()) : "—"), "hide-narrow"],
  ], { id: "vertices-table", focusable: true, label: "vertices" });
}

function exceptionList(list, job) {
  if (!list.length) {
    return h("section", { class: "card" }, h("h2", null, "Exceptions"),
      empty("No exceptions.", `When a function traps, returns an error or runs past its limits, its message and Wasm stack show here. ${job.status === "RUNNING" ? "This job has had none." : ""}`));
  }
  return h("section", { class: "card" }, h("h2", null, "Exceptions"),
    h("ul", { class: "exceptions" }, [...list].reverse().map((x, i) =>
      h("li", { class: "exception" },
        h("div", { class: "exc-head" }, h("span", { class: "badge st-failed" }, x.kind || "error"), " ", h("code", null, x.task), " ", h("span", { class: "muted" }, fmtTime(x.time))),
        h("pre", { class: "exc-message" }, x.message),
        x.stack ? h("details", { open: i === 0 }, h("summary", null, "Wasm stack"), h("pre", { class: "exc-stack" }, x.stack)) : null))));
}

function configuration(job) {
  const mods = Object.entries(job.modules || {});
  return h("div", null,
    h("section", { class: "card" }, h("h2", null, "Pinned modules"),
      mods.length ? table(mods, [["Module", (m) => m[0]], ["Digest", (m) => h("code", { class: "digest" }, m[1])]], { id: "pinned-modules" })
        : empty("This job uses no Wasm module.")),
    h("section", { class: "card" }, h("h2", null, "Submitted spec"), specView(job.spec)));
}

// checkpointView is the checkpoints tab: totals, the recent checkpoints (newest
// first, each with its subtasks' figures) and the restores.
function checkpointView(l) {
  if (!l || !l.enabled) {
    return h("section", { class: "card" }, h("h2", null, "Checkpoints"),
      empty("This job takes no checkpoints.",
        "Add a checkpointing section to its spec (for instance checkpointing: { interval: 1s }) for exactly-once state, recovery from the latest checkpoint, and savepoints. A job without it resumes after a restart from the stream positions its sinks have written."));
  }
  const c = l.counts || {};
  const list = [...(l.checkpoints || [])].reverse();
  // Checkpoint times are often under a second: milliseconds below one.
  const ms = (x) => (!x ? "0 ms" : x < 1000 ? `${x < 10 ? x.toFixed(1) : Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`);
  return h("div", null,
    h("section", { class: "card" }, h("h2", null, "Checkpoints"),
      h("p", { id: "checkpoint-summary" }, `Latest completed: ${l.latest || "none yet"} · ${c.completed || 0} completed, ${c.failed || 0} failed, ${c.aborted || 0} aborted, ${c.in_progress || 0} in progress`),
      list.length ? table(list, [
        ["Id", (k) => k.savepoint ? `${k.id} (${k.savepoint})` : String(k.id), "num"],
        ["Status", (k) => status(k.status)],
        ["Triggered", (k) => fmtTime(k.triggered)],
        ["Duration", (k) => (k.status === "IN_PROGRESS" ? "—" : ms(k.duration_ms)), "num"],
        ["Size", (k) => fmtBytes(k.size), "num"],
        ["Uploaded", (k) => fmtBytes(k.uploaded), "num"],
        ["Acks", (k) => `${k.acked}/${k.expected}`, "num"],
        ["Subtasks (alignment / sync / async)", (k) => (k.subtasks && k.subtasks.length)
          ? h("details", null, h("summary", null, `${k.subtasks.length} subtasks`),
            h("ul", { class: "plain small" }, k.subtasks.map((s) => h("li", null, `${s.task}: ${ms(s.alignment_ms)} / ${ms(s.sync_ms)} / ${ms(s.async_ms)}, ${fmtBytes(s.size)}`))))
          : "—"],
        ["Failure", (k) => k.failure || ""],
      ], { id: "checkpoints-table", focusable: true, label: "checkpoints" })
        : empty("No checkpoint yet.", "The first one starts an interval after every subtask runs.")),
    h("section", { class: "card" }, h("h2", null, "Restores"),
      (l.restores || []).length ? table([...l.restores].reverse(), [
        ["Attempt", (r) => String(r.attempt), "num"],
        ["Restored checkpoint", (r) => (r.checkpoint ? String(r.checkpoint) : "none (a fresh start)"), "num"],
        ["At", (r) => fmtTime(r.at)],
      ], { id: "restores-table" }) : empty("No attempt yet.")));
}
