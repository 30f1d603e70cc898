import { h, swap, table, empty, fmtBytes, fmtTime, shortDigest } from "../dom.js";
import { api } from "../api.js";

// modulesPage: upload by drag and drop or the file picker, list with digest, size
// and functions, delete (the server refuses while a live job uses the module, and
// its message is shown as it is).
export function modulesPage(root, ctx) {
  const fileInput = h("input", { type: "file", id: "module-file", accept: ".wasm,application/wasm", class: "visually-hidden" });
  const chosen = h("span", { class: "muted", id: "module-chosen" }, "No file chosen");
  const nameInput = h("input", { type: "text", id: "module-name", name: "name", placeholder: "name (from the file name)", pattern: "[A-Za-z0-9_\\-]{1,64}", maxlength: 64, title: "letters, digits, _ and -", autocomplete: "off" });
  const uploadBtn = h("button", { type: "submit", class: "primary", id: "upload-module", disabled: true }, "Upload");
  const status = h("div", { id: "upload-status", class: "form-status", "aria-live": "polite" });
  const notice = h("div", { class: "notice", id: "modules-notice", role: "alert", hidden: true });
  const list = h("div", { "aria-live": "polite" }, "Loading…");
  let file = null;

  const drop = h("label", { class: "dropzone", for: "module-file" },
    h("strong", null, "Drop a .wasm module here"), h("span", null, " or "), h("span", { class: "linklike" }, "choose a file"),
    h("div", null, chosen), fileInput);
  const form = h("form", { class: "upload", onsubmit: upload },
    drop,
    h("div", { class: "toolbar" }, h("label", null, "Name ", nameInput), uploadBtn),
    status);

  root.append(
    h("h1", null, "Modules"),
    h("section", { class: "card" }, h("h2", null, "Upload a module"),
      h("p", { class: "muted" }, "A module is WebAssembly built with a Weir SDK. It is validated on upload; a job pins the digest it was submitted with."),
      form),
    notice,
    h("section", { class: "card" }, h("h2", null, "Uploaded modules"), list));

  function choose(f) {
    file = f || null;
    chosen.textContent = file ? `${file.name} (${fmtBytes(file.size)})` : "No file chosen";
    if (file && !nameInput.dataset.edited) nameInput.value = file.name.replace(/\.wasm$/i, "").replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
    uploadBtn.disabled = !file;
    swap(status);
  }
  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  nameInput.addEventListener("input", () => { nameInput.dataset.edited = nameInput.value ? "1" : ""; });
  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) choose(f);
  });

  async function upload(ev) {
    ev.preventDefault();
    if (!file) return;
    const name = nameInput.value.trim() || file.name.replace(/\.wasm$/i, "");
    uploadBtn.disabled = true;
    swap(status, h("span", { class: "muted" }, `Uploading and validating ${name}…`));
    try {
      const m = await api.uploadModule(name, file);
      swap(status, h("span", { class: "ok", id: "upload-ok" }, `Uploaded ${m.name}: ${m.functions.length} functions, ${shortDigest(m.digest)}…`));
      fileInput.value = "";
      nameInput.value = ""; nameInput.dataset.edited = "";
      file = null;
      chosen.textContent = "No file chosen";
      ctx.refresh();
    } catch (e) {
      swap(status, h("span", { class: "error", role: "alert" }, "Upload failed: " + e.message));
      uploadBtn.disabled = false;
    }
  }

  // Deleting asks once more: the first press arms the button for a few seconds.
  const armed = new Map(); // name -> timeout
  async function remove(name, btn) {
    if (!armed.has(name)) {
      armed.set(name, setTimeout(() => { armed.delete(name); ctx.refresh(); }, 4000));
      btn.textContent = "Confirm delete";
      btn.classList.add("armed");
      return;
    }
    clearTimeout(armed.get(name));
    armed.delete(name);
    notice.hidden = true;
    try {
      await api.deleteModule(name);
      notice.hidden = false;
      notice.className = "notice ok";
      notice.textContent = `Deleted ${name}.`;
    } catch (e) {
      notice.hidden = false;
      notice.className = "notice error";
      notice.textContent = `Cannot delete ${name}: ${e.message}`;
    }
    ctx.refresh();
  }

  async function refresh() {
    const mods = await api.modules();
    mods.sort((a, b) => a.name.localeCompare(b.name));
    swap(list, mods.length ? table(mods, [
      ["Name", (m) => h("strong", null, m.name)],
      ["Functions", (m) => h("ul", { class: "fns" }, m.functions.map((f) => h("li", null, h("code", null, f.name), " ", h("span", { class: "kind" }, f.kind))))],
      ["Size", (m) => fmtBytes(m.size), "num"],
      ["Digest", (m) => h("code", { class: "digest", title: m.digest }, shortDigest(m.digest) + "…")],
      ["Uploaded", (m) => fmtTime(m.uploaded_at), "hide-narrow"],
      ["", (m) => h("button", {
        type: "button", class: "danger small" + (armed.has(m.name) ? " armed" : ""), "data-key": "del-" + m.name, "data-module": m.name,
        "aria-label": `delete module ${m.name}`, onclick: (e) => remove(m.name, e.currentTarget),
      }, armed.has(m.name) ? "Confirm delete" : "Delete")],
    ], { id: "modules-table", rowAttrs: (m) => ({ "data-module": m.name }) })
      : empty("No modules yet.", "Upload a .wasm module above, for example ", h("code", null, "build/wasm/orders.wasm"), " (", h("code", null, "make examples"), " builds it)."));
  }
  return { title: "Modules", refresh, interval: 5000 };
}
