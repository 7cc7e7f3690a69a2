import type pg from "pg";
import { dailyFigures, pullRequestFigures, type PullRequestFigures } from "../store/pull-request-queries.ts";
import { readableRepoIds } from "./caller.ts";
import { BadRequest, parseDateTime, REPOSITORY, type Route, sendJson } from "./http.ts";

/** Without `since`, the last 30 days. */
const DEFAULT_WINDOW_MS = 30 * 24 * 3_600_000;
const SINCE_RULE = "since must be an ISO 8601 date or date-time with a time zone, such as 2026-01-31 or 2026-01-31T12:00:00Z (write a + in an offset as %2B)";
const REPOSITORY_RULE = "repository must be owner/name";

/**
 * `GET /api/stats?since=…&repository=owner/name`: what became of the agent's pull requests
 * opened since then, in all and per repository. The merge rate is merged over decided
 * (merged or closed unmerged): a pull request still open has not been judged yet.
 */
export function registerStatsRoute(route: Route, deps: { pool: pg.Pool; now?: () => Date }): void {
  route(
    "GET",
    "/api/stats",
    async (_req, res, _params, url, caller) => {
      const now = deps.now?.() ?? new Date();
      const since = readSince(url.searchParams.get("since"), now);
      const repository = url.searchParams.get("repository");
      if (repository !== null && !REPOSITORY.test(repository)) throw new BadRequest(400, REPOSITORY_RULE);
      const figures = await pullRequestFigures(deps.pool, { since, repository, repoIds: await readableRepoIds(caller) });
      const overall = figures.find((row) => row.repository === null)!;
      sendJson(res, 200, {
        since: since.toISOString(),
        repository,
        pull_requests: figuresToJson(overall),
        repositories: figures.filter((row) => row.repository !== null).map((row) => ({ repository: row.repository, pull_requests: figuresToJson(row) })),
      });
    },
    { people: true },
  );
}

const DAYS_RULE = "days must be an integer from 1 to 365";

/**
 * `GET /api/stats/daily?days=30`: each of the last `days` UTC days (today included, oldest
 * first): the jobs that ended by outcome, their cost and durations, and the agent's pull
 * requests merged and closed unmerged. Where a signed-in person asks, their repositories only.
 */
export function registerDailyStatsRoute(route: Route, deps: { pool: pg.Pool; now?: () => Date }): void {
  route(
    "GET",
    "/api/stats/daily",
    async (_req, res, _params, url, caller) => {
      const text = url.searchParams.get("days") ?? "30";
      const days = /^\d{1,3}$/.test(text) ? Number(text) : 0;
      if (days < 1 || days > 365) throw new BadRequest(400, DAYS_RULE);
      const figures = await dailyFigures(deps.pool, { days, now: deps.now?.() ?? new Date(), repoIds: await readableRepoIds(caller) });
      sendJson(res, 200, {
        days: figures.map((day) => ({
          date: day.date,
          completed: day.completed,
          completed_failing_checks: day.completedFailingChecks,
          failed: day.failed,
          cancelled: day.cancelled,
          timed_out: day.timedOut,
          cost: round(day.cost, 6),
          duration_p50_s: secondsOrNull(day.durationP50),
          duration_p90_s: secondsOrNull(day.durationP90),
          merged: day.merged,
          closed_unmerged: day.closedUnmerged,
          merge_rate: mergeRateOf({ merged: day.merged, closedUnmerged: day.closedUnmerged }),
        })),
      });
    },
    { people: true },
  );
}

function readSince(text: string | null, now: Date): Date {
  if (text === null) return new Date(now.getTime() - DEFAULT_WINDOW_MS);
  const since = parseDateTime(text);
  if (since === null) throw new BadRequest(400, SINCE_RULE);
  return since;
}

export function mergeRateOf(figures: Pick<PullRequestFigures, "merged" | "closedUnmerged">): number | null {
  const decided = figures.merged + figures.closedUnmerged;
  return decided === 0 ? null : round(figures.merged / decided, 4);
}

function figuresToJson(figures: PullRequestFigures) {
  return {
    opened: figures.opened,
    merged: figures.merged,
    closed_unmerged: figures.closedUnmerged,
    open: figures.open,
    merge_rate: mergeRateOf(figures),
    time_to_merge_seconds: { p50: secondsOrNull(figures.timeToMergeP50), p90: secondsOrNull(figures.timeToMergeP90) },
    cost_per_merged_pull_request: figures.merged === 0 ? null : round(figures.mergedCostUsd / figures.merged, 6),
    total_cost: round(figures.costUsd, 6),
    follow_ups: figures.followUps,
    human_pushes: figures.humanPushes,
    ci_rounds: figures.ciRounds,
    ci_rounds_fixed: figures.ciRoundsFixed,
    ci_fix_rate: figures.ciRounds === 0 ? null : round(figures.ciRoundsFixed / figures.ciRounds, 4),
  };
}

function secondsOrNull(value: number | null): number | null {
  return value === null ? null : round(value, 3);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
