/**
 * The overview: what became of the agent's work over the last 30 days (figures and charts),
 * and the recent jobs and pipeline runs, refreshed every few seconds.
 */
import { api, optionalApi } from "./api.js";
import { fillDays } from "./charts.js";
import { h, notice, put } from "./dom.js";
import { count, duration, percent, usd } from "./format.js";
import { attempt, every } from "./lifecycle.js";
import { JOB_FILTERS, jobRow, rowList, runRow } from "./lists.js";
import { renderCharts } from "./overview-charts.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").Run} Run */
/** @typedef {import("./types.js").Day} Day */

const LIST_REFRESH_MS = 5_000;
/** The pull requests' figures change by the hour. */
const FIGURES_REFRESH_MS = 60_000;
const PAGE_SIZES = [20, 50, 100, 200];

/**
 * @param {HTMLElement} container
 * @returns {() => void}
 */
export function mountOverview(container) {
  const leave = new AbortController();
  const { signal } = leave;
  const tiles = h("section", { class: "tiles", "aria-label": "Last 30 days" }, notice("loading", "Loading figures…"));
  const charts = h("section", { class: "charts", "aria-label": "Charts, last 30 days" });
  const jobsList = rowList("Jobs");
  const runsList = rowList("Pipeline runs");
  const filters = h("div", { class: "segmented", role: "group", "aria-label": "Show jobs" });
  const more = h("button", { type: "button", class: "button small" }, "Show more");
  const foot = h("div", { class: "card-foot", hidden: true }, more);
  put(
    container,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Overview"), h("p", { class: "muted" }, "The agent's work over the last 30 days, and what it is doing now.")), h("a", { class: "button primary", href: "#/start" }, "Start work")),
    tiles,
    charts,
    h(
      "div",
      { class: "lists" },
      h("section", { class: "card", "aria-labelledby": "jobs-title" }, h("div", { class: "card-head" }, h("h2", { id: "jobs-title" }, "Jobs"), filters), jobsList, foot),
      h("section", { class: "card", "aria-labelledby": "runs-title" }, h("div", { class: "card-head" }, h("h2", { id: "runs-title" }, "Pipeline runs")), runsList),
    ),
  );

  /** @type {{ jobs: Job[] | null, runs: Run[] | null, filter: string, pageSize: number, stats: any, days: Day[] | null | undefined }} */
  const state = { jobs: null, runs: null, filter: "all", pageSize: PAGE_SIZES[0] ?? 50, stats: null, days: undefined };
  put(jobsList, notice("loading", "Loading jobs…"));
  put(runsList, notice("loading", "Loading runs…"));

  const showJobs = () => {
    renderFilters(filters, state.filter, (key) => {
      state.filter = key;
      showJobs();
    });
    if (state.jobs === null) return;
    const filter = JOB_FILTERS.find((candidate) => candidate.key === state.filter) ?? JOB_FILTERS[0];
    const shown = state.jobs.filter((job) => filter.test(job));
    const now = Date.now();
    if (state.jobs.length === 0) put(jobsList, notice("empty", "No jobs yet.", h("a", { href: "#/start" }, "Start the first one")));
    else if (shown.length === 0) put(jobsList, notice("empty", `No ${filter.label.toLowerCase()} jobs among the latest ${state.jobs.length}.`));
    else put(jobsList, shown.map((job) => jobRow(job, now, null)));
    foot.hidden = state.jobs.length < state.pageSize || state.pageSize >= (PAGE_SIZES.at(-1) ?? 200);
    renderTiles(tiles, state.stats, state.jobs);
  };
  more.addEventListener("click", () => {
    state.pageSize = PAGE_SIZES.find((size) => size > state.pageSize) ?? state.pageSize;
    void attempt(signal, loadJobs, (error) => put(jobsList, notice("error", error.message)));
  });
  // Rows are drawn again only when something changed (or their ages have moved on): a row
  // drawn anew under the pointer or the keyboard's focus would lose both.
  const unchanged = changeTracker();
  const loadJobs = async () => {
    const answer = await api(`/api/jobs?limit=${state.pageSize}`, { signal });
    if (unchanged("jobs", answer.jobs) && state.jobs !== null) return;
    state.jobs = answer.jobs;
    showJobs();
  };
  const loadRuns = async () => {
    const answer = await api("/api/runs?limit=20", { signal });
    if (unchanged("runs", answer.runs) && state.runs !== null) return;
    state.runs = answer.runs;
    const now = Date.now();
    if (answer.runs.length === 0) put(runsList, notice("empty", "No pipeline runs yet.", h("span", {}, "Start one from "), h("a", { href: "#/start" }, "Start work")));
    else put(runsList, answer.runs.map((/** @type {Run} */ run) => runRow(run, now, null)));
  };
  const loadFigures = async () => {
    const [stats, daily] = await Promise.all([api("/api/stats", { signal }), optionalApi("/api/stats/daily?days=30", { signal })]);
    state.stats = stats;
    state.days = Array.isArray(daily?.days) ? fillDays(daily.days, 30, new Date().toISOString().slice(0, 10)) : null;
    renderTiles(tiles, state.stats, state.jobs);
    renderCharts(charts, state.days);
  };

  every(LIST_REFRESH_MS, signal, async () => {
    await Promise.all([
      attempt(signal, loadJobs, (error) => {
        state.jobs = null;
        put(jobsList, notice("error", `The jobs could not be read: ${error.message}`));
      }),
      attempt(signal, loadRuns, (error) => {
        state.runs = null;
        put(runsList, notice("error", `The runs could not be read: ${error.message}`));
      }),
    ]);
  });
  every(FIGURES_REFRESH_MS, signal, () =>
    attempt(signal, loadFigures, (error) => {
      put(tiles, notice("error", `The figures could not be read: ${error.message}`));
      put(charts);
    }),
  );
  // Charts are drawn for their width: again when it changes (a rotated phone, a resized window).
  let drawnWidth = 0;
  const resize = new ResizeObserver(() => {
    if (charts.clientWidth === drawnWidth || state.days === undefined) return;
    drawnWidth = charts.clientWidth;
    renderCharts(charts, state.days);
  });
  resize.observe(charts);
  signal.addEventListener("abort", () => resize.disconnect());
  return () => leave.abort();
}

/** How long rows showing the same data stand before their ages ("2 min ago") are drawn again. */
const AGES_MS = 30_000;

/** A test of whether a list is what was last drawn, less than AGES_MS ago. */
function changeTracker() {
  /** @type {Map<string, { text: string, at: number }>} */
  const drawn = new Map();
  return (/** @type {string} */ name, /** @type {unknown} */ rows) => {
    const text = JSON.stringify(rows);
    const last = drawn.get(name);
    if (last && last.text === text && Date.now() - last.at < AGES_MS) return true;
    drawn.set(name, { text, at: Date.now() });
    return false;
  };
}

/**
 * @param {HTMLElement} container
 * @param {string} current
 * @param {(key: string) => void} choose
 */
function renderFilters(container, current, choose) {
  put(
    container,
    JOB_FILTERS.map((filter) => h("button", { type: "button", class: "segment", "aria-pressed": String(filter.key === current), onclick: () => choose(filter.key) }, filter.label)),
  );
}

/**
 * The headline figures: what is running now (from the jobs list) and the pull requests' fate (`/api/stats`).
 * @param {HTMLElement} container
 * @param {any} stats
 * @param {Job[] | null} jobs
 */
function renderTiles(container, stats, jobs) {
  if (!stats) return;
  const figures = stats.pull_requests;
  const running = jobs ? jobs.filter((job) => job.status === "running").length : null;
  const queued = jobs ? jobs.filter((job) => job.status === "queued").length : null;
  put(
    container,
    tile("Running now", running === null ? "—" : String(running), queued ? `${queued} queued` : "none queued"),
    tile("Pull requests", count(figures.opened), `${count(figures.merged)} merged · ${count(figures.open)} open`),
    tile("Merge rate", percent(figures.merge_rate), figures.merge_rate === null ? "none decided yet" : `${count(figures.closed_unmerged)} closed unmerged`),
    tile("Time to merge", figures.time_to_merge_seconds.p50 === null ? "—" : duration(figures.time_to_merge_seconds.p50 * 1000), figures.time_to_merge_seconds.p90 === null ? "median" : `median · p90 ${duration(figures.time_to_merge_seconds.p90 * 1000)}`),
    tile("Cost per merged PR", figures.cost_per_merged_pull_request === null ? "—" : usd(figures.cost_per_merged_pull_request), `${usd(figures.total_cost)} spent in all`),
  );
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} detail
 */
function tile(label, value, detail) {
  return h("div", { class: "tile" }, h("span", { class: "tile-label" }, label), h("span", { class: "tile-value" }, value), h("span", { class: "tile-detail" }, detail));
}
