/**
 * The dashboard: a page of plain ES modules (no build step), reading the API like any
 * client. Routes are in the URL's hash (#/jobs/<id>), so a reload or a shared link opens
 * the same view. Each view mounts into <main> and returns what stops it (its streams and
 * timers) when the reader leaves.
 */
import { authState, hasCredentials, onAuthChange, onRefused } from "./api.js";
import { loadSession, renderAuth } from "./auth.js";
import { h, put } from "./dom.js";
import { mountJobPage } from "./job-page.js";
import { mountOverview } from "./overview.js";
import { mountRunPage } from "./run-page.js";
import { mountStartWork } from "./start-work.js";

/** @typedef {(container: HTMLElement, id: string) => () => void} View */

/** @type {Array<{ pattern: RegExp, nav: string | null, view: View }>} */
const ROUTES = [
  { pattern: /^#?\/?$/, nav: "overview", view: (container) => mountOverview(container) },
  { pattern: /^#\/start$/, nav: "start", view: (container) => mountStartWork(container) },
  { pattern: /^#\/jobs\/([^/]+)$/, nav: null, view: mountJobPage },
  { pattern: /^#\/runs\/([^/]+)$/, nav: null, view: mountRunPage },
];

const main = /** @type {HTMLElement} */ (document.getElementById("view"));
const authArea = /** @type {HTMLElement} */ (document.getElementById("auth"));
const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));
/** @type {(() => void) | null} */
let leaveView = null;

function showView() {
  leaveView?.();
  leaveView = null;
  const hash = location.hash;
  const route = ROUTES.find((candidate) => candidate.pattern.test(hash));
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (route?.nav && link.getAttribute("data-nav") === route.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren();
  if (!route) {
    put(main, h("div", { class: "notice notice-empty" }, h("p", {}, "There is no such page."), h("a", { href: "#/" }, "Back to the overview")));
    return;
  }
  if (!hasCredentials()) {
    put(main, signInGate(null));
    return;
  }
  const id = decodeURIComponent(route.pattern.exec(hash)?.[1] ?? "");
  leaveView = route.view(main, id);
  window.scrollTo(0, 0);
}

/**
 * In place of a view the caller cannot see: never signed in, or refused (`refusal`).
 * @param {import("./api.js").ApiError | null} refusal
 */
function signInGate(refusal) {
  const { session, token, signedIn } = authState();
  const signIn = session?.sign_in_available ? "Sign in with GitHub above" : null;
  const how = signIn ? `${signIn}, or paste the API token (API_TOKEN) if you run the app.` : "Paste the API token (API_TOKEN) above to see the jobs.";
  if (refusal) {
    const title = signedIn ? "Your session has ended" : token ? "The API token was refused" : "Not signed in";
    return h("section", { class: "gate card" }, h("h1", {}, title), h("p", { class: "muted" }, token && !signedIn ? `Change the token above to the server's API_TOKEN${signIn ? ", or sign in with GitHub" : ""}.` : how));
  }
  return h(
    "section",
    { class: "gate card" },
    h("h1", {}, "Running Agent"),
    h("p", {}, "See what the agent is doing for your team: jobs live, pipeline runs, costs and outcomes."),
    h("p", { class: "muted" }, how),
  );
}

/** @param {string | null} message */
function showBanner(message) {
  banner.hidden = message === null;
  put(banner, message ?? "");
}

// A refused token or an ended session: stop the view (its polling would only be refused
// again) and clear what it showed, which this caller may no longer see.
onRefused((error) => {
  leaveView?.();
  leaveView = null;
  showBanner(error.message);
  put(main, signInGate(error));
});
onAuthChange(() => {
  showBanner(null);
  renderAuth(authArea);
  showView();
});
window.addEventListener("hashchange", showView);

await loadSession();
