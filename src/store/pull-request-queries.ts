import { and, eq, isNull, sql } from "drizzle-orm";
import type pg from "pg";
import type { Db } from "./database.ts";
import { jobs } from "./jobs.sql.ts";
import { agentPullRequests, type AgentPullRequest } from "./pull-requests.sql.ts";

export type NewAgentPullRequest = Pick<AgentPullRequest, "installationId" | "repoId" | "repoOwner" | "repoName" | "number" | "url" | "jobId" | "pipelineRunId" | "requestedAt" | "agentHeadSha">;

/** Remembers a pull request the agent opened; a retried job updating the same one records nothing new. */
export async function recordAgentPullRequest(db: Db, pullRequest: NewAgentPullRequest): Promise<void> {
  await db.insert(agentPullRequests).values(pullRequest).onConflictDoNothing();
}

/** The agent pushed `headSha` to its pull request (a follow-up, a CI round): CI on that commit is the agent's to fix. */
export async function recordAgentPush(db: Db, push: { repoId: number; number: number; headSha: string }): Promise<void> {
  await db
    .update(agentPullRequests)
    .set({ agentHeadSha: push.headSha })
    .where(and(eq(agentPullRequests.repoId, push.repoId), eq(agentPullRequests.number, push.number)));
}

/** The agent's open pull request whose head is the agent's own commit `headSha`, unless its CI rounds were stopped. */
export async function findAgentPullRequestAtHead(db: Db, at: { repoId: number; headSha: string }): Promise<AgentPullRequest | null> {
  const [row] = await db
    .select()
    .from(agentPullRequests)
    .where(and(eq(agentPullRequests.repoId, at.repoId), eq(agentPullRequests.agentHeadSha, at.headSha), eq(agentPullRequests.state, "open"), isNull(agentPullRequests.ciStoppedAt)))
    .limit(1);
  return row ?? null;
}

/** CI failed on the agent's commit `headSha`: a CI round that pushed it did not fix CI (counted whether or not another round starts). */
export async function recordCiFailure(db: Db, failure: { repoId: number; number: number; headSha: string }): Promise<void> {
  await db
    .update(agentPullRequests)
    .set({ lastCiFailureSha: failure.headSha })
    .where(and(eq(agentPullRequests.repoId, failure.repoId), eq(agentPullRequests.number, failure.number)));
}

/** `/agent cancel` on the pull request: the product stops fixing its CI by itself. */
export async function stopCiRounds(db: Db, on: { repoId: number; number: number }): Promise<boolean> {
  const rows = await db
    .update(agentPullRequests)
    .set({ ciStoppedAt: new Date() })
    .where(and(eq(agentPullRequests.repoId, on.repoId), eq(agentPullRequests.number, on.number), eq(agentPullRequests.state, "open"), isNull(agentPullRequests.ciStoppedAt)))
    .returning({ number: agentPullRequests.number });
  return rows.length > 0;
}

/** CI rounds already started on the pull request (jobs the product started by itself). */
export async function countCiRounds(db: Db, on: { repoId: number; number: number }): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(jobs).where(and(eq(jobs.repoId, on.repoId), eq(jobs.issueNumber, on.number), eq(jobs.trigger, "ci")));
  return row?.count ?? 0;
}

/** Merged or closed without merging; null when the agent did not open it. */
export async function recordPullRequestClosed(db: Db, closed: { repoId: number; number: number; merged: boolean; at: Date; by: string | null }): Promise<AgentPullRequest | null> {
  const [row] = await db
    .update(agentPullRequests)
    .set({ state: closed.merged ? "merged" : "closed", closedAt: closed.at, closedBy: closed.by })
    .where(and(eq(agentPullRequests.repoId, closed.repoId), eq(agentPullRequests.number, closed.number)))
    .returning();
  return row ?? null;
}

export async function recordPullRequestReopened(db: Db, reopened: { repoId: number; number: number }): Promise<AgentPullRequest | null> {
  const [row] = await db
    .update(agentPullRequests)
    .set({ state: "open", closedAt: null, closedBy: null })
    .where(and(eq(agentPullRequests.repoId, reopened.repoId), eq(agentPullRequests.number, reopened.number)))
    .returning();
  return row ?? null;
}

/** A push to the pull request's branch by someone other than the app, counted once per head commit; null when not counted. */
export async function recordHumanPush(db: Db, push: { repoId: number; number: number; headSha: string }): Promise<AgentPullRequest | null> {
  const [row] = await db
    .update(agentPullRequests)
    // The head is no longer the agent's commit: CI on it, or on an older commit, is no longer the agent's to fix.
    .set({ humanPushes: sql`${agentPullRequests.humanPushes} + 1`, lastHumanPushSha: push.headSha, agentHeadSha: null })
    .where(and(eq(agentPullRequests.repoId, push.repoId), eq(agentPullRequests.number, push.number), sql`${agentPullRequests.lastHumanPushSha} is distinct from ${push.headSha}`))
    .returning();
  return row ?? null;
}

/** One group of pull requests' figures: a repository's, or everyone's (`repository` null). */
export interface PullRequestFigures {
  repository: string | null;
  opened: number;
  merged: number;
  closedUnmerged: number;
  open: number;
  /** Seconds from the request to the merge, over the merged ones; null when none. */
  timeToMergeP50: number | null;
  timeToMergeP90: number | null;
  /** Model cost of every job that worked on the merged ones (the opening job, follow-ups, a run's steps), in dollars. */
  mergedCostUsd: number;
  costUsd: number;
  /** Jobs that worked on the pull requests after they were opened (follow-ups, `/agent` again on the issue). */
  followUps: number;
  humanPushes: number;
  /** Jobs the product started by itself because CI failed on the agent's commit. */
  ciRounds: number;
  /** CI rounds that pushed a fix on which CI has not failed since. */
  ciRoundsFixed: number;
}

/**
 * The agent's pull requests opened since `since` (optionally of one repository, `owner/name`,
 * case-insensitive), per repository and in all. A job counts toward a pull request when it
 * opened it, followed up on it, or is a step of the run that opened it.
 */
/** `repoIds`: only these repositories (what a signed-in person can read); null for all. */
export async function pullRequestFigures(pool: pg.Pool, filter: { since: Date; repository: string | null; repoIds?: readonly number[] | null }): Promise<PullRequestFigures[]> {
  const { rows } = await pool.query<Record<string, string | number | null>>(
    `with prs as (
       select p.*,
              (select coalesce(sum(j.total_cost), 0) from jobs j where ${JOB_ON_PULL_REQUEST}) as cost,
              (select count(*) from jobs j where ${JOB_ON_PULL_REQUEST} and j.id is distinct from p.job_id and (p.pipeline_run_id is null or j.pipeline_run_id is distinct from p.pipeline_run_id)) as follow_ups,
              (select count(*) from jobs j where ${CI_ROUND_ON_PULL_REQUEST}) as ci_rounds,
              -- A round fixed CI when it pushed a commit that CI has not failed on since: no failure recorded on it, no later round started from it.
              (select count(*) from jobs j where ${CI_ROUND_ON_PULL_REQUEST} and j.status = 'completed' and j.checkpoint->'pushed'->>'sha' is not null
                 and j.checkpoint->'pushed'->>'sha' is distinct from p.last_ci_failure_sha
                 and not exists (select 1 from jobs later where later.trigger = 'ci' and later.repo_id = p.repo_id and later.issue_number = p.number
                                   and later.follow_up->'ci'->>'headSha' = j.checkpoint->'pushed'->>'sha')) as ci_rounds_fixed
       from agent_pull_requests p
       where p.opened_at >= $1 and ($2::text is null or lower(p.repo_owner || '/' || p.repo_name) = lower($2)) and ($3::bigint[] is null or p.repo_id = any($3))
     )
     select case when grouping(repo_owner, repo_name) = 0 then repo_owner || '/' || repo_name end as repository,
            count(*) as opened,
            count(*) filter (where state = 'merged') as merged,
            count(*) filter (where state = 'closed') as closed,
            count(*) filter (where state = 'open') as open,
            percentile_cont(0.5) within group (order by extract(epoch from closed_at - requested_at)) filter (where state = 'merged') as p50,
            percentile_cont(0.9) within group (order by extract(epoch from closed_at - requested_at)) filter (where state = 'merged') as p90,
            coalesce(sum(cost) filter (where state = 'merged'), 0) as merged_cost,
            coalesce(sum(cost), 0) as cost,
            coalesce(sum(follow_ups), 0) as follow_ups,
            coalesce(sum(human_pushes), 0) as human_pushes,
            coalesce(sum(ci_rounds), 0) as ci_rounds,
            coalesce(sum(ci_rounds_fixed), 0) as ci_rounds_fixed
     from prs
     group by grouping sets ((repo_owner, repo_name), ())
     order by grouping(repo_owner, repo_name) desc, count(*) desc, 1`,
    [filter.since, filter.repository, filter.repoIds ?? null],
  );
  return rows.map((row) => ({
    repository: row.repository === null ? null : String(row.repository),
    opened: Number(row.opened),
    merged: Number(row.merged),
    closedUnmerged: Number(row.closed),
    open: Number(row.open),
    timeToMergeP50: row.p50 === null ? null : Number(row.p50),
    timeToMergeP90: row.p90 === null ? null : Number(row.p90),
    mergedCostUsd: Number(row.merged_cost),
    costUsd: Number(row.cost),
    followUps: Number(row.follow_ups),
    humanPushes: Number(row.human_pushes),
    ciRounds: Number(row.ci_rounds),
    ciRoundsFixed: Number(row.ci_rounds_fixed),
  }));
}

const JOB_ON_PULL_REQUEST = `j.repo_id = p.repo_id and (j.id = p.job_id
  or (p.pipeline_run_id is not null and j.pipeline_run_id = p.pipeline_run_id)
  or j.pr_number = p.number
  or (j.follow_up is not null and (j.follow_up->'pullRequest'->>'number')::int = p.number))`;

/** A CI round (`j`) on the pull request `p`: started by the product itself, on the pull request's thread. */
const CI_ROUND_ON_PULL_REQUEST = `j.trigger = 'ci' and j.repo_id = p.repo_id and j.issue_number = p.number`;

/** One UTC day of `dailyFigures`. */
export interface DailyFigures {
  /** YYYY-MM-DD, UTC. */
  date: string;
  completed: number;
  /** Of `completed`: delivered, but the checks still fail. */
  completedFailingChecks: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  /** Model cost of the jobs that ended that day, in US dollars. */
  cost: number;
  /** Wall time of the jobs that ended that day, from start to end, in seconds. */
  durationP50: number | null;
  durationP90: number | null;
  /** The agent's pull requests merged, and closed unmerged, that day. */
  merged: number;
  closedUnmerged: number;
}

/**
 * The last `days` UTC days up to `now`'s, oldest first, each with what ended that day: jobs
 * by outcome, their cost and durations, and the agent's pull requests decided. Every day is
 * there, empty ones too. `repoIds`: only these repositories; null for all.
 */
export async function dailyFigures(pool: pg.Pool, filter: { days: number; now: Date; repoIds: readonly number[] | null }): Promise<DailyFigures[]> {
  const { rows } = await pool.query<Record<string, string | number | null>>(
    `with days as (
       select generate_series(date_trunc('day', $1::timestamptz at time zone 'UTC') - ($2::int - 1) * interval '1 day', date_trunc('day', $1::timestamptz at time zone 'UTC'), interval '1 day') as day
     ),
     ended as (
       select date_trunc('day', finished_at at time zone 'UTC') as day, status, tests_passed, total_cost, extract(epoch from finished_at - coalesce(started_at, created_at)) as seconds
       from jobs
       where finished_at >= ($1::timestamptz - $2::int * interval '1 day') and ($3::bigint[] is null or repo_id = any($3))
     ),
     decided as (
       select date_trunc('day', closed_at at time zone 'UTC') as day, state
       from agent_pull_requests
       where closed_at >= ($1::timestamptz - $2::int * interval '1 day') and state in ('merged', 'closed') and ($3::bigint[] is null or repo_id = any($3))
     )
     select to_char(days.day, 'YYYY-MM-DD') as date,
            (select count(*) from ended e where e.day = days.day and e.status = 'completed') as completed,
            (select count(*) from ended e where e.day = days.day and e.status = 'completed' and e.tests_passed is false) as completed_failing,
            (select count(*) from ended e where e.day = days.day and e.status = 'failed') as failed,
            (select count(*) from ended e where e.day = days.day and e.status = 'cancelled') as cancelled,
            (select count(*) from ended e where e.day = days.day and e.status = 'timed_out') as timed_out,
            (select coalesce(sum(total_cost), 0) from ended e where e.day = days.day) as cost,
            (select percentile_cont(0.5) within group (order by seconds) from ended e where e.day = days.day) as p50,
            (select percentile_cont(0.9) within group (order by seconds) from ended e where e.day = days.day) as p90,
            (select count(*) from decided d where d.day = days.day and d.state = 'merged') as merged,
            (select count(*) from decided d where d.day = days.day and d.state = 'closed') as closed
     from days
     order by days.day`,
    [filter.now, filter.days, filter.repoIds],
  );
  const numberOrNull = (value: string | number | null) => (value === null ? null : Number(value));
  return rows.map((row) => ({
    date: String(row.date),
    completed: Number(row.completed),
    completedFailingChecks: Number(row.completed_failing),
    failed: Number(row.failed),
    cancelled: Number(row.cancelled),
    timedOut: Number(row.timed_out),
    cost: Number(row.cost),
    durationP50: numberOrNull(row.p50),
    durationP90: numberOrNull(row.p90),
    merged: Number(row.merged),
    closedUnmerged: Number(row.closed),
  }));
}
