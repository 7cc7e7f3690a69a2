import type { ProbotOctokit } from "probot";
import type { PushedWork } from "../../jobs/checkpoint.ts";
import type { JobRun } from "../../jobs/job-run.ts";
import { JobError } from "../../job-error.ts";
import { statusOf } from "../http-status.ts";
import { openPullRequest } from "../pull-request.ts";

/** The job's pull request for its pushed branch, with what the agent did, what it cost and how its checks went. */
export async function openPullRequestFor(run: JobRun, octokit: ProbotOctokit, pushed: PushedWork): Promise<{ number: number; url: string }> {
  const job = run.job;
  try {
    return await openPullRequest(octokit, job, {
      summary: pushed.summary,
      testsPassed: pushed.testsPassed,
      checksPassed: pushed.checksPassed,
      testSummary: pushed.testSummary,
      changedFiles: pushed.files,
      costUsd: job.totalCost,
      tokensIn: job.totalTokensIn,
      tokensOut: job.totalTokensOut,
      durationMs: run.now().getTime() - (job.startedAt ?? run.now()).getTime(),
    });
  } catch (error) {
    const status = statusOf(error);
    const message = error instanceof Error ? error.message : String(error);
    throw new JobError("github", `opening the pull request failed${status ? ` (HTTP ${status})` : ""}: ${message}`, {
      retryable: status === undefined || status >= 500 || status === 429,
      cause: error,
    });
  }
}
