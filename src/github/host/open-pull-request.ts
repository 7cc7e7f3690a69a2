import type { ProbotOctokit } from "probot";
import type { PushedWork } from "../../jobs/checkpoint.ts";
import type { JobRun } from "../../jobs/job-run.ts";
import { githubJobError } from "../http-status.ts";
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
    throw githubJobError(error, `opening the pull request: ${error instanceof Error ? error.message : String(error)}`);
  }
}
