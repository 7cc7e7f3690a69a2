import { and, eq, gt, inArray, or } from "drizzle-orm";
import type { Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs } from "../store/jobs.sql.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { earlierJobOf } from "../store/job-queries.ts";
import type { JobRun } from "./job-run.ts";

/**
 * A job that leaves a pull request behind parks its sandbox (the workspace with its
 * installed dependencies, and the agent's sessions in its HOME) for a while, so that a
 * follow-up on that pull request continues the same agent session instead of starting
 * over. Only the provider that can resume parks (the local one; E2B pauses are to come).
 */
export function shouldPark(run: JobRun, stopping: AbortSignal): boolean {
  const job = run.job;
  return run.deps.settings.keepWorkspaceHours > 0 && job.status === "completed" && job.prNumber !== null && !stopping.aborted && !job.followUp?.fork;
}

/**
 * The sandbox the earlier job on this pull request parked, taken (once: two follow-ups
 * never share one), with the build session to continue. Null when there is none.
 */
export async function claimParkedSandbox(run: JobRun): Promise<{ sandboxId: string; sessionId: string | null } | null> {
  const followUp = run.job.followUp;
  if (!followUp || followUp.fork) return null;
  const earlier = await earlierJobOf(run.deps.db, run.job, followUp.pullRequest.number);
  if (!earlier?.parkedSandboxId) return null;
  const claimed = await run.deps.db
    .update(jobs)
    .set({ parkedSandboxId: null, updatedAt: new Date() })
    .where(and(eq(jobs.id, earlier.id), eq(jobs.parkedSandboxId, earlier.parkedSandboxId)))
    .returning({ id: jobs.id });
  if (claimed.length === 0) return null;
  return { sandboxId: earlier.parkedSandboxId, sessionId: readCheckpoint(earlier).build?.sessionId ?? null };
}

/**
 * Which of these sandboxes a job still holds: one that runs in it (a resumed sandbox), or
 * one that finished less than `hours` ago and offers it for a follow-up. Reapers keep those.
 */
export async function sandboxesHeld(db: Db, ids: string[], hours: number, now = new Date()): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const since = new Date(now.getTime() - hours * 3_600_000);
  const rows = await db
    .select({ id: jobs.parkedSandboxId })
    .from(jobs)
    .where(and(inArray(jobs.parkedSandboxId, ids), or(inArray(jobs.status, ACTIVE_JOB_STATUSES), hours > 0 ? gt(jobs.finishedAt, since) : undefined)));
  return new Set(rows.map((row) => row.id).filter((id): id is string => id !== null));
}
