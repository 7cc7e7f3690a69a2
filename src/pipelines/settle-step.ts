import type { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { and, eq, notInArray, sql } from "drizzle-orm";
import type { Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, hasEnded, jobs, type Job } from "../store/jobs.sql.ts";
import { pipelineRuns, type PipelineRun } from "../store/pipeline-runs.sql.ts";
import { recordStepOutcome } from "./advance-run.ts";
import { stepLauncher, stepOutcomeOf } from "./step-jobs.ts";

export interface PipelineDeps {
  pool: pg.Pool;
  db: Db;
  boss: PgBoss;
  log: Logger;
}

/**
 * A step's job has ended, however it ended (its worker finished it, a cancel ended it
 * while queued, the queue gave up on it): record that on its run and start the steps now
 * ready. Returns the run as it is now, for the caller to show (`src/github/show/
 * show-job-change.ts`); null when the job is no ended step or its run is gone. Recording
 * is exactly-once (see advance-run.ts), so calling this twice for one job is harmless, and
 * the run is returned in any case.
 */
export async function settleStepJob(deps: PipelineDeps, job: Job): Promise<PipelineRun | null> {
  if (job.pipelineRunId === null || job.pipelineStep === null || !hasEnded(job.status)) return null;
  const run = await recordStepOutcome(deps.pool, job.pipelineRunId, job.pipelineStep, stepOutcomeOf(job), stepLauncher(deps.boss));
  if (!run) return null;
  deps.log.info({ runId: run.id, step: job.pipelineStep, jobStatus: job.status, runStatus: run.status }, "pipeline step ended");
  return run;
}

/**
 * The safety net, run every minute: steps whose job ended without the run hearing of it
 * (a process died between the two). Returns the runs settled, for the caller to show.
 */
export async function settleForgottenSteps(deps: PipelineDeps): Promise<PipelineRun[]> {
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
  const settled: PipelineRun[] = [];
  for (const { job } of forgotten) {
    const run = await settleStepJob(deps, job);
    if (run) settled.push(run);
  }
  return settled;
}
