import type { ProbotOctokit } from "probot";
import { statusOf } from "../http-status.ts";
import type { Job } from "../../store/jobs.sql.ts";
import { readCheckpoint } from "../../jobs/checkpoint.ts";
import { JobError } from "../../job-error.ts";
import type { JobRun } from "../../jobs/job-run.ts";

/**
 * Which commit the job builds on, decided when its work starts (not when it was asked
 * for: it may have waited behind another job of the thread).
 *
 * - A follow-up builds on its pull request's branch as it is now: commits pushed since
 *   the request are kept, never overwritten.
 * - A task on an issue whose agent branch already has an open pull request continues it,
 *   so a second `/agent` on the issue updates that pull request instead of fighting it.
 * - A leftover branch without an open pull request is not ours to rewrite: the job takes
 *   a branch name of its own.
 * - A pipeline step builds on its run's branch, where the steps before it pushed their work.
 *
 * Decided once: after the first build round the saved work is a patch against this base.
 */
export async function resolveBase(run: JobRun, octokit: ProbotOctokit): Promise<void> {
  const saved = readCheckpoint(run.job);
  if (saved.pushed || saved.build || run.job.followUp?.fork) return;
  const head = await branchHeadOf(octokit, run.job, run.job.branch);
  if (run.job.followUp) return followBranch(run, head, {});
  // A pipeline step builds on what the run's earlier steps pushed to its branch; the first starts from the default branch.
  if (run.job.pipelineRunId !== null) return head === null ? undefined : followBranch(run, head, {});
  if (head === null) return;
  const { data: open } = await octokit.rest.pulls.list({ owner: run.job.repoOwner, repo: run.job.repoName, head: `${run.job.repoOwner}:${run.job.branch}`, state: "open" });
  if (open.length > 0) return followBranch(run, head, { pullRequest: open[0]!.number });
  const branch = `${run.job.branch}-${run.job.id.slice(0, 8)}`;
  await run.record({ branch });
  await run.event("branch", `${run.job.branch} exists without an open pull request; working on ${branch} instead`);
}

async function followBranch(run: JobRun, head: string | null, options: { pullRequest?: number }): Promise<void> {
  const job = run.job;
  if (head === null) {
    throw new JobError("github", `the pull request's branch \`${job.branch}\` no longer exists`, { nextStep: "Restore the branch (or reopen the pull request), then comment `/agent retry`." });
  }
  if (head === job.baseSha && job.baseBranch === job.branch) return;
  const from = job.baseSha;
  await run.record({ baseSha: head, baseBranch: job.branch });
  if (options.pullRequest !== undefined) {
    await run.event("branch", `continuing pull request #${options.pullRequest} on ${job.branch} at ${head.slice(0, 7)}`, { from, to: head });
  } else if (from !== null && from !== head) {
    await run.event("branch_moved", `${job.branch} moved since the request; building on ${head.slice(0, 7)}`, { from, to: head });
  }
}

/** The branch's head commit, or null when there is no such branch. */
async function branchHeadOf(octokit: ProbotOctokit, job: Job, branch: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.git.getRef({ owner: job.repoOwner, repo: job.repoName, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw new JobError("github", `reading the branch ${branch} failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }
}
