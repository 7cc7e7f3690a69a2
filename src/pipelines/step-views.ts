import type { Job } from "../store/jobs.sql.ts";
import type { PipelineRun, RunStep } from "../store/pipeline-runs.sql.ts";

/** A run's step with the job that ran it, if one did. */
export interface StepView {
  name: string;
  dependsOn: readonly string[];
  step: RunStep;
  job: Job | null;
}

/** The run's steps in the order they are written, each with its job (matched by the step's `jobId`). */
export function stepViewsOf(run: PipelineRun, jobs: readonly Job[]): StepView[] {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  return run.definition.steps.map((definition) => {
    const step = run.steps[definition.name] ?? { state: "pending" as const };
    return { name: definition.name, dependsOn: definition.depends_on ?? [], step, job: step.jobId ? (byId.get(step.jobId) ?? null) : null };
  });
}
