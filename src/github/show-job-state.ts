import type { ProbotOctokit } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import { createJobReporter } from "../jobs/job-reporter.ts";
import type { Job } from "../store/jobs.sql.ts";
import { ensureAnnounced } from "./announce-job.ts";

/**
 * Show a job's new state on GitHub when no worker will (a queued job cancelled, a job
 * queued again by a retry): a new check run where needed, and the progress comment.
 * Through ensureAnnounced: it takes the job's announcement lock and re-reads the row, so an
 * announcement still in flight (its check run not created yet) is waited for, not missed.
 */
export async function showJobState(pool: pg.Pool, octokit: ProbotOctokit, job: Job, log: Logger): Promise<void> {
  const reporter = createJobReporter(octokit, log.child({ jobId: job.id }));
  const announced = await ensureAnnounced(pool, octokit, job.id);
  if (announced.finishedAt !== null) return reporter.finish(announced);
  reporter.update(announced, { force: true });
  await reporter.flush();
}
