// The public REST API under /api/v1, and nothing else.

// ApiError carries the server's error envelope: error, field, line, column.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.field = body && body.field;
    this.line = body && body.line;
    this.column = body && body.column;
  }
}

async function request(method, path, body, headers) {
  let res;
  try {
    res = await fetch("/api/v1" + path, { method, body, headers, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, { error: "cannot reach the Weir control plane (" + e.message + ")" });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.trim() || res.statusText }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  workers: () => request("GET", "/workers").then((d) => d.workers || []),
  jobs: () => request("GET", "/jobs").then((d) => d.jobs || []),
  job: (id) => request("GET", "/jobs/" + encodeURIComponent(id)),
  exceptions: (id) => request("GET", "/jobs/" + encodeURIComponent(id) + "/exceptions").then((d) => d.exceptions || []),
  cancel: (id) => request("DELETE", "/jobs/" + encodeURIComponent(id)),
  checkpoints: (id) => request("GET", "/jobs/" + encodeURIComponent(id) + "/checkpoints"),
  savepoint: (id) => request("POST", "/jobs/" + encodeURIComponent(id) + "/savepoints"),
  stopWithSavepoint: (id) => request("POST", "/jobs/" + encodeURIComponent(id) + "/stop", JSON.stringify({ savepoint: true }), { "Content-Type": "application/json" }),
  rescale: (id, parallelism) => request("POST", "/jobs/" + encodeURIComponent(id) + "/rescale", JSON.stringify({ parallelism }), { "Content-Type": "application/json" }),
  savepointStatus: (sp) => request("GET", "/savepoints/" + encodeURIComponent(sp)),
  savepoints: () => request("GET", "/savepoints").then((d) => d.savepoints || []),
  deleteSavepoint: (sp) => request("DELETE", "/savepoints/" + encodeURIComponent(sp)),
  submit: (spec, dryRun) => request("POST", "/jobs" + (dryRun ? "?dry_run=true" : ""), spec, { "Content-Type": "application/yaml" }),
  modules: () => request("GET", "/modules").then((d) => d.modules || []),
  module: (name) => request("GET", "/modules/" + encodeURIComponent(name)),
  deleteModule: (name) => request("DELETE", "/modules/" + encodeURIComponent(name)),
  // uploadModule sends multipart with "name" before "module", as the server
  // streams the parts in order.
  uploadModule: (name, file) => {
    const form = new FormData();
    form.append("name", name);
    form.append("module", file, file.name);
    return request("POST", "/modules", form);
  },
};
