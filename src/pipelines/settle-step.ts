import type { ProbotOctokit } from "probot";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { showJobState } from "../github/show-job-state.ts";
import { showRun } from "../github/show-run.ts";
import { and, eq, notInArray, sql } from "drizzle-orm";
import type { Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, hasEnded, jobs, type Job } from "../store/jobs.sql.ts";
import { pipelineRuns } from "../store/pipeline-runs.sql.ts";
import { recordStepOutcome } from "./advance-run.ts";
import { stepLauncher, stepOutcomeOf } from "./step-jobs.ts";

export interface PipelineDeps {
  pool: pg.Pool;
  db: Db;
  boss: PgBoss;
  /** An Octokit authenticated as the installation. */
  octokitFor(installationId: number): Promise<ProbotOctokit>;
  log: Logger;
}

/**
 * A step's job has ended, however it ended (its worker finished it, a cancel ended it
 * while queued, the queue gave up on it): record that on its run, start the steps now
 * ready, and show the run. Recording is exactly-once (see advance-run.ts), so calling
 * this twice for one job is harmless; GitHub is told in any case.
 */
export async function settleStepJob(deps: PipelineDeps, job: Job): Promise<void> {
  if (job.pipelineRunId === null || job.pipelineStep === null || !hasEnded(job.status)) return;
  const run = await recordStepOutcome(deps.pool, job.pipelineRunId, job.pipelineStep, stepOutcomeOf(job), stepLauncher(deps.boss));
  if (!run) return;
  deps.log.info({ runId: run.id, step: job.pipelineStep, jobStatus: job.status, runStatus: run.status }, "pipeline step ended");
  await showRun(deps.pool, await deps.octokitFor(run.installationId), run.id);
}

/**
 * Show on GitHub a change to a job that no worker is running (cancelled while queued,
 * queued again by a retry, given up on by the queue), with what it means for its pipeline
 * run, if it is a step: an ended step is recorded on its run, which may start the next
 * steps; a step queued again shows its reopened run. Every path that changes a job outside
 * a worker goes through here.
 */
export async function showJobChange(deps: PipelineDeps, job: Job): Promise<void> {
  const octokit = await deps.octokitFor(job.installationId);
  await showJobState(deps.pool, octokit, job, deps.log);
  if (job.pipelineRunId === null) return;
  if (hasEnded(job.status)) await settleStepJob(deps, job);
  else await showRun(deps.pool, octokit, job.pipelineRunId);
}

/**
 * The safety net, run every minute: steps whose job ended without the run hearing of it
 * (a process died between the two). Returns how many were settled.
 */
export async function settleForgottenSteps(deps: PipelineDeps): Promise<number> {
  const forgotten = await deps.db
    .select({ job: jobs })
    .from(jobs)
    .innerJoin(pipelineRuns, eq(pipelineRuns.id, jobs.pipelineRunId))
    .where(
      and(
        eq(pipelineRuns.status, "running"),
        notInArray(jobs.status, ACTIVE_JOB_STATUSES),
        sql`${pipelineRuns.steps} -> ${jobs.pipelineStep} ->> 'state' = 'running'`,
        sql`${pipelineRuns.steps} -> ${jobs.pipelineStep} ->> 'jobId' = ${jobs.id}::text`,
      ),
    );
  for (const { job } of forgotten) await settleStepJob(deps, job);
  return forgotten.length;
}

/**
 * The other half of the sweep: runs whose status GitHub has not been shown (the process
 * showing it died, or GitHub failed), above all a run that ended without its pull request
 * opened. Returns how many were shown; one that fails again waits for the next sweep.
 */
export async function showStaleRuns(deps: PipelineDeps): Promise<number> {
  // A day at most: a repository the app was removed from must not be asked every minute for ever.
  const stale = await deps.db
    .select()
    .from(pipelineRuns)
    .where(and(sql`${pipelineRuns.shownStatus} is distinct from ${pipelineRuns.status}`, sql`${pipelineRuns.updatedAt} > now() - interval '1 day'`))
    .limit(50);
  let shown = 0;
  for (const run of stale) {
    try {
      await showRun(deps.pool, await deps.octokitFor(run.installationId), run.id);
      shown++;
    } catch (error) {
      deps.log.warn({ err: error, runId: run.id }, "showing the pipeline run failed again; the next sweep tries again");
    }
  }
  return shown;
}
