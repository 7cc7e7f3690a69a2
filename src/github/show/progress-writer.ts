import type { ProbotOctokit } from "probot";
import type { Logger } from "pino";
import { checkConclusionOf, renderCheckRunOutput, renderProgressComment } from "./render-progress.ts";
import type { JobReporter } from "../../jobs/job-host.ts";
import type { Job } from "../../store/jobs.sql.ts";

/** The check run's "Retry" button: the same as commenting `/agent retry`. */
export const RETRY_ACTION = { label: "Retry", description: "Run again from where it stopped", identifier: "retry" } as const;

/**
 * Progress on GitHub: the check run and the one progress comment, both re-rendered from
 * the job row. GitHub asks apps to pace writes (Probot's Octokit waits a second or more
 * between them), so the job never waits on a progress write, and stale states are
 * dropped rather than queued. A failed update is logged, never fatal. Once the final state
 * is asked for, nothing else is written: an update arriving later holds an older state, and
 * landing after the final one it would show the job as still working.
 */
export function createGitHubProgressWriter(octokit: ProbotOctokit, log: Logger, options: { minIntervalMs?: number; now?: () => Date } = {}): JobReporter {
  const minIntervalMs = options.minIntervalMs ?? 3_000;
  const now = options.now ?? (() => new Date());
  let lastUpdate = Number.NEGATIVE_INFINITY;
  let queued: Job | null = null;
  let inFlight: Promise<void> | null = null;
  let finished = false;

  async function write(job: Job, final: boolean): Promise<void> {
    const repo = { owner: job.repoOwner, repo: job.repoName };
    const at = now();
    if (job.checkRunId !== null) {
      const conclusion = final ? checkConclusionOf(job) : null;
      await octokit.rest.checks.update({
        ...repo,
        check_run_id: job.checkRunId,
        output: renderCheckRunOutput(job, at),
        ...(conclusion ? { status: "completed" as const, conclusion, completed_at: at.toISOString() } : { status: job.status === "queued" ? ("queued" as const) : ("in_progress" as const) }),
        ...(job.prUrl ? { details_url: job.prUrl } : {}),
        // A button on the failed check run; GitHub sends check_run.requested_action to this app.
        ...(conclusion && conclusion !== "success" ? { actions: [RETRY_ACTION] } : {}),
      });
    }
    if (job.commentId !== null) {
      await octokit.rest.issues.updateComment({ ...repo, comment_id: job.commentId, body: renderProgressComment(job, at) });
    }
  }

  function pump(): void {
    if (inFlight || !queued) return;
    const job = queued;
    queued = null;
    inFlight = write(job, false)
      .catch((error: unknown) => log.warn({ err: error }, "progress update failed"))
      .finally(() => {
        inFlight = null;
        pump();
      });
  }

  async function flush(): Promise<void> {
    while (inFlight) await inFlight;
  }

  return {
    update(job, updateOptions = {}) {
      if (finished) return;
      const at = now().getTime();
      if (!updateOptions.force && at - lastUpdate < minIntervalMs) return;
      lastUpdate = at;
      queued = job;
      pump();
    },
    flush,
    async finish(job) {
      finished = true;
      queued = null;
      await flush();
      // Nowhere to show it: its announcement failed (GitHub or Postgres was down). Not shown, so the minute's sweep announces it and shows the end.
      if (job.checkRunId === null && job.commentId === null) return false;
      return write(job, true).then(
        () => true,
        (error: unknown) => {
          log.error({ err: error }, "final progress update failed; the minute's sweep shows it again");
          return false;
        },
      );
    },
  };
}
