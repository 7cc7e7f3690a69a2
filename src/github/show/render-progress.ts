import { formatDuration } from "../../duration.ts";
import type { Job } from "../../store/jobs.sql.ts";
import { PHASE_LABELS, PHASES, type Phase } from "../../jobs/phases.ts";
import { renderPlanMarkdown } from "../../agent/plan.ts";
import { truncateMiddle } from "../../context/truncate.ts";
import { readCheckpoint } from "../../jobs/checkpoint.ts";
import { formatUsd } from "../../budget.ts";
import { nextStepFor, type FailureKind } from "../../job-error.ts";

/** Hidden marker that identifies the app's progress comment for a job. */
export function progressMarker(jobId: string): string {
  return `<!-- running-agent:job:${jobId} -->`;
}

/** The one progress comment on the thread, re-rendered from the job row at every update. */
/** `waitingBehind`: how many earlier jobs of the thread have not ended (a thread runs one job at a time). */
export function renderProgressComment(job: Job, now: Date, options: { waitingBehind?: number } = {}): string {
  const waiting = job.status === "queued" && (options.waitingBehind ?? 0) > 0 ? [`\n_Waiting: ${waitingNote(options.waitingBehind!)} on this thread. One job runs at a time per issue or pull request; this one starts when that ends._`] : [];
  const messages = renderMessages(job);
  return [progressMarker(job.id), headline(job), ...waiting, "", renderChecklist(job), ...(messages ? ["", messages] : []), "", renderResultTable(job, now)].join("\n").trimEnd() + "\n";
}

/** A line per message written on the thread while the job ran: who, and what became of it (no words of theirs: they are on the thread). */
function renderMessages(job: Job): string {
  return job.messages
    .map((message) => `- 💬 @${message.author}'s message of ${message.receivedAt.slice(11, 16)} UTC: ${MESSAGE_STATES[message.outcome ?? "waiting"]}`)
    .join("\n");
}

const MESSAGE_STATES = {
  waiting: "the agent reads it at its next step",
  delivered: "read by the agent",
  follow_up: "came too late for this run: it runs next, as a job of its own",
  dropped: "dropped with the cancelled job",
} as const;

function waitingNote(count: number): string {
  return count === 1 ? "another Running Agent job is still running or queued" : `${count} other Running Agent jobs are still running or queued`;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
}

/** The check run carries more than the comment: the plan and the usage of each phase. */
export function renderCheckRunOutput(job: Job, now: Date): CheckRunOutput {
  const saved = readCheckpoint(job);
  const plan = saved.plan;
  const sections = [headline(job), renderChecklist(job), renderResultTable(job, now), renderGiven(saved.issue?.given), plan ? `### Plan\n${renderPlanMarkdown(plan)}` : "", renderUsageTable(job)];
  return { title: checkRunTitle(job), summary: truncateMiddle(sections.filter((section) => section !== "").join("\n\n"), CHECK_RUN_TEXT_LIMIT) };
}

/** GitHub rejects a check run whose summary passes 65,535 characters. */
const CHECK_RUN_TEXT_LIMIT = 60_000;

/** What the agent was given beside the task (issue-task.ts writes the lines: logins, numbers and file names, no user text). */
function renderGiven(given: readonly string[] | undefined): string {
  if (given === undefined) return "";
  return ["### What the agent was given", "- the task", ...given.map((line) => `- ${line}`)].join("\n");
}

function renderUsageTable(job: Job): string {
  const phases = Object.entries(job.usageByPhase);
  if (phases.length === 0) return "";
  const rows = phases.map(([phase, usage]) => `| ${phase} | ${usage.tokensIn.toLocaleString("en-US")} | ${usage.tokensOut.toLocaleString("en-US")} | ${formatUsd(usage.cost)} |`);
  return ["### Usage", "| phase | tokens in | tokens out | cost |", "|---|---|---|---|", ...rows].join("\n");
}

export type CheckConclusion = "success" | "failure" | "cancelled" | "timed_out";

export function checkConclusionOf(job: Job): CheckConclusion | null {
  switch (job.status) {
    case "completed":
      return job.testsPassed === false ? "failure" : "success";
    case "failed":
      return "failure";
    case "cancelled":
      return "cancelled";
    case "timed_out":
      return "timed_out";
    default:
      return null;
  }
}

function checkRunTitle(job: Job): string {
  switch (job.status) {
    case "queued":
      return "Queued";
    case "running":
      return job.phase ? `Working: ${job.phase}` : "Working";
    case "completed":
      if (job.followUp) return job.testsPassed === false ? "Pushed to the pull request; tests still fail" : "Pushed to the pull request";
      return job.testsPassed === false ? "Pull request opened; tests still fail" : "Pull request opened";
    case "cancelled":
      return "Cancelled";
    case "timed_out":
      return "Timed out";
    case "failed":
      return `Failed: ${failureTitles[(job.failureKind ?? "internal") as FailureKind] ?? "error"}`;
  }
}

const failureTitles: Record<FailureKind, string> = {
  sandbox: "the sandbox did not start",
  clone: "cloning the repository failed",
  setup: "setting up the project failed",
  model: "the model or its API failed",
  agent: "the agent stopped unexpectedly",
  no_changes: "the agent made no changes",
  tests: "the tests failed",
  timeout: "time limit reached",
  budget: "cost budget reached",
  push: "pushing the branch was rejected",
  github: "GitHub rejected a request",
  config: "the repository's agent config is invalid",
  cancelled: "cancelled",
  internal: "internal error",
};

function headline(job: Job): string {
  const ci = job.followUp?.ci;
  if (ci && (job.status === "queued" || job.status === "running")) return ciRoundHeadline(job, ci);
  switch (job.status) {
    case "queued":
      return `⏳ **Running Agent** has queued this ${job.followUp ? "follow-up" : "task"} for @${job.requesterLogin}.`;
    case "running":
      return `🏃 **Running Agent** is working on this${job.phase ? ` (${job.phase})` : ""}.`;
    case "completed":
      if (job.followUp) return followUpHeadline(job);
      return job.testsPassed === false
        ? `⚠️ **Running Agent** opened a draft pull request, ${job.prUrl}, but the tests still fail.`
        : `✅ **Running Agent** opened a pull request: ${job.prUrl}`;
    case "cancelled":
      return `🛑 **Running Agent** was ${job.failureMessage ?? "cancelled"}.\n\nComment \`/agent retry\` to run it again from where it stopped.`;
    case "timed_out":
    case "failed": {
      const kind = (job.failureKind ?? "internal") as FailureKind;
      const next = nextStepFor(kind);
      return `❌ **Running Agent** failed: ${failureTitles[kind]}.\n\n${quote(job.failureMessage ?? "")}\n\n**What to do next:** ${next}`;
    }
  }
}

/** "CI failed on `test (ubuntu, 22)`: fixing, round 1 of 2": the checks are named once the worker has read them. */
function ciRoundHeadline(job: Job, ci: NonNullable<NonNullable<Job["followUp"]>["ci"]>): string {
  const checks = readCheckpoint(job).ci?.checks;
  const what = checks && checks.length > 0 ? checks.map((name) => `\`${name.replace(/`/g, "'")}\``).join(", ") : `\`${ci.headSha.slice(0, 7)}\``;
  return `🔧 **Running Agent**: CI failed on ${what}: fixing, round ${ci.round} of ${ci.maxRounds}.`;
}

function followUpHeadline(job: Job): string {
  const pushed = readCheckpoint(job).pushed;
  if (pushed?.proposed) return `✅ **Running Agent** proposed a patch for #${job.followUp!.pullRequest.number} in a comment: it cannot push to a fork.`;
  const commit = pushed ? `\`${pushed.sha.slice(0, 7)}\`` : "new commits";
  const where = `\`${job.branch}\` (#${job.followUp!.pullRequest.number})`;
  return job.testsPassed === false
    ? `⚠️ **Running Agent** pushed ${commit} to ${where}, but the tests still fail.`
    : `✅ **Running Agent** pushed ${commit} to ${where}.`;
}

function renderChecklist(job: Job): string {
  const reached = job.phase ? PHASES.indexOf(job.phase as Phase) : -1;
  const finished = job.status === "completed";
  return PHASES.map((phase, index) => {
    const done = finished || index < reached;
    const current = !finished && index === reached && job.status === "running";
    const failedHere = index === reached && (job.status === "failed" || job.status === "timed_out");
    const mark = done ? "x" : " ";
    const suffix = current ? " ← now" : failedHere ? " ← stopped here" : "";
    return `- [${mark}] ${PHASE_LABELS[phase]}${suffix}`;
  }).join("\n");
}

function renderResultTable(job: Job, now: Date): string {
  const started = job.startedAt ?? job.createdAt;
  const end = job.finishedAt ?? now;
  const rows: Array<[string, string]> = [];
  if (job.prUrl) rows.push(["Pull request", job.prUrl]);
  if (job.testsPassed !== null) rows.push(["Tests", job.testsPassed ? "passed" : "failed"]);
  rows.push(["Iterations", `${job.iterations}${job.debugMode ? " (debug mode)" : ""}`]);
  rows.push(["Tokens", `${job.totalTokensIn.toLocaleString("en-US")} in / ${job.totalTokensOut.toLocaleString("en-US")} out`]);
  rows.push(["Cost", formatUsd(job.totalCost)]);
  if (job.status !== "queued") rows.push(["Duration", formatDuration(end.getTime() - started.getTime())]);
  return ["| | |", "|---|---|", ...rows.map(([key, value]) => `| ${key} | ${value} |`)].join("\n");
}

/** A failure message as a Markdown quote, its lines kept (a list of config errors reads as one), bounded. */
function quote(text: string): string {
  const lines = truncateMiddle(text.trim(), 1_500).split("\n").slice(0, 20);
  return lines.map((line) => `> ${line}`).join("\n");
}
