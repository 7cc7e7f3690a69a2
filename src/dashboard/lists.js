/**
 * Rows of jobs and of pipeline runs, as the overview and a page's side rail list them. A
 * row is a link (#/jobs/<id>), so it opens in a new tab too; a click marks it selected at
 * once, before its page has loaded.
 */
import { h } from "./dom.js";
import { ago, firstLine, issueLabel, jobStatusOf, runStateOf, usd, when } from "./format.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").Run} Run */

/**
 * @param {{ label: string, tone: string }} status
 * @param {string} [extraClass]
 */
export function badge(status, extraClass = "") {
  return h("span", { class: `badge tone-${status.tone} ${extraClass}`.trim() }, h("span", { class: "dot", "aria-hidden": "true" }), status.label);
}

/**
 * Where a job is: its phase and round while it runs.
 * @param {Job} job
 */
export function phaseText(job) {
  if (job.status !== "running" || !job.phase) return "";
  return job.iterations > 0 && (job.phase === "build" || job.phase === "verify") ? `${job.phase} · round ${job.iterations}` : job.phase;
}

/**
 * @param {Job} job
 * @param {number} now
 * @param {string | null} selectedId
 */
export function jobRow(job, now, selectedId) {
  const meta = [job.repository, issueLabel(job), phaseText(job), job.requester ? `by ${job.requester}` : ""].filter(Boolean).join(" · ");
  const title = firstLine(job.task);
  return h(
    "a",
    { class: "row", href: `#/jobs/${encodeURIComponent(job.id)}`, "data-id": job.id, "aria-current": job.id === selectedId ? "page" : null },
    badge(jobStatusOf(job)),
    h("span", { class: "row-main" }, h("span", { class: "row-title", title }, title), h("span", { class: "row-meta" }, meta)),
    h("span", { class: "row-side" }, h("span", { class: "row-cost" }, usd(job.total_cost)), h("time", { datetime: job.created_at, title: when(job.created_at) }, ago(job.created_at, now))),
  );
}

/**
 * @param {Run} run
 * @param {number} now
 * @param {string | null} selectedId
 */
export function runRow(run, now, selectedId) {
  const done = run.steps.filter((step) => step.state === "completed").length;
  const meta = [run.repository, issueLabel(run), `${done}/${run.steps.length} steps`, run.requester ? `by ${run.requester}` : ""].filter(Boolean).join(" · ");
  return h(
    "a",
    { class: "row", href: `#/runs/${encodeURIComponent(run.id)}`, "data-id": run.id, "aria-current": run.id === selectedId ? "page" : null },
    badge(runStateOf(run.status)),
    h("span", { class: "row-main" }, h("span", { class: "row-title", title: run.pipeline }, run.pipeline), h("span", { class: "row-meta" }, meta)),
    h("span", { class: "row-side" }, h("span", { class: "row-cost" }, usd(run.total_cost)), h("time", { datetime: run.created_at, title: when(run.created_at) }, ago(run.created_at, now))),
  );
}

/**
 * A list whose rows mark themselves selected the moment they are clicked.
 * @param {string} label what the list holds, for screen readers
 */
export function rowList(label) {
  const list = h("div", { class: "rows", "aria-label": label });
  list.addEventListener("click", (event) => {
    const row = event.target instanceof Element ? event.target.closest("a.row") : null;
    if (!row) return;
    for (const other of list.querySelectorAll("a.row[aria-current]")) other.removeAttribute("aria-current");
    row.setAttribute("aria-current", "page");
  });
  return list;
}

/** The job filters of the overview, each a test on a job. */
export const JOB_FILTERS = /** @type {const} */ ([
  { key: "all", label: "All", test: () => true },
  { key: "active", label: "Active", test: (/** @type {Job} */ job) => job.status === "queued" || job.status === "running" },
  { key: "attention", label: "Needs attention", test: (/** @type {Job} */ job) => ["failed", "timed_out"].includes(job.status) || (job.status === "completed" && job.tests_passed === false) },
  { key: "done", label: "Completed", test: (/** @type {Job} */ job) => job.status === "completed" && job.tests_passed !== false },
]);
