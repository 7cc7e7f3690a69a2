import type { ProbotOctokit } from "probot";
import { and, sql } from "drizzle-orm";
import { settleForgottenSteps, settleStepJob, type PipelineDeps } from "../../pipelines/settle-step.ts";
import { hasEnded, type Job } from "../../store/jobs.sql.ts";
import { pipelineRuns } from "../../store/pipeline-runs.sql.ts";
import { showJobState } from "./show-job-state.ts";
import { showRun } from "./show-run.ts";

export interface ShowDeps extends PipelineDeps {
  /** An Octokit authenticated as the installation. */
  octokitFor(installationId: number): Promise<ProbotOctokit>;
}

/** A step's job has ended: settle it on its run (`settleStepJob`), then show the run on GitHub. */
export async function settleAndShowStep(deps: ShowDeps, job: Job): Promise<void> {
  const run = await settleStepJob(deps, job);
  if (run) await showRun(deps.pool, await deps.octokitFor(run.installationId), run.id);
}

/**
 * Show on GitHub a change to a job that no worker is running (cancelled while queued,
 * queued again by a retry, given up on by the queue), with what it means for its pipeline
 * run, if it is a step: an ended step is recorded on its run, which may start the next
 * steps; a step queued again shows its reopened run. Every path that changes a job outside
 * a worker goes through here.
 */
export async function showJobChange(deps: ShowDeps, job: Job): Promise<void> {
  const octokit = await deps.octokitFor(job.installationId);
  await showJobState(deps.pool, octokit, job, deps.log);
  if (job.pipelineRunId === null) return;
  if (hasEnded(job.status)) await settleAndShowStep(deps, job);
  else await showRun(deps.pool, octokit, job.pipelineRunId);
}

/** The minute's safety net (`settleForgottenSteps`), each run it settled shown. Returns how many. */
export async function settleAndShowForgottenSteps(deps: ShowDeps): Promise<number> {
  const settled = await settleForgottenSteps(deps);
  for (const run of settled) await showRun(deps.pool, await deps.octokitFor(run.installationId), run.id);
  return settled.length;
}

/**
 * The other half of the sweep: runs whose status GitHub has not been shown (the process
 * showing it died, or GitHub failed), above all a run that ended without its pull request
 * opened. Returns how many were shown; one that fails again waits for the next sweep.
 */
export async function showStaleRuns(deps: ShowDeps): Promise<number> {
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
