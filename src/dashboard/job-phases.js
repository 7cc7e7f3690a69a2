/**
 * A job's phases on a time axis: prepare, explore, plan, build ⟲ verify rounds, deliver.
 * The API's `phases` when it gives them; otherwise they are read from the log's `phase`
 * entries (an older server), which give the times but not each phase's usage.
 */
import { h, s } from "./dom.js";
import { count, duration, usd } from "./format.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").LogEntry} LogEntry */
/** @typedef {import("./types.js").Phase} Phase */

export const PHASE_NAMES = ["prepare", "explore", "plan", "build", "verify", "deliver"];

/**
 * @param {Job} job
 * @param {LogEntry[]} logs
 * @returns {Phase[]}
 */
export function phasesOf(job, logs) {
  if (Array.isArray(job.phases)) return job.phases;
  /** @type {Phase[]} */
  const phases = [];
  let round = 0;
  const close = (/** @type {string} */ at) => {
    const open = phases.at(-1);
    if (!open || open.ended_at !== null) return;
    open.ended_at = at;
    open.duration_ms = Math.max(0, Date.parse(at) - Date.parse(open.started_at));
  };
  for (const entry of logs) {
    // The job's end, or its hand-back to the queue (a worker stopping), closes the phase it was in.
    if (entry.kind === "finished" || entry.kind === "requeued") close(entry.at);
    if (entry.kind !== "phase") continue;
    const name = typeof entry.data?.phase === "string" ? entry.data.phase : /phase (\w+) started/.exec(entry.message)?.[1];
    if (!name) continue;
    close(entry.at);
    if (name === "build") round += 1;
    phases.push({ name, round: name === "build" || name === "verify" ? Math.max(1, round) : null, started_at: entry.at, ended_at: null, duration_ms: null, tokens_in: null, tokens_out: null, cost: null });
  }
  if (job.finished_at) close(job.finished_at);
  return phases;
}

/**
 * The phases as a Gantt chart, one row per phase name, drawn for `width` pixels; a phase still
 * going reaches `now`.
 * @param {Phase[]} phases
 * @param {number} width
 * @param {number} now
 */
export function phaseTimeline(phases, width, now) {
  const start = Math.min(...phases.map((phase) => Date.parse(phase.started_at)));
  const end = Math.max(start + 1000, ...phases.map((phase) => (phase.ended_at ? Date.parse(phase.ended_at) : now)));
  const names = [...PHASE_NAMES, ...new Set(phases.map((phase) => phase.name).filter((name) => !PHASE_NAMES.includes(name)))];
  const label = 64;
  const rowHeight = 22;
  const plot = Math.max(80, width - label - 12);
  const height = names.length * rowHeight + 22;
  const x = (/** @type {number} */ time) => label + ((time - start) / (end - start)) * plot;
  const svg = s("svg", { class: "timeline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "The job's phases on a time axis" });
  names.forEach((name, index) => {
    const y = index * rowHeight;
    svg.append(s("text", { class: "tick", x: 0, y: y + 15 }, name));
    svg.append(s("line", { class: "grid", x1: label, x2: label + plot, y1: y + rowHeight - 0.5, y2: y + rowHeight - 0.5 }));
  });
  for (const phase of phases) {
    const row = names.indexOf(phase.name);
    const from = x(Date.parse(phase.started_at));
    const to = x(phase.ended_at ? Date.parse(phase.ended_at) : now);
    const took = phase.duration_ms ?? (phase.ended_at ? null : now - Date.parse(phase.started_at));
    svg.append(
      s(
        "rect",
        { class: `phase-bar phase-${PHASE_NAMES.includes(phase.name) ? phase.name : "other"}${phase.ended_at ? "" : " going"}`, x: round(from), y: row * rowHeight + 4, width: round(Math.max(2, to - from)), height: rowHeight - 8, rx: 3 },
        s("title", {}, `${phase.name}${phase.round ? ` (round ${phase.round})` : ""}: ${duration(took)}${phase.ended_at ? "" : ", still going"}`),
      ),
    );
  }
  const axis = names.length * rowHeight + 16;
  svg.append(s("text", { class: "tick", x: label, y: axis }, "0"));
  svg.append(s("text", { class: "tick", x: label + plot, y: axis, "text-anchor": "end" }, duration(end - start)));
  return svg;
}

/**
 * Each phase with its round, duration and usage. A phase that ran in several rounds (build,
 * verify) has no usage of its own: the job's usage for that name, all rounds together,
 * follows the table.
 * @param {Phase[]} phases
 * @param {Job} job
 * @param {number} now
 */
export function phaseTable(phases, job, now) {
  const rows = phases.map((phase) =>
    h(
      "tr",
      {},
      h(
        "th",
        { scope: "row" },
        h("span", { class: `phase-swatch phase-${PHASE_NAMES.includes(phase.name) ? phase.name : "other"}`, "aria-hidden": "true" }),
        phase.name,
        phase.round ? h("span", { class: "muted round" }, ` · round ${phase.round}`) : null,
      ),
      h("td", { class: "num" }, phase.ended_at ? duration(phase.duration_ms) : `${duration(now - Date.parse(phase.started_at))} so far`),
      h("td", { class: "num", "data-label": "tokens in / out" }, phase.tokens_in === null ? "—" : `${count(phase.tokens_in)} / ${count(phase.tokens_out)}`),
      h("td", { class: "num", "data-label": "cost" }, phase.cost === null ? "—" : usd(phase.cost)),
    ),
  );
  const table = h(
    "table",
    { class: "table stack-table phases-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Phase"), h("th", { class: "num" }, "Duration"), h("th", { class: "num" }, "Tokens in / out"), h("th", { class: "num" }, "Cost"))),
    h("tbody", {}, rows),
  );
  const unshown = (/** @type {string} */ name) => phases.filter((phase) => phase.name === name).every((phase) => phase.cost === null && phase.tokens_in === null);
  const byName = Object.entries(job.usage_by_phase ?? {}).filter(([name]) => unshown(name));
  if (byName.length === 0) return table;
  return h(
    "div",
    {},
    table,
    h("p", { class: "muted usage-by-name" }, "Model usage, all rounds together: ", byName.map(([name, usage], index) => `${index ? " · " : ""}${name} ${count(usage.tokensIn)} / ${count(usage.tokensOut)} tokens, ${usd(usage.cost)}`).join("")),
  );
}

/** @param {number} value */
const round = (value) => Math.round(value * 10) / 10;
