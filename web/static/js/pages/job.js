import { h, swap, status, table, empty, fmtInt, fmtNum, fmtPct, fmtBytes, fmtTime, TERMINAL } from "../dom.js";
import { api, ApiError } from "../api.js";
import { renderDag, bpLevel } from "../dag.js";
import { sparkline } from "../spark.js";
import { uptime } from "./overview.js";

// fmtWatermark shows an event-time clock (ms): "—" before the first watermark
// (the API sends the smallest int64) or without event time, "end" once event
// time has ended (the largest int64, after a drain).
export function fmtWatermark(ms) {
  if (ms === undefined || ms === null || ms <= -8.64e15) return "—";
  if (ms >= 8.64e15) return "end";
  return fmtTime(new Date(ms).toISOString());
}
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
      if (t.watermark !== undefined && t.watermark !== null && !t.watermark_idle) st.watermark = st.watermark === null ? t.watermark : Math.min(st.watermark, t.watermark);
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
  let savepoint = null; // {id, status, what, error}
  let stopping = false; // a stop with savepoint was accepted
  // Checkpoint rows whose subtasks are shown, kept across polls.
  const expanded = new Set();

  const heading = h("h1", { class: "job-name" }, "Job");
  const statusEl = h("span", { id: "job-status", "aria-live": "polite" });
  const meta = h("dl", { class: "meta" });
  const reason = h("div", { class: "reason-box", hidden: true, role: "status" });
  const actionButtons = h("div", { id: "action-buttons" });
  const spLine = h("div", { role: "status", "aria-live": "polite" });
  const rescale = rescaleForm();
  const stopDialog = stopSavepointDialog();
  const actions = h("div", { class: "actions" }, actionButtons, rescale.el, spLine);
  const tabs = h("nav", { class: "tabs", "aria-label": "job sections" },
    TABS.map(([k, label]) => h("a", { href: k === "overview" ? base : `${base}/${k}`, "aria-current": k === tab ? "page" : null, "data-tab": k }, label,
      k === "exceptions" ? h("span", { class: "count", id: "exception-count" }) : null)));
  const panel = h("div", { class: "tab-panel", id: "tab-" + tab });
  const notice = h("div", { class: "notice", role: "alert", hidden: true });
  const dialog = cancelDialog();

  root.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "Jobs"), " / "),
    h("div", { class: "page-head" }, h("div", null, heading, " ", statusEl), actions),
    reason, notice, meta, tabs, panel, dialog.el, stopDialog.el);

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
    renderActions();
  }

  // The actions: savepoint, stop, rescale and cancel buttons (rebuilt only when
  // what they offer changes, so polling keeps focus), the rescale form (kept
  // across polls, so typing is never lost) and the followed savepoint's status.
  function renderActions() {
    const ended = TERMINAL.has(job.status) || canceling;
    const can = job.status === "RUNNING" && checkpointing() && !stopping;
    const sig = `${ended}|${can}|${job.status}`;
    if (actionButtons.dataset.sig !== sig) {
      actionButtons.dataset.sig = sig;
      const why = ended ? null
        : !checkpointing() ? "Savepoints, stop with savepoint and rescaling need checkpointing: add a checkpointing: section to the job spec, for example checkpointing: { interval: 1s }."
          : stopping ? "The job is stopping with a savepoint."
            : job.status !== "RUNNING" ? `Savepoints, stop with savepoint and rescaling need a RUNNING job; this one is ${job.status}.` : null;
      swap(actionButtons, ended ? null : [
        h("div", { class: "action-buttons" },
          h("button", { id: "take-savepoint", type: "button", "data-key": "take", disabled: !can, "aria-describedby": why ? "actions-why" : null, onclick: () => takeSavepoint(false) }, "Take savepoint"),
          h("button", { id: "stop-savepoint", type: "button", "data-key": "stop", disabled: !can, "aria-describedby": why ? "actions-why" : null, onclick: () => stopDialog.open(job) }, "Stop with savepoint…"),
          h("button", { id: "rescale-job", type: "button", "data-key": "rescale", disabled: !can, "aria-describedby": why ? "actions-why" : null, "aria-expanded": String(!rescale.el.hidden), "aria-controls": "rescale-form", onclick: () => rescale.toggle() }, "Rescale…"),
          h("button", { id: "cancel-job", class: "danger", type: "button", "data-key": "cancel", onclick: () => dialog.open(job) }, "Cancel job")),
        why ? h("p", { class: "muted small", id: "actions-why" }, why) : null,
      ]);
      if (!can) rescale.el.hidden = true;
    }
    if (spLine.dataset.sig !== spSig()) {
      spLine.dataset.sig = spSig();
      swap(spLine, savepointLine());
    }
  }

  // checkpointing reports whether the job's spec has a checkpointing section.
  function checkpointing() {
    return /^checkpointing\s*:/m.test(job.spec || "");
  }

  function spSig() {
    return savepoint ? savepoint.id + ":" + savepoint.status + ":" + savepoint.what : "";
  }

  function savepointLine() {
    if (!savepoint) return null;
    return h("p", { class: "small", id: "savepoint-status", "data-savepoint": savepoint.id },
      `${savepoint.what} `, h("a", { href: "#/savepoints" }, savepoint.id), ": ", status(savepoint.status), savepoint.error ? " " + savepoint.error : "");
  }

  // follow shows a savepoint the page asked for; refresh polls it until it ends.
  function follow(sp, what) {
    savepoint = { id: sp, status: "IN_PROGRESS", what };
  }

  async function takeSavepoint(stop) {
    notice.hidden = true;
    try {
      if (stop) {
        follow((await api.stopWithSavepoint(id)).savepoint, "Stop with savepoint");
        stopping = true;
      } else {
        follow((await api.savepoint(id)).id, "Savepoint");
      }
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
      // A savepoint deleted meanwhile (404) is no longer followed; the job is fine.
      if (savepoint && savepoint.status === "IN_PROGRESS") {
        savepoint = await api.savepointStatus(savepoint.id).then((sp) => ({ ...sp, what: savepoint.what }),
          (e) => { if (e instanceof ApiError && e.status === 404) return null; throw e; });
      }
      if (stopping && savepoint && savepoint.status !== "IN_PROGRESS") stopping = false;
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
      drawCheckpoints();
    }
  }

  function drawCheckpoints() {
    swap(checkpointBox, checkpointView(checkpoints, expanded, base, drawCheckpoints));
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
      ["Watermark", (r) => (r.t.watermark_idle ? "idle" : fmtWatermark(r.t.watermark))],
    ], { id: "subtasks-table", focusable: true, label: "subtasks" })
      : empty(TERMINAL.has(job.status) ? `The job is ${job.status}: it has no subtasks any more.` : "No subtasks are deployed yet: the job waits for free slots."));
  }

  return {
    title: "Job",
    refresh,
    interval: 1000,
    unmount: () => window.removeEventListener("resize", onResize),
  };

  // stopSavepointDialog confirms a stop with savepoint.
  function stopSavepointDialog() {
    const msg = h("p");
    const el = h("dialog", { class: "dialog", id: "stop-dialog", "aria-labelledby": "stop-title" },
      h("h2", { id: "stop-title" }, "Stop this job with a savepoint?"), msg,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => el.close() }, "Keep running"),
        h("button", { type: "button", class: "danger", id: "confirm-stop", onclick: () => { el.close(); takeSavepoint(true); } }, "Stop with savepoint")));
    return {
      el,
      open(j) {
        msg.textContent = `${j.name} takes a savepoint and ends FINISHED once it has completed. A job submitted with from_savepoint: <its id> carries on from there.`;
        el.showModal();
      },
    };
  }

  // rescaleForm asks for the new parallelism; the server's validation error shows
  // next to the field it names.
  function rescaleForm() {
    const input = h("input", { type: "number", id: "rescale-parallelism", name: "parallelism", min: 1, step: 1, required: true, inputmode: "numeric", "aria-describedby": "rescale-error", "data-key": "rescale-parallelism" });
    const error = h("span", { class: "error field-error", id: "rescale-error", "aria-live": "polite" });
    const el = h("form", { class: "rescale-form", id: "rescale-form", hidden: true, novalidate: true, "aria-label": "rescale", onsubmit: submit },
      h("label", { for: "rescale-parallelism" }, "Parallelism"), input,
      h("button", { type: "submit", class: "primary", id: "confirm-rescale" }, "Rescale"),
      h("button", { type: "button", id: "close-rescale", onclick: () => toggle(false) }, "Close"),
      error,
      h("p", { class: "muted small" }, "The job stops with a savepoint and runs again from it, with the same id, at this parallelism for every step."));
    async function submit(ev) {
      ev.preventDefault();
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      notice.hidden = true;
      const n = Number(input.value);
      if (input.value.trim() === "" || !Number.isInteger(n)) {
        error.textContent = "parallelism: a whole number, 1 or more";
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      try {
        const res = await api.rescale(id, n);
        follow(res.savepoint, "Rescale with savepoint");
        toggle(false);
      } catch (e) {
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 409) {
          error.textContent = (e.field ? e.field + ": " : "") + e.message;
          input.setAttribute("aria-invalid", "true");
          input.focus();
        } else {
          notice.hidden = false;
          notice.textContent = "Rescaling failed: " + e.message;
        }
      }
      ctx.refresh();
    }
    function toggle(open) {
      el.hidden = open === undefined ? !el.hidden : !open;
      document.getElementById("rescale-job")?.setAttribute("aria-expanded", String(!el.hidden));
      if (!el.hidden) {
        if (!input.value && job) input.value = String(Math.max(...job.plan.vertices.map((v) => v.parallelism)));
        input.focus();
      } else {
        error.textContent = "";
        input.removeAttribute("aria-invalid");
        if (el.contains(document.activeElement)) document.getElementById("rescale-job")?.focus();
      }
    }
    return { el, toggle };
  }

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
            rescale.el.hidden = true;
            renderActions();
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
    ["Watermark", (v) => fmtWatermark(stats.get(v.id).watermark), "hide-narrow"],
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
// first, each row expandable to its subtasks' figures) and the restores.
// expanded holds the ids of the expanded rows; redraw redraws after a toggle.
function checkpointView(l, expanded, base, redraw) {
  if (!l || !l.enabled) {
    return h("section", { class: "card" }, h("h2", null, "Checkpoints"),
      empty("This job takes no checkpoints.",
        "To have them, submit it with a ", h("code", null, "checkpointing:"), " section in its job spec, for example ",
        h("code", null, "checkpointing: { interval: 1s }"), " (see the ", h("a", { href: base + "/configuration" }, "spec it was submitted with"),
        " and docs/job-spec.md). Checkpoints give exactly-once state, recovery from the latest checkpoint, savepoints and rescaling. A job without them resumes after a restart from the stream positions its sinks have written."));
  }
  const c = l.counts || {};
  const list = [...(l.checkpoints || [])].reverse();
  const cols = ["Id", "Savepoint", "Status", "Triggered", "Duration", "Size", "Uploaded", "Acked", "Failure"];
  const toggle = (k) => {
    if (expanded.has(k.id)) expanded.delete(k.id); else expanded.add(k.id);
    if (redraw) redraw();
  };
  const rows = [];
  for (const k of list) {
    const open = expanded.has(k.id);
    const subs = k.subtasks || [];
    rows.push(h("tr", { "data-checkpoint": k.id },
      h("td", { class: "num" }, subs.length
        ? h("button", { type: "button", class: "expander", "data-key": "ck-" + k.id, "aria-expanded": String(open), "aria-controls": "ck-sub-" + k.id,
          "aria-label": `checkpoint ${k.id}: ${open ? "hide" : "show"} its ${subs.length} subtasks`, onclick: () => toggle(k) }, (open ? "▾ " : "▸ ") + k.id)
        : String(k.id)),
      h("td", null, k.savepoint ? h("a", { href: "#/savepoints" }, h("code", null, k.savepoint)) : "—"),
      h("td", null, status(k.status)),
      h("td", null, fmtTime(k.triggered)),
      h("td", { class: "num" }, k.status === "IN_PROGRESS" ? "—" : ms(k.duration_ms)),
      h("td", { class: "num" }, fmtBytes(k.size)),
      h("td", { class: "num" }, fmtBytes(k.uploaded)),
      h("td", { class: "num" }, `${k.acked}/${k.expected}`),
      h("td", { class: "failure" }, k.failure || "")));
    if (open && subs.length) {
      rows.push(h("tr", { class: "detail", id: "ck-sub-" + k.id },
        h("td", { colspan: cols.length },
          h("table", { class: "subtable", "aria-label": `subtasks of checkpoint ${k.id}` },
            h("thead", null, h("tr", null, ["Subtask", "Alignment", "Sync", "Async", "Size"].map((x, i) => h("th", { scope: "col", class: i ? "num" : null }, x)))),
            h("tbody", null, subs.map((t) => h("tr", null,
              h("td", null, t.task), h("td", { class: "num" }, ms(t.alignment_ms)), h("td", { class: "num" }, ms(t.sync_ms)),
              h("td", { class: "num" }, ms(t.async_ms)), h("td", { class: "num" }, fmtBytes(t.size)))))))));
    }
  }
  return h("div", null,
    h("section", { class: "card" }, h("h2", null, "Checkpoints"),
      h("p", { id: "checkpoint-summary" }, `Latest completed: ${l.latest || "none yet"} · ${c.completed || 0} completed, ${c.failed || 0} failed, ${c.aborted || 0} aborted, ${c.in_progress || 0} in progress, ${c.restored || 0} restored`),
      list.length ? h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "checkpoints" },
        h("table", { id: "checkpoints-table" },
          h("thead", null, h("tr", null, cols.map((x) => h("th", { scope: "col", class: ["Id", "Duration", "Size", "Uploaded", "Acked"].includes(x) ? "num" : null }, x)))),
          h("tbody", null, rows)))
        : empty("No checkpoint yet.", "The first one starts an interval after every subtask runs."),
      list.length ? h("p", { class: "muted small" }, "Select a checkpoint's id for its subtasks' alignment, sync and async times and state size.") : null),
    h("section", { class: "card" }, h("h2", null, "Restores"),
      (l.restores || []).length ? h("ul", { class: "plain", id: "restores" }, [...l.restores].reverse().map((r) =>
        h("li", { "data-attempt": r.attempt }, `Attempt ${r.attempt} → `, r.checkpoint ? `checkpoint ${r.checkpoint}` : "no checkpoint (a fresh start)", h("span", { class: "muted" }, ` · ${fmtTime(r.at)}`))))
        : empty("No attempt yet.")));
}

// ms formats a checkpoint time, often under a second: milliseconds below one.
function ms(x) {
  return !x ? "0 ms" : x < 1000 ? `${x < 10 ? x.toFixed(1) : Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`;
}
