/**
 * Messages written on a job's thread while it runs (`/agent <more>`, recorded on the job by
 * `createJob`), taken by the worker: read by the build agent at its next step, or, once the
 * agent can take no more, started as jobs of their own (dropped with a cancelled job).
 * Every change is made under the job row's lock, the lock the webhook takes to add one, so
 * each message is handled once and none falls between the two.
 */
import { eq, sql } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import { jobs, type Job, type JobMessage } from "../store/jobs.sql.ts";
import { withTransaction } from "../store/transaction.ts";
import type { Db } from "../store/database.ts";
import { insertJob } from "./create-job.ts";

/** The job's waiting messages, now marked as read by its agent; none when nothing waits (one cheap read, no lock). */
export async function takeMessages(pool: pg.Pool, db: Db, jobId: string, now = new Date()): Promise<{ job: Job; taken: JobMessage[] } | null> {
  if (!(await hasWaitingMessages(db, jobId))) return null;
  return withTransaction(pool, async (tx) => {
    const job = await lockJob(tx, jobId);
    const taken = job.messages.filter((message) => message.outcome === null);
    if (taken.length === 0) return null;
    const messages = job.messages.map((message): JobMessage => (message.outcome === null ? { ...message, outcome: "delivered", handledAt: now.toISOString() } : message));
    return { job: await saveMessages(tx, jobId, messages), taken };
  });
}

/** Whether a message waits for the job's agent. */
export async function hasWaitingMessages(db: Db, jobId: string): Promise<boolean> {
  const rows = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(sql`${jobs.id} = ${jobId} and ${jobs.messages} @> '[{"outcome": null}]'::jsonb`);
  return rows.length > 0;
}

/**
 * The agent takes no more messages (the job delivers its work, or ended): each waiting one
 * becomes the job it would have been, queued behind this one on the thread, or is dropped
 * when the job was cancelled (as `/agent cancel` cancels the thread's queued jobs). Null
 * when nothing waited.
 */
export async function handOnMessages(pool: pg.Pool, boss: PgBoss, jobId: string, options: { drop: boolean }, now = new Date()): Promise<Job | null> {
  return withTransaction(pool, async (tx, client) => {
    const job = await lockJob(tx, jobId);
    if (!job.messages.some((message) => message.outcome === null)) return null;
    const messages: JobMessage[] = [];
    for (const message of job.messages) {
      if (message.outcome !== null) messages.push(message);
      else if (options.drop) messages.push({ ...message, outcome: "dropped", handledAt: now.toISOString() });
      else {
        const followUp = await insertJob(tx, client, boss, { ...message.request, delivery: null });
        messages.push({ ...message, outcome: "follow_up", handledAt: now.toISOString(), followUpJobId: followUp.id });
      }
    }
    return saveMessages(tx, jobId, messages);
  });
}

/** A job that ended without its worker (given up, or its worker lost): its waiting messages run as jobs of their own. The job as it is after. */
export async function handOnMessagesOfEnded(pool: pg.Pool, boss: PgBoss, job: Job): Promise<Job> {
  return (await handOnMessages(pool, boss, job.id, { drop: job.status === "cancelled" })) ?? job;
}

async function lockJob(tx: Db, jobId: string): Promise<Job> {
  const [job] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).for("update");
  if (!job) throw new Error(`job ${jobId} does not exist`);
  return job;
}

async function saveMessages(tx: Db, jobId: string, messages: JobMessage[]): Promise<Job> {
  const [job] = await tx.update(jobs).set({ messages, updatedAt: new Date() }).where(eq(jobs.id, jobId)).returning();
  if (!job) throw new Error(`job ${jobId} does not exist`);
  return job;
}
