import type pg from "pg";
import { AGENT_JOB_QUEUE } from "../queue/boss.ts";
import { JOB_STATUSES } from "../store/jobs.sql.ts";
import { pullRequestFigures } from "../store/pull-request-queries.ts";
import { mergeRateOf } from "./stats.ts";

/**
 * `GET /metrics` in Prometheus' text format, read from Postgres on each scrape, so any
 * web process answers for the whole deployment: jobs by status, the queue's backlog, the
 * durations and costs of the jobs that ended in the last 24 hours, and what became of the
 * agent's pull requests (merged, closed, open; the merge rate; time to merge).
 */
export async function renderMetrics(pool: pg.Pool): Promise<string> {
  const [byStatus, queue, recent, pullRequests] = await Promise.all([
    pool.query<{ status: string; count: string }>("select status, count(*) from jobs group by status"),
    pool.query<{ state: string; count: string }>("select state::text, count(*) from pgboss.job where name = $1 and state in ('created', 'retry', 'active') group by state", [AGENT_JOB_QUEUE]),
    pool.query<{ p50: number | null; p90: number | null; count: string; cost: number | null; tokens: string | null }>(
      `select percentile_cont(0.5) within group (order by extract(epoch from finished_at - started_at)) as p50,
              percentile_cont(0.9) within group (order by extract(epoch from finished_at - started_at)) as p90,
              count(*), sum(total_cost) as cost, sum(total_tokens_in + total_tokens_out) as tokens
       from jobs where finished_at > now() - interval '24 hours' and started_at is not null`,
    ),
    pullRequestFigures(pool, { since: new Date(0), repository: null }),
  ]);
  const opened = pullRequests.find((row) => row.repository === null)!;
  const counts = new Map(byStatus.rows.map((row) => [row.status, Number(row.count)]));
  const states = new Map(queue.rows.map((row) => [row.state, Number(row.count)]));
  const last = recent.rows[0];
  return [
    "# HELP running_agent_jobs Jobs by status, all time.",
    "# TYPE running_agent_jobs gauge",
    ...JOB_STATUSES.map((status) => `running_agent_jobs{status="${status}"} ${counts.get(status) ?? 0}`),
    "# HELP running_agent_queue_messages Messages of the agent queue: waiting (created), waiting to retry, being worked on.",
    "# TYPE running_agent_queue_messages gauge",
    ...["created", "retry", "active"].map((state) => `running_agent_queue_messages{state="${state}"} ${states.get(state) ?? 0}`),
    "# HELP running_agent_job_duration_seconds Wall-clock time of the jobs that ended in the last 24 hours.",
    "# TYPE running_agent_job_duration_seconds summary",
    `running_agent_job_duration_seconds{quantile="0.5"} ${secondsOf(last?.p50)}`,
    `running_agent_job_duration_seconds{quantile="0.9"} ${secondsOf(last?.p90)}`,
    `running_agent_job_duration_seconds_count ${Number(last?.count ?? 0)}`,
    "# HELP running_agent_job_cost_usd_24h Model cost of the jobs that ended in the last 24 hours.",
    "# TYPE running_agent_job_cost_usd_24h gauge",
    `running_agent_job_cost_usd_24h ${dollarsOf(last?.cost)}`,
    "# HELP running_agent_job_tokens_24h Model tokens (in and out) of the jobs that ended in the last 24 hours.",
    "# TYPE running_agent_job_tokens_24h gauge",
    `running_agent_job_tokens_24h ${Number(last?.tokens ?? 0)}`,
    "# HELP running_agent_pull_requests The agent's pull requests by what became of them, all time.",
    "# TYPE running_agent_pull_requests gauge",
    `running_agent_pull_requests{state="open"} ${opened.open}`,
    `running_agent_pull_requests{state="merged"} ${opened.merged}`,
    `running_agent_pull_requests{state="closed"} ${opened.closedUnmerged}`,
    "# HELP running_agent_pull_request_merge_rate Merged over decided (merged or closed unmerged) pull requests of the agent, all time; NaN before any is decided.",
    "# TYPE running_agent_pull_request_merge_rate gauge",
    `running_agent_pull_request_merge_rate ${mergeRateOf(opened) ?? "NaN"}`,
    "# HELP running_agent_time_to_merge_seconds From the request to the merge of the agent's merged pull requests, all time.",
    "# TYPE running_agent_time_to_merge_seconds summary",
    `running_agent_time_to_merge_seconds{quantile="0.5"} ${secondsOf(opened.timeToMergeP50)}`,
    `running_agent_time_to_merge_seconds{quantile="0.9"} ${secondsOf(opened.timeToMergeP90)}`,
    `running_agent_time_to_merge_seconds_count ${opened.merged}`,
    "# HELP running_agent_ci_rounds CI rounds: jobs started by the product itself because CI failed on the agent's commit, all time; fixed: the commit a round pushed has not failed CI since.",
    "# TYPE running_agent_ci_rounds gauge",
    `running_agent_ci_rounds{outcome="all"} ${opened.ciRounds}`,
    `running_agent_ci_rounds{outcome="fixed"} ${opened.ciRoundsFixed}`,
    "",
  ].join("\n");
}

/** Seconds to the millisecond: percentile_cont interpolates in binary floating point (67.83699999999999). */
function secondsOf(value: number | null | undefined): string {
  return value === null || value === undefined ? "NaN" : String(Math.round(Number(value) * 1000) / 1000);
}

/** Dollars to the micro-dollar, the unit budgets are kept in: a sum of doubles drifts (0.30000000000000004). */
function dollarsOf(value: number | null | undefined): string {
  return String(Math.round(Number(value ?? 0) * 1_000_000) / 1_000_000);
}
