/**
 * The side rail of a job's or a run's page on a wide screen: the recent ones, the open one
 * marked, so a reader can go from one to the next. Hidden on a phone (app.css).
 */
import { api } from "./api.js";
import { h, notice, put } from "./dom.js";
import { attempt, every } from "./lifecycle.js";
import { jobRow, rowList, runRow } from "./lists.js";

const REFRESH_MS = 5_000;

/**
 * @param {"jobs" | "runs"} kind
 * @param {string} selectedId
 * @param {AbortSignal} signal
 * @returns {{ element: HTMLElement, refresh: () => Promise<void> }} the rail, and what reads it again now (the open one changed)
 */
export function mountRail(kind, selectedId, signal) {
  const list = rowList(kind === "jobs" ? "Recent jobs" : "Recent pipeline runs");
  put(list, notice("loading", "Loading…"));
  const refresh = () =>
    attempt(
      signal,
      async () => {
        const answer = await api(`/api/${kind}?limit=30`, { signal });
        const now = Date.now();
        // The row marked by a click stays marked until the page it opens replaces the rail.
        const selected = list.querySelector("a.row[aria-current]")?.getAttribute("data-id") ?? selectedId;
        const rows = kind === "jobs" ? answer.jobs.map((/** @type {any} */ job) => jobRow(job, now, selected)) : answer.runs.map((/** @type {any} */ run) => runRow(run, now, selected));
        put(list, rows.length > 0 ? rows : notice("empty", kind === "jobs" ? "No jobs yet." : "No runs yet."));
      },
      (error) => put(list, notice("error", error.message)),
    );
  every(REFRESH_MS, signal, refresh);
  const element = h("aside", { class: "rail card" }, h("div", { class: "card-head" }, h("h2", {}, kind === "jobs" ? "Recent jobs" : "Recent runs")), list);
  return { element, refresh };
}
