import type { PgBoss } from "pg-boss";
import { readCheckpoint } from "../jobs/checkpoint.ts";
import { enqueueAgentJob } from "../queue/boss.ts";
import { jobs, NO_ISSUE, type Job } from "../store/jobs.sql.ts";
import type { StepLauncher, StepOutcome } from "./advance-run.ts";
import { stepOutputOf } from "./step-output.ts";

/**
 * A pipeline step is an agent job like any other, with `pipelineRunId`/`pipelineStep` set.
 * Every step of a run works on the run's one branch: it builds on what its upstream steps
 * pushed there, and a step that finishes while another pushed meanwhile replays its
 * commits on top (a conflict fails it and names the files). The run's pull request is
 * opened from that branch once the run is over.
 */
export function stepLauncher(boss: PgBoss): StepLauncher {
  return async (tx, client, run, step) => {
    const [job] = await tx
      .insert(jobs)
      .values({
        installationId: run.installationId,
        repoId: run.repoId,
        repoOwner: run.repoOwner,
        repoName: run.repoName,
        cloneUrl: run.cloneUrl,
        defaultBranch: run.defaultBranch,
        // A run started through the REST API has no thread.
        issueNumber: run.issueNumber ?? NO_ISSUE,
        issueTitle: `${run.pipelineName}/${step.name}`,
        trigger: "pipeline",
        task: step.task,
        requesterLogin: run.requesterLogin,
        requesterId: run.requesterId,
        branch: run.branch,
        pipelineRunId: run.id,
        pipelineName: run.pipelineName,
        pipelineStep: step.name,
      })
      .returning();
    await enqueueAgentJob(boss, client, { jobId: job!.id }, job!);
    return job!.id;
  };
}

/**
 * How a step's job ended, for the run: a job that pushed work whose checks still fail is a
 * failed step (its work stays on the run's branch). The output is the last JSON object of
 * the agent's final reply.
 */
export function stepOutcomeOf(job: Job): StepOutcome {
  if (job.status === "cancelled") return { state: "cancelled" };
  if (job.status !== "completed" || job.testsPassed === false) return { state: "failed" };
  const saved = readCheckpoint(job);
  const reply = saved.pushed?.summary ?? saved.build?.summary ?? "";
  return { state: "completed", output: stepOutputOf(reply) };
}
