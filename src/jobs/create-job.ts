import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, or, sql } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import { agentBranchName, agentTaskBranchName } from "./branch-name.ts";
import { enqueueAgentJob } from "../queue/boss.ts";
import type { Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs, NO_ISSUE, type Job, type JobMessage } from "../store/jobs.sql.ts";
import { withTransaction } from "../store/transaction.ts";
import { webhookDeliveries } from "../store/webhook-deliveries.sql.ts";
import type { JobRequest } from "./job-request.ts";

export type CreateJobResult =
  | { created: true; job: Job }
  | { created: false; reason: "duplicate_delivery" }
  /** Handed to the thread's running job as a message: `job` is that job, as it is with the message. */
  | { created: false; reason: "message"; job: Job; message: JobMessage };

export type DeliveryClaim = { id: string; event: string; action: string | null; triggerKey?: string | null };

/**
 * The delivery row, the job row and the queue message in ONE transaction: either all
 * three exist or none does. A second delivery with the same id, or with the same trigger
 * (a signed body replayed under a new id), waits on the first's row lock, then finds the
 * conflict and creates nothing.
 */
export async function createJob(pool: pg.Pool, boss: PgBoss, request: JobRequest): Promise<CreateJobResult> {
  return withTransaction(pool, async (tx, client) => {
    const running = await runningJobToMessage(tx, request);
    if (request.delivery !== null) {
      const claimed = await claimDelivery(tx, request.delivery, running ? "job_message" : "job_created");
      if (!claimed) return { created: false, reason: "duplicate_delivery" } as const;
    }
    if (running) {
      const { delivery: _delivery, ...kept } = request;
      const message: JobMessage = { id: randomUUID(), author: request.requester.login, commentId: request.triggerCommentId, body: request.task, receivedAt: new Date().toISOString(), outcome: null, request: kept };
      const [job] = await tx
        .update(jobs)
        .set({ messages: sql`${jobs.messages} || ${JSON.stringify([message])}::jsonb`, updatedAt: new Date() })
        .where(eq(jobs.id, running.id))
        .returning();
      if (!job) throw new Error(`job ${running.id} vanished while taking a message`);
      if (request.delivery !== null) await client.query("update webhook_deliveries set job_id = $1 where delivery_id = $2", [job.id, request.delivery.id]);
      return { created: false, reason: "message", job, message } as const;
    }
    return { created: true, job: await insertJob(tx, client, boss, request) } as const;
  });
}

/**
 * `/agent <more>` on a thread whose job is running, before its delivery: the job's agent
 * takes it at its next step (src/jobs/job-messages.ts). Only a comment's plain words are a
 * message: a review's lines, a label, a CI round or an API call start work of their own. A
 * job queued behind the running one keeps the thread's order (the new request queues too);
 * a job being cancelled, or a pipeline's step, takes no messages. The row is locked: the
 * worker moving the job on to its delivery waits for this transaction, and then hands the
 * message on as a job of its own.
 */
async function runningJobToMessage(tx: Db, request: JobRequest): Promise<Job | null> {
  if (request.trigger !== "comment") return null;
  const [newest] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.repoId, request.repo.id), eq(jobs.issueNumber, request.issue.number), inArray(jobs.status, ACTIVE_JOB_STATUSES)))
    .orderBy(desc(jobs.createdAt))
    .limit(1)
    .for("update");
  if (!newest || newest.status !== "running" || newest.pipelineRunId !== null || newest.cancelRequestedAt !== null) return null;
  return newest.phase === "deliver" || newest.messages.length >= MAX_MESSAGES_PER_JOB ? null : newest;
}

/** Messages one job takes; more queue as jobs of their own (each message keeps its whole request on the job's row). */
export const MAX_MESSAGES_PER_JOB = 20;

/** The job row and its queue message, inside the caller's transaction (its delivery already claimed). */
export async function insertJob(tx: Db, client: pg.PoolClient, boss: PgBoss, request: JobRequest): Promise<Job> {
  const id = randomUUID();
  const [job] = await tx
    .insert(jobs)
    .values({
      id,
      installationId: request.installationId,
      repoId: request.repo.id,
      repoOwner: request.repo.owner,
      repoName: request.repo.name,
      cloneUrl: request.repo.cloneUrl,
      defaultBranch: request.repo.defaultBranch,
      issueNumber: request.issue.number,
      issueTitle: request.issue.title,
      isPullRequest: request.issue.isPullRequest,
      trigger: request.trigger,
      task: request.task,
      requesterLogin: request.requester.login,
      requesterId: request.requester.id,
      deliveryId: request.delivery?.id ?? null,
      triggerCommentId: request.triggerCommentId,
      branch: request.followUp?.pullRequest.headRef ?? (request.issue.number === NO_ISSUE ? agentTaskBranchName(id, request.task) : agentBranchName(request.issue.number, request.issue.title)),
      followUp: request.followUp ?? null,
      // A fork's branch is not in this repository: its head is known from the pull request.
      ...(request.followUp?.fork ? { baseSha: request.followUp.fork.headSha } : {}),
    })
    .returning();
  if (!job) throw new Error("insert into jobs returned no row");
  if (request.delivery !== null) {
    await client.query("update webhook_deliveries set job_id = $1 where delivery_id = $2", [job.id, request.delivery.id]);
  }
  await enqueueAgentJob(boss, client, { jobId: job.id }, job);
  return job;
}

/**
 * Record a delivery's outcome; false when the delivery was already recorded (a
 * redelivery), or another delivery carried the same trigger (a replay). The conflict
 * clause names no target on purpose: either unique key refuses the row.
 */
export async function claimDelivery(tx: Db, delivery: DeliveryClaim, outcome: string): Promise<boolean> {
  const rows = await tx
    .insert(webhookDeliveries)
    .values({ deliveryId: delivery.id, event: delivery.event, action: delivery.action, outcome, triggerKey: delivery.triggerKey ?? null })
    .onConflictDoNothing()
    .returning({ deliveryId: webhookDeliveries.deliveryId });
  return rows.length > 0;
}

/** Whether the delivery, or another with its trigger, was already recorded: for work that must be skipped before its claim. */
export async function isDeliveryClaimed(db: Db, delivery: DeliveryClaim): Promise<boolean> {
  const key = delivery.triggerKey ?? null;
  const rows = await db
    .select({ deliveryId: webhookDeliveries.deliveryId })
    .from(webhookDeliveries)
    .where(key === null ? eq(webhookDeliveries.deliveryId, delivery.id) : or(eq(webhookDeliveries.deliveryId, delivery.id), eq(webhookDeliveries.triggerKey, key)))
    .limit(1);
  return rows.length > 0;
}
