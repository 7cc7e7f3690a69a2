/**
 * What got better or worse between two eval reports of a suite. A task that succeeded
 * before and fails now is a regression, whatever it costs; cost and time only move.
 */
import { formatDuration } from "../duration.ts";
import { formatUsd, microsOf, usdOf } from "../budget.ts";
import { cell } from "./report-markdown.ts";
import type { EvalReport, EvalTaskResult } from "./report.schema.ts";

/** A number before and after; `percent` is null when it was 0 before. */
export interface Delta {
  old: number;
  current: number;
  change: number;
  percent: number | null;
}

export interface TaskDeltas {
  iterations: Delta;
  /** Tokens in and out together. */
  tokens: Delta;
  costUsd: Delta;
  wallMs: Delta;
}

export type TaskComparison =
  | ({ id: string; presence: "both"; outcome: "better" | "worse" | "same"; success: { old: boolean; current: boolean } } & TaskDeltas)
  | { id: string; presence: "added"; current: EvalTaskResult }
  | { id: string; presence: "removed"; old: EvalTaskResult };

export interface ReportComparison {
  old: { suite: string; startedAt: string; succeeded: number; tasks: number };
  current: { suite: string; startedAt: string; succeeded: number; tasks: number };
  /** Every task of either report, in id order. */
  tasks: TaskComparison[];
  /** Over the tasks in both reports only, so that an added task does not read as a cost increase. */
  totals: TaskDeltas;
  regressions: number;
  improvements: number;
}

export function compareReports(old: EvalReport, current: EvalReport): ReportComparison {
  const before = new Map(old.tasks.map((task) => [task.id, task]));
  const after = new Map(current.tasks.map((task) => [task.id, task]));
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tasks = ids.map((id): TaskComparison => {
    const was = before.get(id);
    const now = after.get(id);
    if (was === undefined) return { id, presence: "added", current: now! };
    if (now === undefined) return { id, presence: "removed", old: was };
    const outcome = was.success === now.success ? "same" : now.success ? "better" : "worse";
    return { id, presence: "both", outcome, success: { old: was.success, current: now.success }, ...deltasOf([was], [now]) };
  });
  const shared = ids.filter((id) => before.has(id) && after.has(id));
  return {
    old: headOf(old),
    current: headOf(current),
    tasks,
    totals: deltasOf(shared.map((id) => before.get(id)!), shared.map((id) => after.get(id)!)),
    regressions: tasks.filter((task) => task.presence === "both" && task.outcome === "worse").length,
    improvements: tasks.filter((task) => task.presence === "both" && task.outcome === "better").length,
  };
}

/** The comparison as Markdown: a line of counts, then a row per task, regressions marked. */
export function renderComparison(comparison: ReportComparison): string {
  const { old, current, tasks, totals } = comparison;
  const added = tasks.filter((task) => task.presence === "added").length;
  const removed = tasks.filter((task) => task.presence === "removed").length;
  const counts = [
    comparison.regressions > 0 ? `**⚠️ ${plural(comparison.regressions, "regression")}**` : "no regressions",
    plural(comparison.improvements, "improvement"),
    `${added} added`,
    `${removed} removed`,
  ];
  const suites = old.suite === current.suite ? "" : ` (suite ${old.suite} then ${current.suite})`;
  return [
    `## Compared with ${old.startedAt}${suites}`,
    "",
    `${counts.join(", ")}. Succeeded: ${old.succeeded}/${old.tasks} → ${current.succeeded}/${current.tasks}.`,
    "",
    "| task | result | iterations | tokens | cost | wall time |",
    "|---|---|---:|---:|---:|---:|",
    ...tasks.map(comparisonRow),
    `| **total** (tasks in both) | | ${countDelta(totals.iterations)} | ${countDelta(totals.tokens)} | ${usdDelta(totals.costUsd)} | ${durationDelta(totals.wallMs)} |`,
  ].join("\n") + "\n";
}

function comparisonRow(task: TaskComparison): string {
  if (task.presence === "added") return `| ${cell(task.id)} | 🆕 added: ${mark(task.current.success)} | ${task.current.iterations} | ${(task.current.tokensIn + task.current.tokensOut).toLocaleString("en-US")} | ${formatUsd(task.current.costUsd)} | ${formatDuration(task.current.wallMs)} |`;
  if (task.presence === "removed") return `| ${cell(task.id)} | removed (was ${mark(task.old.success)}) | | | | |`;
  const result = task.outcome === "worse" ? "**⚠️ regressed** ✅ → ❌" : task.outcome === "better" ? "improved ❌ → ✅" : `same ${mark(task.success.current)}`;
  return `| ${cell(task.id)} | ${result} | ${countDelta(task.iterations)} | ${countDelta(task.tokens)} | ${usdDelta(task.costUsd)} | ${durationDelta(task.wallMs)} |`;
}

function deltasOf(before: readonly EvalTaskResult[], after: readonly EvalTaskResult[]): TaskDeltas {
  const sum = (tasks: readonly EvalTaskResult[], of: (task: EvalTaskResult) => number) => tasks.reduce((total, task) => total + of(task), 0);
  const costOf = (tasks: readonly EvalTaskResult[]) => usdOf(sum(tasks, (task) => microsOf(task.costUsd)));
  return {
    iterations: deltaOf(sum(before, (task) => task.iterations), sum(after, (task) => task.iterations)),
    tokens: deltaOf(sum(before, (task) => task.tokensIn + task.tokensOut), sum(after, (task) => task.tokensIn + task.tokensOut)),
    // In micro-dollars, so that $0.30 - $0.10 - $0.20 is 0, not 5.5e-17.
    costUsd: { ...deltaOf(costOf(before), costOf(after)), change: usdOf(microsOf(costOf(after)) - microsOf(costOf(before))) },
    wallMs: deltaOf(sum(before, (task) => task.wallMs), sum(after, (task) => task.wallMs)),
  };
}

function deltaOf(old: number, current: number): Delta {
  return { old, current, change: current - old, percent: old === 0 ? null : ((current - old) / old) * 100 };
}

function headOf(report: EvalReport): ReportComparison["old"] {
  return { suite: report.suite, startedAt: report.startedAt, succeeded: report.totals.succeeded, tasks: report.totals.tasks };
}

function countDelta(delta: Delta): string {
  return `${delta.old.toLocaleString("en-US")} → ${delta.current.toLocaleString("en-US")} (${signed(delta.change, (n) => n.toLocaleString("en-US"))}${percentText(delta)})`;
}

function usdDelta(delta: Delta): string {
  return `${formatUsd(delta.old)} → ${formatUsd(delta.current)} (${signed(delta.change, formatUsd)}${percentText(delta)})`;
}

function durationDelta(delta: Delta): string {
  return `${formatDuration(delta.old)} → ${formatDuration(delta.current)} (${signed(delta.change, formatDuration)}${percentText(delta)})`;
}

/** `+1,234`, `-$0.0020`, `±0`: formatters here read negatives as zero, so the sign is added outside. */
function signed(change: number, format: (n: number) => string): string {
  if (change === 0) return "±0";
  return `${change > 0 ? "+" : "-"}${format(Math.abs(change))}`;
}

function percentText(delta: Delta): string {
  if (delta.percent === null || delta.change === 0) return "";
  const rounded = Math.round(delta.percent);
  return `, ${rounded > 0 ? "+" : ""}${rounded}%`;
}

function mark(success: boolean): string {
  return success ? "✅" : "❌";
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
