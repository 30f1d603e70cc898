import { h, swap, empty } from "../dom.js";
import { api, ApiError } from "../api.js";
import { renderDag } from "../dag.js";

const DRAFT = "weir.submit.draft";
const TEMPLATE = `name: my-job
parallelism: 1
pipeline:
  - id: source
    source:
      jetstream: { stream: ORDERS }
  # Put the cursor here, pick a function below and press "Insert step".
  - id: sink
    sink:
      jetstream: { subject: orders.out }
`;

// The spec key of a step that calls a function of each kind.
const STEP_KEY = {
  map: "map", filter: "filter", flat_map: "flat_map", process: "process",
  reduce: "reduce", aggregate: "aggregate", co_process: "co_process",
};

// specView shows a spec read-only with line numbers.
export function specView(text) {
  const lines = String(text || "").replace(/\n$/, "").split("\n");
  return h("div", { class: "code-view", tabindex: 0, role: "region", "aria-label": "job spec" },
    h("ol", { class: "code-lines" }, lines.map((l) => h("li", null, h("code", null, l || " ")))));
}

// submitPage: a YAML editor with line numbers, live validation by dry run with
// the server's errors marked at their line, a module picker, and submit.
export function submitPage(root) {
  const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  const band = h("div", { class: "err-band", hidden: true, "aria-hidden": "true" });
  const editor = h("textarea", {
    id: "spec-editor", class: "editor-text", spellcheck: "false", wrap: "off", autocapitalize: "off", autocomplete: "off",
    "aria-label": "job spec (YAML)", "aria-describedby": "spec-result",
  });
  editor.value = localStorage.getItem(DRAFT) || TEMPLATE;
  const result = h("div", { id: "spec-result", class: "spec-result", "aria-live": "polite" });
  const preview = h("div", { class: "dag-box" });
  const picker = h("select", { id: "module-picker", "aria-label": "module function" }, h("option", { value: "" }, "Loading modules…"));
  const submitBtn = h("button", { type: "button", class: "primary", id: "submit-job", onclick: () => run(false) }, "Submit job");
  let errLine = 0, timer = 0, seq = 0;

  root.append(
    h("h1", null, "Submit a job"),
    h("p", { class: "muted" }, "Describe the job in YAML: a pipeline of steps from a source through your module's functions to a sink. ",
      h("a", { href: "#/modules" }, "Upload a module"), " first if the list below is empty. Every edit is checked by the server without running anything. In the editor Tab indents; press Esc, then Tab, to move on."),
    h("section", { class: "card" },
      h("div", { class: "editor" }, gutter, h("div", { class: "editor-main" }, band, editor)),
      result,
      h("div", { class: "toolbar" },
        h("label", { class: "picker" }, "Function ", picker),
        h("button", { type: "button", id: "insert-step", onclick: insertStep }, "Insert step"),
        h("span", { class: "spacer" }),
        h("button", { type: "button", id: "validate-job", onclick: () => run(true) }, "Validate"),
        submitBtn)),
    h("section", { class: "card" }, h("h2", null, "Plan preview"), preview));

  function lineHeight() {
    return parseFloat(getComputedStyle(editor).lineHeight) || 20;
  }

  function renderGutter() {
    const n = editor.value.split("\n").length;
    swap(gutter, Array.from({ length: n }, (_, i) => h("div", { class: "ln" + (i + 1 === errLine ? " ln-err" : ""), "data-line": i + 1 }, String(i + 1))));
    gutter.scrollTop = editor.scrollTop;
    placeBand();
  }

  function placeBand() {
    if (!errLine) { band.hidden = true; return; }
    band.hidden = false;
    const pad = parseFloat(getComputedStyle(editor).paddingTop) || 0;
    band.style.top = `${pad + (errLine - 1) * lineHeight() - editor.scrollTop}px`;
    band.style.height = `${lineHeight()}px`;
  }

  editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; placeBand(); });
  editor.addEventListener("input", () => {
    localStorage.setItem(DRAFT, editor.value);
    renderGutter();
    clearTimeout(timer);
    timer = setTimeout(() => run(true), 700);
  });
  editor.addEventListener("keydown", (ev) => {
    // Tab indents by two spaces inside the editor; Escape then Tab leaves it.
    if (ev.key === "Tab" && !ev.shiftKey && !editor.dataset.escaped) {
      ev.preventDefault();
      editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
      editor.dispatchEvent(new Event("input"));
    }
    editor.dataset.escaped = ev.key === "Escape" ? "1" : "";
  });

  function goToLine(line, column) {
    const lines = editor.value.split("\n");
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, (column || 1) - 1);
    editor.focus();
    editor.setSelectionRange(pos, pos);
    editor.scrollTop = Math.max(0, (line - 3) * lineHeight());
  }

  function showError(e) {
    errLine = e.line || 0;
    swap(preview, empty("No plan: the spec has an error.", "Fix it and the job graph shows here again."));
    renderGutter();
    const where = e.line ? `Line ${e.line}${e.column ? ", column " + e.column : ""}` : "";
    swap(result, h("div", { class: "spec-error", role: "alert", id: "spec-error", "data-line": e.line || "", "data-column": e.column || "" },
      where ? h("button", { type: "button", class: "linklike", onclick: () => goToLine(e.line, e.column) }, where + ":") : null,
      " ", h("span", { class: "spec-error-msg" }, e.message),
      e.field ? h("span", { class: "muted" }, ` (${e.field})`) : null));
  }

  async function run(dry) {
    clearTimeout(timer);
    const my = ++seq;
    const spec = editor.value;
    if (!spec.trim()) {
      errLine = 0; renderGutter();
      swap(result, h("p", { class: "muted" }, "The spec is empty."));
      return;
    }
    if (!dry) submitBtn.disabled = true;
    try {
      const res = await api.submit(spec, dry);
      if (my !== seq) return;
      errLine = 0; renderGutter();
      if (dry) {
        const p = res.plan;
        swap(result, h("p", { class: "spec-ok", id: "spec-ok" }, `✓ Valid: ${p.vertices.length} ${p.vertices.length === 1 ? "vertex" : "vertices"}, ${p.edges.length} ${p.edges.length === 1 ? "edge" : "edges"}.`));
        swap(preview, renderDag(p, { vertical: preview.clientWidth < 700, label: "plan preview", stats: false }).el);
      } else {
        localStorage.removeItem(DRAFT);
        location.hash = "#/jobs/" + encodeURIComponent(res.id);
      }
    } catch (e) {
      if (my !== seq) return;
      if (e instanceof ApiError) showError(e);
      else throw e;
    } finally {
      submitBtn.disabled = false;
    }
  }

  function insertStep() {
    if (!picker.value) return;
    const { module, fn, kind } = JSON.parse(picker.value);
    const ref = `{ module: ${module}, function: ${fn} }`;
    let body;
    if (kind === "key_selector") body = `    key_by: ${ref}`;
    else if (kind === "timestamp_extractor") body = `    timestamps: { udf: ${ref} }`;
    else body = `    ${STEP_KEY[kind] || "map"}: ${ref}`;
    const snippet = `  - id: ${fn.replace(/_/g, "-")}\n${body}\n`;
    // Insert after the line the cursor is on, so the step is a whole list item.
    const v = editor.value;
    const nl = v.indexOf("\n", editor.selectionStart);
    const at = nl < 0 ? v.length : nl + 1;
    const prefix = nl < 0 && v && !v.endsWith("\n") ? "\n" : "";
    editor.setRangeText(prefix + snippet, at, at, "end");
    editor.focus();
    editor.dispatchEvent(new Event("input"));
  }

  async function loadModules() {
    try {
      const mods = await api.modules();
      const opts = [];
      for (const m of mods) {
        opts.push(h("optgroup", { label: `${m.name} (${m.digest.slice(0, 19)}…)` },
          m.functions.map((f) => h("option", { value: JSON.stringify({ module: m.name, fn: f.name, kind: f.kind }) }, `${m.name}.${f.name} — ${f.kind}`))));
      }
      swap(picker, opts.length ? opts : h("option", { value: "" }, "No modules uploaded yet"));
    } catch (e) {
      swap(picker, h("option", { value: "" }, "Modules unavailable: " + e.message));
    }
  }

  renderGutter();
  loadModules();
  swap(preview, empty("Nothing to preview yet.", "A valid spec shows its job graph here: chained steps in one vertex, partitioning on the edges."));
  run(true);
  return { title: "Submit a job" };
}
