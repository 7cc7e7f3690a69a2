import type { ProbotOctokit } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import { and, gt, ne, not, notInArray, sql } from "drizzle-orm";
import { createGitHubProgressWriter } from "./progress-writer.ts";
import type { Db } from "../../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs, type Job } from "../../store/jobs.sql.ts";
import { ensureAnnounced } from "./announce-job.ts";
import { heldByWorker } from "../../queue/boss.ts";

/**
 * Show a job's new state on GitHub when no worker will (a queued job cancelled, a job
 * queued again by a retry): a new check run where needed, and the progress comment.
 * Through ensureAnnounced: it takes the job's announcement lock and re-reads the row, so an
 * announcement still in flight (its check run not created yet) is waited for, not missed.
 * For an ended job, false when its final state could not be written (the sweep retries).
 */
export async function showJobState(pool: pg.Pool, octokit: ProbotOctokit, job: Job, log: Logger): Promise<boolean> {
  const reporter = createGitHubProgressWriter(octokit, log.child({ jobId: job.id }));
  const announced = await ensureAnnounced(pool, octokit, job.id);
  if (announced.finishedAt !== null) {
    const shown = await reporter.finish(announced);
    if (shown) await pool.query("update jobs set shown_status = $2 where id = $1", [announced.id, announced.status]);
    return shown;
  }
  reporter.update(announced, { force: true });
  await reporter.flush();
  return true;
}

/**
 * The minute's sweep: jobs that ended in the last day whose final state never reached
 * GitHub (the final write failed, or the process died before it). Jobs run on a user's
 * machine (`running-agent run`) have no GitHub to show. Nor is a job whose worker still
 * holds it: that worker shows its end itself, and its writes are paced, so the row can end
 * seconds before they land; a write from here in between would have the worker's older
 * state, still in flight, land after it. Returns how many were shown.
 */
export async function showStaleJobs(input: { pool: pg.Pool; db: Db; octokitFor(installationId: number): Promise<ProbotOctokit>; log: Logger }): Promise<number> {
  const stale = await input.db
    .select()
    .from(jobs)
    .where(
      and(
        notInArray(jobs.status, ACTIVE_JOB_STATUSES),
        ne(jobs.trigger, "local"),
        gt(jobs.finishedAt, sql`now() - interval '1 day'`),
        sql`${jobs.shownStatus} is distinct from ${jobs.status}`,
        not(heldByWorker(jobs.id)),
      ),
    )
    .limit(50);
  let shown = 0;
  for (const job of stale) {
    try {
      if (await showJobState(input.pool, await input.octokitFor(job.installationId), job, input.log)) shown++;
    } catch (error) {
      input.log.warn({ err: error, jobId: job.id }, "showing the job's final state failed again; the next sweep tries again");
    }
  }
  return shown;
}
