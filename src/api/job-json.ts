import { readCheckpoint } from "../jobs/checkpoint.ts";
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
    // A running job being stopped: its worker ends it within seconds.
    cancel_requested_at: job.cancelRequestedAt?.toISOString() ?? null,
    cancel_requested_by: job.cancelRequestedBy,
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

/**
 * `GET /api/jobs/:id`: the job with its log, and what a person reading it wants at a glance:
 * its phases on a time axis, the plan, the files its work changed and the agent's summary.
 */
export function jobDetailToJson(job: Job, events: JobEvent[]) {
  const saved = readCheckpoint(job);
  return {
    ...jobToJson(job, events),
    phases: phasesOf(job, events),
    plan: saved.plan ?? null,
    changed_files: saved.pushed?.files ?? null,
    summary: saved.pushed?.summary ?? saved.build?.summary ?? null,
  };
}

/** One stretch of a job in one phase; build and verify come back once per round. */
export interface PhaseSpan {
  name: string;
  /** The build-and-verify round a build or verify span belongs to; null for the other phases. */
  round: number | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  /** The phase's model usage, where the phase ran once; null for build and verify spans of several rounds (their sum is in `usage_by_phase`). */
  tokens_in: number | null;
  tokens_out: number | null;
  cost: number | null;
}

/**
 * The job's phases in order, from its log: each `phase` event opens a span, which the next
 * phase, a hand-back to the queue or the job's end closes. A span still open has no end.
 */
export function phasesOf(job: Job, events: readonly JobEvent[]): PhaseSpan[] {
  const spans: Array<Omit<PhaseSpan, "tokens_in" | "tokens_out" | "cost">> = [];
  let round = 0;
  const close = (at: Date) => {
    const open = spans.at(-1);
    if (!open || open.ended_at !== null) return;
    open.ended_at = at.toISOString();
    open.duration_ms = at.getTime() - Date.parse(open.started_at);
  };
  for (const event of events) {
    if (event.kind === "finished" || event.kind === "requeued") close(event.at);
    if (event.kind !== "phase") continue;
    const name = typeof event.data?.phase === "string" ? event.data.phase : /^phase (\w+) started$/.exec(event.message)?.[1];
    if (!name) continue;
    close(event.at);
    if (name === "build") round += 1;
    spans.push({ name, round: name === "build" || name === "verify" ? Math.max(round, 1) : null, started_at: event.at.toISOString(), ended_at: null, duration_ms: null });
  }
  if (job.finishedAt) close(job.finishedAt);
  const count = (name: string) => spans.filter((span) => span.name === name).length;
  return spans.map((span) => {
    const usage = count(span.name) === 1 ? job.usageByPhase[span.name] : undefined;
    return { ...span, tokens_in: usage?.tokensIn ?? null, tokens_out: usage?.tokensOut ?? null, cost: usage?.cost ?? null };
  });
}
