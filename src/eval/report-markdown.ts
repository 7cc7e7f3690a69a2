import { formatDuration } from "../duration.ts";
import { formatUsd } from "../budget.ts";
import { slowestPhaseOf } from "./phase-times.ts";
import type { EvalReport, EvalTaskResult } from "./report.schema.ts";
import { joinLines } from "../context/trim-trailing.ts";

/** `report.md`: a row per task, the totals, where the time went, and the failures' check output. */
export function renderMarkdown(report: EvalReport): string {
  return [...headerAndTable(report), "", ...phaseBreakdown(report.totals.phaseMs), ...failures(report.tasks)].join("\n").trimEnd() + "\n";
}

/** The heading, the success rate and the table of `report.md`, without the breakdowns: what the CLI prints at the end. */
export function renderResultsTable(report: EvalReport): string {
  return headerAndTable(report).join("\n") + "\n";
}

function headerAndTable(report: EvalReport): string[] {
  const { totals } = report;
  const suiteMs = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  const header = [
    `# Eval: ${report.suite}`,
    "",
    `${report.startedAt} · ${formatDuration(suiteMs)} · models: explore \`${report.models.explore}\`, plan \`${report.models.plan}\`, build \`${report.models.build}\``,
    "",
    `**${totals.succeeded} of ${totals.tasks} tasks succeeded (${percentOf(totals.successRate)})**`,
  ];
  const table = [
    "| task | result | iterations | tokens in / out | cost | wall time | slowest phase |",
    "|---|---|---:|---:|---:|---:|---|",
    ...report.tasks.map(taskRow),
    `| **total** | ${totals.succeeded}/${totals.tasks} (${percentOf(totals.successRate)}) | ${totals.iterations} | ${tokensOf(totals)} | ${formatUsd(totals.costUsd)} | ${formatDuration(totals.wallMs)} | ${slowestOf(totals.phaseMs)} |`,
  ];
  return [...header, "", ...table];
}

function taskRow(task: EvalTaskResult): string {
  const result = task.success ? "✅" : `❌${task.failureKind ? ` ${task.failureKind}` : ""}`;
  return `| ${cell(task.id)} | ${result} | ${task.iterations} | ${tokensOf(task)} | ${formatUsd(task.costUsd)} | ${formatDuration(task.wallMs)} | ${slowestOf(task.phaseMs)} |`;
}

function phaseBreakdown(phaseMs: Readonly<Record<string, number>>): string[] {
  const phases = Object.entries(phaseMs).sort((a, b) => b[1] - a[1]);
  const total = phases.reduce((sum, [, ms]) => sum + ms, 0);
  if (phases.length === 0) return [];
  return ["## Where the time went", "", "| phase | time | share |", "|---|---:|---:|", ...phases.map(([phase, ms]) => `| ${cell(phase)} | ${formatDuration(ms)} | ${percentOf(total === 0 ? 0 : ms / total)} |`), ""];
}

function failures(tasks: readonly EvalTaskResult[]): string[] {
  const failed = tasks.filter((task) => !task.success);
  if (failed.length === 0) return [];
  const sections = failed.map((task) => {
    const job = `job ${task.jobStatus}${task.failureKind ? ` (${task.failureKind})` : ""}`;
    // A fence longer than any backtick run in the output, so the output cannot close it.
    const fence = "`".repeat(Math.max(3, ...[...task.checkOutput.matchAll(/`+/g)].map((run) => run[0].length + 1)));
    return [`### ${task.id}: ${task.title}`, "", job, "", fence, task.checkOutput.trimEnd(), fence, ""];
  });
  return ["## Failures", "", ...sections.flat()];
}

function slowestOf(phaseMs: Readonly<Record<string, number>>): string {
  const phase = slowestPhaseOf(phaseMs);
  return phase === null ? "–" : `${cell(phase)} (${formatDuration(phaseMs[phase]!)})`;
}

function tokensOf(usage: { tokensIn: number; tokensOut: number }): string {
  return `${usage.tokensIn.toLocaleString("en-US")} / ${usage.tokensOut.toLocaleString("en-US")}`;
}

export function percentOf(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** Text in a table cell: a `|` would end the cell, a newline the row. */
export function cell(text: string): string {
  return joinLines(text.replace(/\|/g, "\\|"));
}
