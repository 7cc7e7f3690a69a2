/**
 * What the agent did, in order: the log's entries (phases, files edited, commands run,
 * checks and their results, rounds, pushes, the end), each drawn for its kind. The text is
 * the agent's and the repository's: shown as text, never as markup.
 */
import { h } from "./dom.js";

/** @typedef {import("./types.js").LogEntry} LogEntry */

/** Tools that change files, as opencode names them. */
const EDIT_TOOLS = new Set(["edit", "write", "patch", "apply_patch", "multiedit"]);
const COMMAND_TOOLS = new Set(["bash", "shell"]);

/**
 * @param {LogEntry} entry
 * @returns {{ icon: string, tone: string, label: string, text: string, detail: string | null, files: string[] }}
 */
export function describeEntry(entry) {
  const data = entry.data ?? {};
  const text = entry.message;
  switch (entry.kind) {
    case "phase":
      return { icon: "▸", tone: "phase", label: "Phase", text: typeof data.phase === "string" ? data.phase : text.replace(/^phase (\w+) started$/, "$1"), detail: null, files: [] };
    case "tool": {
      const tool = typeof data.tool === "string" ? data.tool : "tool";
      const title = typeof data.title === "string" && data.title ? data.title : text;
      const failed = data.status === "error" || data.status === "failed";
      if (EDIT_TOOLS.has(tool)) return { icon: "✎", tone: failed ? "danger" : "edit", label: failed ? "Edit failed" : "Edited", text: title, detail: null, files: [] };
      if (COMMAND_TOOLS.has(tool)) return { icon: "$", tone: failed ? "danger" : "command", label: failed ? "Command failed" : "Ran", text: title, detail: null, files: [] };
      return { icon: "·", tone: failed ? "danger" : "tool", label: tool, text: title, detail: null, files: [] };
    }
    case "check": {
      const passed = /:\s*passed\b/.test(text);
      return { icon: passed ? "✓" : "✗", tone: passed ? "ok" : "danger", label: "Check", text, detail: typeof data.output === "string" && data.output ? data.output : null, files: [] };
    }
    case "round":
      return { icon: "⟲", tone: /passed/.test(text) ? "ok" : "warn", label: "Round", text, detail: null, files: [] };
    case "model_retry":
      return { icon: "!", tone: "warn", label: "Model retry", text, detail: null, files: [] };
    case "push":
      return { icon: "↑", tone: "ok", label: "Push", text, detail: null, files: Array.isArray(data.files) ? data.files.filter((file) => typeof file === "string") : [] };
    case "finished":
      return { icon: "■", tone: /completed/.test(text) ? "ok" : /cancelled/.test(text) ? "muted" : "danger", label: "Finished", text, detail: null, files: [] };
    case "plan":
      return { icon: "☰", tone: "info", label: "Plan", text, detail: null, files: [] };
    default:
      return { icon: "·", tone: "muted", label: entry.kind.replace(/_/g, " "), text, detail: null, files: [] };
  }
}

/**
 * One entry of the activity list.
 * @param {LogEntry} entry
 */
export function activityItem(entry) {
  const shown = describeEntry(entry);
  const time = new Date(entry.at);
  return h(
    "li",
    { class: `activity-item act-${entry.kind} tone-${shown.tone}`, "data-kind": entry.kind },
    h("time", { datetime: entry.at, title: time.toLocaleString() }, time.toLocaleTimeString()),
    h("span", { class: "act-icon", "aria-hidden": "true" }, shown.icon),
    h(
      "div",
      { class: "act-body" },
      h("span", { class: "act-label" }, shown.label),
      " ",
      h("span", { class: entry.kind === "tool" ? "act-text code" : "act-text" }, shown.text),
      shown.files.length > 0 ? h("ul", { class: "files inline" }, shown.files.map((file) => h("li", { class: "code" }, file))) : null,
      shown.detail ? h("details", {}, h("summary", {}, "Output"), h("pre", { class: "output" }, shown.detail)) : null,
    ),
  );
}

/**
 * The counts above the list: files edited, commands run, checks passed and failed.
 * @param {LogEntry[]} logs
 */
export function activityCounts(logs) {
  let edits = 0;
  let commands = 0;
  let passed = 0;
  let failed = 0;
  for (const entry of logs) {
    const shown = describeEntry(entry);
    if (entry.kind === "tool" && (shown.tone === "edit" || shown.label === "Edit failed")) edits += 1;
    if (entry.kind === "tool" && (shown.tone === "command" || shown.label === "Command failed")) commands += 1;
    if (entry.kind === "check" && shown.tone === "ok") passed += 1;
    else if (entry.kind === "check") failed += 1;
  }
  return { edits, commands, passed, failed };
}

/**
 * The checks that failed in the last round that ran any: what a job shown as "checks
 * failing" still fails.
 * @param {LogEntry[]} logs
 */
export function lastFailingChecks(logs) {
  /** @type {string[]} */
  let failing = [];
  /** @type {string[]} */
  let round = [];
  for (const entry of logs) {
    if (entry.kind === "check") {
      round.push(entry.message);
      continue;
    }
    if (round.length > 0) {
      failing = round.filter((message) => !/:\s*passed\b/.test(message));
      round = [];
    }
  }
  if (round.length > 0) failing = round.filter((message) => !/:\s*passed\b/.test(message));
  return failing.map((message) => message.replace(/:\s*failed\b.*$/, ""));
}
