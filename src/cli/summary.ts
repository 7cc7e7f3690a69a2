/**
 * What `running-agent run` prints when the job has ended, and the exit code it ends with.
 * The failure words are the CLI's own: the GitHub ones tell the user to comment
 * `/agent retry`, which means nothing in a terminal.
 */
import { formatUsd } from "../budget.ts";
import type { FailureKind } from "../job-error.ts";
import { formatDuration } from "../duration.ts";
import type { Job } from "../store/jobs.sql.ts";

export interface RunOutcome {
  /** The branch left in the user's repository, or null when the job made no commits. */
  branch: string | null;
  /** Files the commits change, relative to the repository. */
  files: readonly string[];
  /** Where the command's log went. */
  logFile?: string;
}

/** Files listed one by one; more are counted. */
const MAX_FILES_LISTED = 20;

/** 0 when the job succeeded and its checks did not fail, 1 otherwise. Bad usage (2) never gets this far. */
export function exitCodeOf(job: Job): 0 | 1 {
  return job.status === "completed" && job.testsPassed !== false ? 0 : 1;
}

/** The summary, a few aligned lines ending with a newline. */
export function renderSummary(job: Job, outcome: RunOutcome): string {
  const rows: Array<[string, string]> = [["Result", resultOf(job)]];
  rows.push(["Branch", outcome.branch ? `${outcome.branch} (see it with: git log ${outcome.branch})` : "none: nothing was committed"]);
  rows.push(["Files", `${outcome.files.length} changed`]);
  rows.push(["Checks", checksOf(job)]);
  rows.push(["Iterations", String(job.iterations)]);
  rows.push(["Tokens", `${job.totalTokensIn.toLocaleString("en-US")} in / ${job.totalTokensOut.toLocaleString("en-US")} out`]);
  rows.push(["Cost", formatUsd(job.totalCost)]);
  rows.push(["Duration", formatDuration(durationMs(job))]);
  if (outcome.logFile) rows.push(["Log", outcome.logFile]);
  const lines = rows.map(([key, value]) => `${`${key}:`.padEnd(12)}${value}`);
  const listed = outcome.files.slice(0, MAX_FILES_LISTED).map((file) => `  ${file}`);
  if (outcome.files.length > MAX_FILES_LISTED) listed.push(`  … and ${outcome.files.length - MAX_FILES_LISTED} more`);
  lines.splice(3, 0, ...listed);
  return [...lines, ...failureLines(job)].join("\n") + "\n";
}

function resultOf(job: Job): string {
  switch (job.status) {
    case "completed":
      return job.testsPassed === false ? "finished, but the checks still fail" : "done";
    case "failed":
    case "timed_out":
      return `failed: ${failureTitles[failureKindOf(job)]}`;
    case "cancelled":
      return "cancelled";
    default:
      return `not finished (${job.status})`;
  }
}

function checksOf(job: Job): string {
  if (job.testsPassed === true) return "passed";
  if (job.testsPassed === false) return "failed";
  return job.status === "completed" ? "none found to run" : "not run";
}

function failureLines(job: Job): string[] {
  if (job.status !== "failed" && job.status !== "timed_out" && job.status !== "cancelled") {
    return job.status === "completed" && job.testsPassed === false ? ["", `Next step: ${nextSteps.tests}`] : [];
  }
  const message = (job.failureMessage ?? "").trim().split("\n").slice(0, 10);
  return ["", ...(message[0] ? ["Reason:", ...message.map((line) => `  ${line}`)] : []), `Next step: ${nextSteps[failureKindOf(job)]}`];
}

function failureKindOf(job: Job): FailureKind {
  const kind = job.failureKind ?? (job.status === "timed_out" ? "timeout" : job.status === "cancelled" ? "cancelled" : "internal");
  return Object.hasOwn(failureTitles, kind) ? (kind as FailureKind) : "internal";
}

/** How long the job ran: `timings.total` when it finished, else its clock times. */
function durationMs(job: Job): number {
  if (typeof job.timings.total === "number") return job.timings.total;
  if (job.startedAt && job.finishedAt) return job.finishedAt.getTime() - job.startedAt.getTime();
  return 0;
}

const failureTitles: Record<FailureKind, string> = {
  sandbox: "the sandbox did not start",
  clone: "copying the repository failed",
  setup: "setting up the project failed",
  model: "the model or its API failed",
  agent: "the agent stopped unexpectedly",
  no_changes: "the agent made no changes",
  tests: "the checks failed",
  timeout: "time limit reached",
  budget: "cost limit reached",
  push: "writing the branch into the repository failed",
  github: "GitHub rejected a request",
  config: "the repository's agent config is invalid",
  cancelled: "cancelled",
  internal: "internal error",
};

const nextSteps: Record<FailureKind, string> = {
  sandbox: "this is usually temporary; run the same command again.",
  clone: "check that --repo is a git repository and --base names a commit in it.",
  setup: "check the install command (override it in .github/agent.yml), then run again.",
  model: "check the model ids and the provider's API key, then run again.",
  agent: "run again, or rephrase the task.",
  no_changes: "rephrase the task with more detail and run again.",
  tests: "look at the failing checks on the branch, then run again with the feedback as the task and --base set to the branch.",
  timeout: "split the task into smaller ones, or raise AGENT_TIMEOUT_MINUTES.",
  budget: "split the task into smaller ones, or raise --max-cost.",
  push: "the branch may exist already with other commits; delete or rename it, then run again.",
  github: "run again in a few minutes.",
  config: "fix .github/agent.yml at the base ref, then run again.",
  cancelled: "run the same command again to start over.",
  internal: "this is a bug in Running Agent; run again, and report it if it happens again.",
};
