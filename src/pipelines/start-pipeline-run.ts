import { randomUUID } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import { claimDelivery } from "../jobs/create-job.ts";
import type { JobRequest } from "../jobs/job-request.ts";
import { slugifyTitle } from "../jobs/branch-name.ts";
import type { PipelineRun } from "../store/pipeline-runs.sql.ts";
import { startRun } from "./advance-run.ts";
import type { Pipeline } from "../config/pipeline.schema.ts";
import { stepLauncher } from "./step-jobs.ts";

export interface PipelineRunRequest {
  installationId: number;
  repo: JobRequest["repo"];
  /** The issue or pull request it was asked on; null from the REST API. */
  issueNumber: number | null;
  pipelineName: string;
  /** Validated (`parsePipeline`/`checkRunRequest`) and with its inputs checked. */
  pipeline: Pipeline;
  inputs: Record<string, string>;
  requester: { login: string; id: number };
  /** The webhook delivery that asked; a redelivery then starts nothing. */
  delivery: JobRequest["delivery"];
}

/**
 * Record a run and start its first steps, in one transaction with the delivery's row.
 * Null when the delivery was handled before. The run's branch, `agent/<pipeline>-<id>`, is
 * where every step pushes in turn and the run's pull request comes from.
 */
export async function startPipelineRun(pool: pg.Pool, boss: PgBoss, request: PipelineRunRequest): Promise<PipelineRun | null> {
  const id = randomUUID();
  const delivery = request.delivery;
  return startRun(
    pool,
    {
      id,
      installationId: request.installationId,
      repoId: request.repo.id,
      repoOwner: request.repo.owner,
      repoName: request.repo.name,
      cloneUrl: request.repo.cloneUrl,
      defaultBranch: request.repo.defaultBranch,
      issueNumber: request.issueNumber,
      pipelineName: request.pipelineName,
      definition: request.pipeline,
      inputs: request.inputs,
      requesterLogin: request.requester.login,
      requesterId: request.requester.id,
      branch: `agent/${slugifyTitle(request.pipelineName) || "pipeline"}-${id.slice(0, 8)}`,
    },
    stepLauncher(boss),
    (tx) => (delivery === null ? Promise.resolve(true) : claimDelivery(tx, delivery, "pipeline_run")),
  );
}
