import type { ProbotOctokit } from "probot";
import type { Logger } from "pino";
import { checkConclusionOf, renderCheckRunOutput, renderProgressComment } from "../github/render-progress.ts";
import type { Job } from "../store/jobs.sql.ts";

export interface JobReporter {
  /** Show the job's current state; skipped when the last update was too recent, unless forced. */
  update(job: Job, options?: { force?: boolean }): Promise<void>;
  /** Show the final state: completes the check run and edits the comment. */
  finish(job: Job): Promise<void>;
}

/**
 * Progress on GitHub: the check run and the one progress comment, both re-rendered from
 * the job row. Updates are throttled (GitHub asks apps to pace writes), and a failed
 * update is logged, never fatal: the job's result matters more than its progress bar.
 */
export function createJobReporter(octokit: ProbotOctokit, log: Logger, options: { minIntervalMs?: number; now?: () => Date } = {}): JobReporter {
  const minIntervalMs = options.minIntervalMs ?? 3_000;
  const now = options.now ?? (() => new Date());
  let lastUpdate = 0;

  async function write(job: Job, final: boolean): Promise<void> {
    const repo = { owner: job.repoOwner, repo: job.repoName };
    const at = now();
    if (job.checkRunId !== null) {
      const conclusion = final ? checkConclusionOf(job) : null;
      await octokit.rest.checks.update({
        ...repo,
        check_run_id: job.checkRunId,
        output: renderCheckRunOutput(job, at),
        ...(conclusion ? { status: "completed" as const, conclusion, completed_at: at.toISOString() } : { status: "in_progress" as const }),
        ...(job.prUrl ? { details_url: job.prUrl } : {}),
      });
    }
    if (job.commentId !== null) {
      await octokit.rest.issues.updateComment({ ...repo, comment_id: job.commentId, body: renderProgressComment(job, at) });
    }
  }

  return {
    async update(job, updateOptions = {}) {
      const at = now().getTime();
      if (!updateOptions.force && at - lastUpdate < minIntervalMs) return;
      lastUpdate = at;
      await write(job, false).catch((error: unknown) => log.warn({ err: error }, "progress update failed"));
    },
    async finish(job) {
      lastUpdate = now().getTime();
      await write(job, true).catch((error: unknown) => log.error({ err: error }, "final progress update failed"));
    },
  };
}
