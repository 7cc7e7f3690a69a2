import { eq, or } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import { agentBranchName } from "./branch-name.ts";
import { enqueueAgentJob } from "../queue/boss.ts";
import type { Db } from "../store/database.ts";
import { jobs, type Job } from "../store/jobs.sql.ts";
import { withTransaction } from "../store/transaction.ts";
import { webhookDeliveries } from "../store/webhook-deliveries.sql.ts";
import type { JobRequest } from "./job-request.ts";

export type CreateJobResult = { created: true; job: Job } | { created: false; reason: "duplicate_delivery" };

export type DeliveryClaim = { id: string; event: string; action: string | null; triggerKey?: string | null };

/**
 * The delivery row, the job row and the queue message in ONE transaction: either all
 * three exist or none does. A second delivery with the same id, or with the same trigger
 * (a signed body replayed under a new id), waits on the first's row lock, then finds the
 * conflict and creates nothing.
 */
export async function createJob(pool: pg.Pool, boss: PgBoss, request: JobRequest): Promise<CreateJobResult> {
  return withTransaction(pool, async (tx, client) => {
    if (request.delivery !== null) {
      const claimed = await claimDelivery(tx, request.delivery, "job_created");
      if (!claimed) return { created: false, reason: "duplicate_delivery" } as const;
    }
    const [job] = await tx
      .insert(jobs)
      .values({
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
        branch: request.followUp?.pullRequest.headRef ?? agentBranchName(request.issue.number, request.issue.title),
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
    return { created: true, job } as const;
  });
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
