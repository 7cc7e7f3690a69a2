import { stepViewsOf } from "../pipelines/step-views.ts";
import { microsOf, usdOf } from "../budget.ts";
import type { Job } from "../store/jobs.sql.ts";
import type { PipelineRun } from "../store/pipeline-runs.sql.ts";

/** The public shape of a pipeline run: snake_case, each step with its job's status, outputs and cost. */
export function runToJson(run: PipelineRun, stepJobs: readonly Job[]) {
  const steps = stepViewsOf(run, stepJobs).map((view) => {
    const definition = run.definition.steps.find((step) => step.name === view.name)!;
    return {
      name: view.name,
      depends_on: view.dependsOn,
      on_failure: definition.on_failure,
      state: view.step.state,
      job_id: view.step.jobId ?? null,
      job: view.job
        ? {
            status: view.job.status,
            phase: view.job.phase,
            iterations: view.job.iterations,
            tests_passed: view.job.testsPassed,
            total_cost: view.job.totalCost,
            failure: view.job.failureKind ? { kind: view.job.failureKind, message: view.job.failureMessage } : null,
          }
        : null,
      output: view.step.output ?? null,
      error: view.step.error ?? null,
    };
  });
  return {
    id: run.id,
    pipeline: run.pipelineName,
    repository: `${run.repoOwner}/${run.repoName}`,
    issue_number: run.issueNumber,
    status: run.status,
    inputs: run.inputs,
    requester: run.requesterLogin,
    branch: run.branch,
    pr_url: run.prUrl,
    pr_number: run.prNumber,
    total_cost: usdOf(stepJobs.reduce((sum, job) => sum + microsOf(job.totalCost), 0)),
    cancel_requested_by: run.cancelRequestedBy,
    steps,
    created_at: run.createdAt.toISOString(),
    finished_at: run.finishedAt?.toISOString() ?? null,
  };
}
