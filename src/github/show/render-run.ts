import { formatUsd, microsOf, usdOf } from "../../budget.ts";
import { readCheckpoint } from "../../jobs/checkpoint.ts";
import type { StepState } from "../../store/pipeline-runs.sql.ts";
import type { StepView } from "../../pipelines/step-views.ts";
import type { PipelineRun } from "../../store/pipeline-runs.sql.ts";

const STATE_LABELS: Record<StepState, string> = {
  pending: "⏳ waiting",
  running: "🔄 running",
  completed: "✅ succeeded",
  failed: "❌ failed",
  cancelled: "⏹️ cancelled",
  skipped: "⏭️ skipped",
};

const RUN_LABELS: Record<PipelineRun["status"], string> = {
  running: "🔄 running",
  completed: "✅ succeeded",
  failed: "❌ failed",
  cancelled: "⏹️ cancelled",
};

/** Marks the run's comment, so that it can be found again. */
export function runMarker(runId: string): string {
  return `<!-- running-agent-run:${runId} -->`;
}

/** The run's one progress comment: its status, then the DAG as a checklist, one line per step. */
export function renderRunComment(run: PipelineRun, steps: readonly StepView[]): string {
  const lines = [
    runMarker(run.id),
    `### Running Agent: pipeline \`${run.pipelineName}\` ${RUN_LABELS[run.status]}`,
    "",
    ...steps.map((view) => `- [${view.step.state === "completed" || view.step.state === "skipped" ? "x" : " "}] ${stepLine(view)}`),
    "",
    `Requested by @${run.requesterLogin} · cost ${formatUsd(totalCostOf(steps))} · branch \`${run.branch}\``,
  ];
  if (run.cancelRequestedBy) lines.push("", `Cancelled by ${run.cancelRequestedBy}.`);
  if (run.prUrl) lines.push("", `**Pull request:** ${run.prUrl}`);
  else if (run.status !== "running") lines.push("", "No step changed any file, so there is no pull request.");
  return lines.join("\n");
}

/** The run's pull request: each step's result and cost. */
export function renderRunPullRequestBody(run: PipelineRun, steps: readonly StepView[]): string {
  const rows = steps.map((view) => {
    const job = view.job;
    const files = job ? (readCheckpoint(job).pushed?.files.length ?? 0) : 0;
    return `| \`${view.name}\` | ${STATE_LABELS[view.step.state]} | ${job?.testsPassed === true ? "✅" : job?.testsPassed === false ? "❌" : "–"} | ${files} | ${job ? formatUsd(job.totalCost) : "–"} |`;
  });
  const summaries = steps.flatMap((view) => {
    const summary = view.job ? (readCheckpoint(view.job).pushed?.summary ?? "").trim() : "";
    return summary ? [`### \`${view.name}\``, "", summary.slice(0, 3_000), ""] : [];
  });
  return [
    ...(run.issueNumber ? [`From the pipeline run on #${run.issueNumber}.`, ""] : []),
    `Pipeline \`${run.pipelineName}\`, requested by @${run.requesterLogin}: ${RUN_LABELS[run.status]}.`,
    "",
    "| Step | Result | Tests | Files changed | Cost |",
    "|---|---|---|---|---|",
    ...rows,
    `| **Total** | | | | **${formatUsd(totalCostOf(steps))}** |`,
    "",
    ...summaries,
  ].join("\n");
}

function stepLine(view: StepView): string {
  const parts = [`**${view.name}**`, STATE_LABELS[view.step.state]];
  const job = view.job;
  if (view.step.state === "pending" && view.dependsOn.length > 0) parts.push(`after ${view.dependsOn.map((name) => `\`${name}\``).join(", ")}`);
  if (view.step.state === "running" && job?.phase) parts.push(job.iterations > 0 ? `${job.phase}, round ${job.iterations + 1}` : job.phase);
  if (job && job.testsPassed === false && view.step.state === "failed") parts.push("checks still fail");
  if (job?.failureMessage && view.step.state !== "completed") parts.push(oneLine(job.failureMessage));
  if (view.step.error) parts.push(oneLine(view.step.error));
  if (job && job.totalCost > 0) parts.push(formatUsd(job.totalCost));
  return parts.join(" · ");
}

function totalCostOf(steps: readonly StepView[]): number {
  return usdOf(steps.reduce((sum, view) => sum + microsOf(view.job?.totalCost ?? 0), 0));
}

function oneLine(text: string): string {
  const line = text.split("\n")[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
