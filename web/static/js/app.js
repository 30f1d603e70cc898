// Weir's web UI: a hash router and a polling loop. Each page mounts into <main>
// and may return a refresh function that the loop calls every `interval` ms while
// the page is shown; one refresh at a time, never overlapping.

import { h } from "./dom.js";
import { ApiError } from "./api.js";
import { overviewPage } from "./pages/overview.js";
import { jobsPage } from "./pages/jobs.js";
import { jobPage } from "./pages/job.js";
import { modulesPage } from "./pages/modules.js";
import { submitPage } from "./pages/submit.js";
import { workersPage } from "./pages/workers.js";
import { savepointsPage } from "./pages/savepoints.js";

const routes = [
  [/^\/?$/, "overview", () => overviewPage],
  [/^\/jobs\/?$/, "jobs", () => jobsPage],
  [/^\/jobs\/([^/?]+)(?:\/([a-z]+))?\/?$/, "jobs", () => jobPage],
  [/^\/submit\/?$/, "submit", () => submitPage],
  [/^\/modules\/?$/, "modules", () => modulesPage],
  [/^\/savepoints\/?$/, "savepoints", () => savepointsPage],
  [/^\/workers\/?$/, "workers", () => workersPage],
];

const main = document.getElementById("main");
const banner = document.getElementById("banner");
let current = null; // {page, timer, alive}
let firstRoute = true;

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [path, query] = raw.split("?");
  return { path, query: new URLSearchParams(query || "") };
}

function setBanner(err) {
  if (err && err instanceof ApiError && err.status === 0) {
    banner.hidden = false;
    banner.textContent = "Cannot reach the Weir control plane. Retrying… (is `weir standalone` running?)";
  } else {
    banner.hidden = true;
    banner.textContent = "";
  }
}

async function loop(state) {
  if (!state.alive || !state.page.refresh) return;
  // A hidden tab does not poll; it catches up as soon as it is shown again.
  if (document.hidden) {
    state.timer = setTimeout(() => loop(state), 1000);
    return;
  }
  try {
    await state.page.refresh();
    setBanner(null);
  } catch (e) {
    setBanner(e);
    if (!(e instanceof ApiError)) console.warn("weir ui:", e);
  }
  if (state.alive) state.timer = setTimeout(() => loop(state), state.page.interval || 2000);
}

function route() {
  const { path, query } = parseHash();
  if (current) {
    current.alive = false;
    clearTimeout(current.timer);
    if (current.page.unmount) current.page.unmount();
  }
  let match = null, section = null, factory = null;
  for (const [re, sec, f] of routes) {
    const m = path.match(re);
    if (m) { match = m; section = sec; factory = f(); break; }
  }
  for (const a of document.querySelectorAll("nav a[data-section]")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  main.replaceChildren();
  if (!factory) {
    main.append(h("section", { class: "card" }, h("h1", null, "Page not found"),
      h("p", null, "There is no page at ", h("code", null, path), ". ", h("a", { href: "#/" }, "Go to the overview"), ".")));
    document.title = "Weir · not found";
    current = null;
    return;
  }
  const page = factory(main, { params: match.slice(1), query, refresh: refreshNow });
  document.title = "Weir · " + (page.title || section);
  current = { page, timer: 0, alive: true };
  loop(current);
  // After a navigation (not the first load, where Tab should start at the top),
  // move focus to the page heading so keyboard and screen reader users land on
  // the new content, unless the user is typing somewhere already.
  const h1 = main.querySelector("h1");
  if (!firstRoute && h1 && (document.activeElement === document.body || document.activeElement?.closest("nav"))) {
    h1.setAttribute("tabindex", "-1");
    h1.focus({ preventScroll: true });
  }
  firstRoute = false;
}

// refreshNow runs the current page's refresh at once (after an action).
function refreshNow() {
  if (!current || !current.alive) return;
  clearTimeout(current.timer);
  loop(current);
}

window.addEventListener("hashchange", route);
// The skip link must not change the hash: the hash is the router's.
document.querySelector(".skip").addEventListener("click", (ev) => { ev.preventDefault(); main.focus(); });
window.addEventListener("unhandledrejection", (ev) => {
  // A failed request already shows in the page; keep the console clean.
  if (ev.reason instanceof ApiError) { ev.preventDefault(); setBanner(ev.reason); }
});
route();
