import { h, swap, empty } from "../dom.js";
import { api } from "../api.js";
import { jobTable } from "./overview.js";

// jobsPage lists every job, live ones first, then by start time.
export function jobsPage(root) {
  const list = h("div", { "aria-live": "polite" }, "Loading…");
  root.append(
    h("div", { class: "page-head" }, h("h1", null, "Jobs"), h("a", { class: "button primary", href: "#/submit" }, "Submit a job")),
    h("section", { class: "card" }, list));
  async function refresh() {
    const jobs = await api.jobs();
    const live = (j) => (["CANCELED", "FINISHED", "FAILED"].includes(j.status) ? 1 : 0);
    jobs.sort((a, b) => live(a) - live(b) || (b.created_at || "").localeCompare(a.created_at || ""));
    swap(list, jobs.length ? jobTable(jobs)
      : empty("No jobs yet.", "Upload a module on the ", h("a", { href: "#/modules" }, "modules page"), ", then ", h("a", { href: "#/submit" }, "submit a job"), " that uses it."));
  }
  return { title: "Jobs", refresh, interval: 2000 };
}
