/**
 * How values read on the page: statuses, money, durations, times. Pure: no DOM, no clock
 * but the `now` given, so the tests can call it directly.
 */

/** @typedef {import("./types.js").Job} Job */
/** @typedef {"ok" | "warn" | "danger" | "active" | "pending" | "muted"} Tone */

/**
 * What a job's status means to a person. A job that delivered its work with checks that
 * still fail is not a success: it is "checks failing".
 * @param {Pick<Job, "status" | "tests_passed">} job
 * @returns {{ key: string, label: string, tone: Tone }}
 */
export function jobStatusOf(job) {
  switch (job.status) {
    case "completed":
      return job.tests_passed === false ? { key: "checks_failing", label: "checks failing", tone: "warn" } : { key: "completed", label: "completed", tone: "ok" };
    case "running":
      return { key: "running", label: "running", tone: "active" };
    case "queued":
      return { key: "queued", label: "queued", tone: "pending" };
    case "failed":
      return { key: "failed", label: "failed", tone: "danger" };
    case "timed_out":
      return { key: "timed_out", label: "timed out", tone: "danger" };
    case "cancelled":
      return { key: "cancelled", label: "cancelled", tone: "muted" };
    default:
      return { key: "unknown", label: String(job.status), tone: "muted" };
  }
}

/**
 * A pipeline run's status or a step's state.
 * @param {string} state
 * @returns {{ label: string, tone: Tone }}
 */
export function runStateOf(state) {
  /** @type {Record<string, Tone>} */
  const tones = { completed: "ok", running: "active", pending: "pending", failed: "danger", cancelled: "muted", skipped: "muted" };
  return { label: state, tone: tones[state] ?? "muted" };
}

/**
 * The checks' verdict in words: `tests_passed` null means none were found (or none ran yet).
 * @param {Pick<Job, "status" | "tests_passed">} job
 */
export function checksOf(job) {
  if (job.tests_passed === true) return "passing";
  if (job.tests_passed === false) return "failing";
  return job.status === "queued" || job.status === "running" ? "not run yet" : "no checks found";
}

/** The job is still going: it can be cancelled, and its page follows it live. @param {{ status: string }} job */
export const isActive = (job) => job.status === "queued" || job.status === "running";

/** A job that can be queued again (README: `POST /api/jobs/:id/retry`). @param {Pick<Job, "status" | "trigger">} job */
export const isRetryable = (job) => ["failed", "timed_out", "cancelled"].includes(job.status) && job.trigger !== "local";

/** "#7", or nothing for a job on no thread (`issue_number` null). @param {{ issue_number: number | null }} item */
export const issueLabel = (item) => (typeof item.issue_number === "number" && item.issue_number > 0 ? `#${item.issue_number}` : "");

/** A task's first line, for a title. @param {string | null | undefined} task */
export function firstLine(task) {
  const line = String(task ?? "").trim().split("\n")[0] ?? "";
  return line.trim() || "(no task text)";
}

/**
 * Dollars, with cents, or more digits for small sums (a cheap job costs fractions of a cent).
 * @param {number | string | null | undefined} value
 */
export function usd(value) {
  const amount = Number(value ?? 0);
  if (!Number.isFinite(amount) || amount === 0) return "$0";
  if (Math.abs(amount) < 0.01) return `$${amount.toFixed(4)}`;
  if (Math.abs(amount) < 100) return `$${amount.toFixed(2)}`;
  return `$${Math.round(amount).toLocaleString("en-US")}`;
}

/** 1,234 → "1.2k". @param {number | null | undefined} value */
export function count(value) {
  const number = Number(value ?? 0);
  if (number < 1000) return String(Math.round(number));
  if (number < 1_000_000) return `${(number / 1000).toFixed(number < 10_000 ? 1 : 0)}k`;
  return `${(number / 1_000_000).toFixed(1)}M`;
}

/**
 * A duration in milliseconds, in the two largest units: "850 ms", "42 s", "3 min 5 s", "2 h 10 min".
 * @param {number | null | undefined} ms
 */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/**
 * A duration in one short unit, for a chart's axis: "45 s", "12 min", "5 h", "3 d".
 * @param {number} ms
 */
export function shortDuration(ms) {
  if (ms === 0) return "0";
  const minutes = ms / 60_000;
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  if (minutes < 72 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}

/**
 * How long ago, in words: "just now", "5 min ago", "3 h ago", "2 d ago".
 * @param {string | null | undefined} iso
 * @param {number} now
 */
export function ago(iso, now) {
  if (!iso) return "";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** A date-time in the reader's locale, for a tooltip. @param {string | null | undefined} iso */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

/** The first eight characters of an id, as git shows a commit. @param {string} id */
export const shortId = (id) => String(id).slice(0, 8);

/** A share as a percentage. @param {number | null | undefined} share */
export const percent = (share) => (share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`);
