import { and, eq, inArray } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import type { Database } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs, type Job } from "../store/jobs.sql.ts";
import { AGENT_JOB_QUEUE } from "./boss.ts";

const GAVE_UP = "the job's worker stopped responding on every attempt (it crashed or its machine was lost)";

/**
 * Queue messages pg-boss gave up on by itself: the worker died on the last attempt, so no
 * handler was left to complete them. In a key_strict_fifo queue such a message holds its
 * thread's later jobs back for good, and its job row still says running. End the job,
 * delete the message, and return the jobs ended so the caller can tell GitHub.
 */
export async function releaseAbandonedJobs(database: Database, boss: PgBoss, now = new Date()): Promise<Job[]> {
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
