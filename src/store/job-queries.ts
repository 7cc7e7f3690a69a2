import { and, desc, eq, inArray, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "./database.ts";
import { jobEvents, type JobEvent } from "./job-events.sql.ts";
import { ACTIVE_JOB_STATUSES, jobs, type Job, type NewJob } from "./jobs.sql.ts";

export async function findJob(db: Db, id: string): Promise<Job | null> {
  const [job] = await db.select().from(jobs).where(eq(jobs.id, id));
  return job ?? null;
}

export async function updateJob(db: Db, id: string, patch: Partial<NewJob>): Promise<Job> {
  const [job] = await db
    .update(jobs)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(jobs.id, id))
    .returning();
  if (!job) throw new Error(`job ${id} does not exist`);
  return job;
}

export async function findJobByCheckRun(db: Db, checkRunId: number): Promise<Job | null> {
  const [job] = await db.select().from(jobs).where(eq(jobs.checkRunId, checkRunId));
  return job ?? null;
}

/** Update a job that has not ended; null when it has (cancelled meanwhile, say). */
export async function claimJob(db: Db, id: string, patch: Partial<NewJob>): Promise<Job | null> {
  const [job] = await db
    .update(jobs)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(jobs.id, id), inArray(jobs.status, ACTIVE_JOB_STATUSES)))
    .returning();
  return job ?? null;
}

/** Rows of these repositories only (none for an empty list); no condition for null. */
export function inRepositories(column: AnyPgColumn, repoIds: readonly number[] | null | undefined): SQL | undefined {
  if (!repoIds) return undefined;
  return repoIds.length === 0 ? sql`false` : inArray(column, [...repoIds]);
}

/** Newest first; `repoIds`: only jobs of these repositories (what a signed-in person can read). */
export async function listJobs(db: Db, options: { limit: number; before?: Date; repoIds?: readonly number[] | null }): Promise<Job[]> {
  const conditions = [
    options.before ? sql`${jobs.createdAt} < ${options.before}` : undefined,
    inRepositories(jobs.repoId, options.repoIds),
  ];
  return db.select().from(jobs).where(and(...conditions)).orderBy(desc(jobs.createdAt)).limit(options.limit);
}

export async function appendJobEvent(db: Db, jobId: string, kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
  await db.insert(jobEvents).values({ jobId, kind, message, data: data ?? null });
}

export async function listJobEvents(db: Db, jobId: string, afterId = 0): Promise<JobEvent[]> {
  return db
    .select()
    .from(jobEvents)
    .where(sql`${jobEvents.jobId} = ${jobId} and ${jobEvents.id} > ${afterId}`)
    .orderBy(jobEvents.id);
}

/** The latest earlier job that worked on this pull request: the one that opened it, or a previous follow-up. */
export async function earlierJobOf(db: Db, job: Job, pullRequestNumber: number): Promise<Job | null> {
  const [earlier] = await db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.repoId, job.repoId),
        ne(jobs.id, job.id),
        lt(jobs.createdAt, job.createdAt),
        or(eq(jobs.prNumber, pullRequestNumber), and(eq(jobs.issueNumber, pullRequestNumber), eq(jobs.isPullRequest, true))),
      ),
    )
    .orderBy(desc(jobs.createdAt))
    .limit(1);
  return earlier ?? null;
}
