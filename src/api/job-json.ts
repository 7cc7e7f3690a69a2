import type { JobEvent } from "../store/job-events.sql.ts";
import { NO_ISSUE, type Job } from "../store/jobs.sql.ts";

/** The public shape of a job (README: REST API, `GET /api/jobs/:id`): snake_case, stable, no internal ids or secrets. */
export function jobToJson(job: Job, events?: JobEvent[]) {
  return {
    id: job.id,
    status: job.status,
    phase: job.phase,
    repository: `${job.repoOwner}/${job.repoName}`,
    // A task asked without an issue, a run's step started through the API, a local job.
    issue_number: job.issueNumber === NO_ISSUE ? null : job.issueNumber,
    trigger: job.trigger,
    task: job.task,
    requester: job.requesterLogin,
    branch: job.branch,
    base_sha: job.baseSha,
    pr_url: job.prUrl,
    pr_number: job.prNumber,
    total_cost: job.totalCost,
    total_tokens_in: job.totalTokensIn,
    total_tokens_out: job.totalTokensOut,
    iterations: job.iterations,
    tests_passed: job.testsPassed,
    debug_mode: job.debugMode,
    resumed_from_checkpoint: job.resumedFromCheckpoint,
    exploration_report_generated: job.explorationReportGenerated,
    failure: job.failureKind ? { kind: job.failureKind, message: job.failureMessage } : null,
    attempts: job.attempts,
    timings: job.timings,
    usage_by_phase: job.usageByPhase,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    ...(events ? { logs: events.map(eventToJson) } : {}),
  };
}

export function eventToJson(event: JobEvent) {
  return { id: event.id, at: event.at.toISOString(), kind: event.kind, message: event.message, data: event.data };
}
