import { and, eq, inArray, lt, or } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import type { Database, Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs, type Job } from "../store/jobs.sql.ts";
import { AGENT_JOB_QUEUE } from "./boss.ts";

const GAVE_UP = "the job's worker stopped responding on every attempt (it crashed or its machine was lost)";

/** How often `running-agent` marks the jobs it runs as alive: it writes their `updated_at`. */
export const LOCAL_JOB_HEARTBEAT_MS = 10_000;
/**
 * A local job not marked alive for this long has lost its process: six heartbeats missed,
 * far beyond a busy machine's timer delays. The sweeping process compares the mark with
 * its own clock: machines sharing a database must keep their clocks within this of each other.
 */
export const LOCAL_JOB_LAPSE_MS = 60_000;
const LOCAL_PROCESS_GONE = "cancelled: the running-agent process running it stopped (it was killed, crashed, or its machine went away) before it could end the job";
const LOCAL_SWEEPER = "Running Agent, as the process running it was gone";

/**
 * Queue messages pg-boss gave up on by itself: the worker died on the last attempt, so no
 * handler was left to complete them. In a key_strict_fifo queue such a message holds its
 * thread's later jobs back for good, and its job row still says running. End the job,
 * delete the message, and return the jobs ended so the caller can tell GitHub. Local jobs
 * whose process is gone are ended too (`releaseAbandonedLocalJobs`), but not returned:
 * they have no GitHub to tell.
 */
export async function releaseAbandonedJobs(database: Database, boss: PgBoss, now = new Date()): Promise<Job[]> {
  await releaseAbandonedLocalJobs(database.db, { now });
  const { rows } = await database.pool.query<{ id: string; job_id: string }>("select id, data->>'jobId' as job_id from pgboss.job where name = $1 and state = 'failed'", [
    AGENT_JOB_QUEUE,
  ]);
  const ended: Job[] = [];
  for (const row of rows) {
    const updated = await database.db
      .update(jobs)
      .set({ status: "failed", failureKind: "internal", failureMessage: GAVE_UP, finishedAt: now, updatedAt: now })
      .where(and(eq(jobs.id, row.job_id), inArray(jobs.status, ACTIVE_JOB_STATUSES)))
      .returning();
    await boss.deleteJob(AGENT_JOB_QUEUE, row.id);
    ended.push(...updated);
  }
  return ended;
}

/**
 * Local jobs (`running-agent run`) whose process is gone, which nothing else would ever end:
 * they have no queue message for pg-boss to give up on. Their sign of life is the
 * heartbeat the process writes into `updated_at`; a job whose heartbeat lapsed, or one of
 * `gone` (the caller saw that its process no longer exists), is cancelled.
 * `cancel_requested_at` is set as well: a process that was only asleep (a suspended
 * laptop) sees it when it wakes, and stops instead of carrying on with an ended job.
 */
export async function releaseAbandonedLocalJobs(db: Db, options: { now?: Date; gone?: readonly string[] } = {}): Promise<Job[]> {
  const now = options.now ?? new Date();
  const lapsed = lt(jobs.updatedAt, new Date(now.getTime() - LOCAL_JOB_LAPSE_MS));
  return db
    .update(jobs)
    .set({ status: "cancelled", failureKind: "cancelled", failureMessage: LOCAL_PROCESS_GONE, cancelRequestedAt: now, cancelRequestedBy: LOCAL_SWEEPER, finishedAt: now, updatedAt: now })
    .where(and(eq(jobs.trigger, "local"), inArray(jobs.status, ACTIVE_JOB_STATUSES), options.gone?.length ? or(lapsed, inArray(jobs.id, [...options.gone])) : lapsed))
    .returning();
}
