import type { PgBoss } from "pg-boss";
import type pg from "pg";
import { and, desc, eq } from "drizzle-orm";
import { enqueueAgentJob } from "../queue/boss.ts";
import { hasEnded, jobs, type Job } from "../store/jobs.sql.ts";
import type { Db } from "../store/database.ts";
import { withTransaction } from "../store/transaction.ts";
import { claimDelivery } from "./create-job.ts";
import type { JobRequest } from "./job-request.ts";

/** An issue or pull request: where `/agent cancel` and `/agent retry` act. */
export interface Thread {
  repoId: number;
  issueNumber: number;
}

export interface CancelOutcome {
  /** Queued jobs, now cancelled: nothing runs them any more. */
  cancelled: Job[];
  /** Running jobs, asked to stop: their worker ends them as cancelled within seconds. */
  stopping: Job[];
}

/**
 * Cancel every targeted job that has not ended (null: the delivery was handled before).
 * `by` is how the comment names who asked: "@octocat", "an API client". A queued job is cancelled here and
 * now (the worker that later takes its queue message finds it ended and drops it); a
 * running one is marked, and its worker, which polls for the mark, aborts the agent.
 */
export async function cancelJobs(pool: pg.Pool, target: JobTarget, by: string, delivery: JobRequest["delivery"], now = new Date()): Promise<CancelOutcome | null> {
  const ofThread = whereOf(target);
  return withTransaction(pool, async (tx) => {
    if (delivery !== null && !(await claimDelivery(tx, delivery, "cancel"))) return null;
    const cancelled = await tx
      .update(jobs)
      .set({
        status: "cancelled",
        failureKind: "cancelled",
        failureMessage: `cancelled by ${by} before it started`,
        cancelRequestedAt: now,
        cancelRequestedBy: by,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(ofThread, eq(jobs.status, "queued")))
      .returning();
    // Asked again while a job is still stopping: still an answer of "stopping", not "nothing to cancel".
    const stopping = await tx
      .update(jobs)
      .set({ cancelRequestedAt: now, cancelRequestedBy: by, updatedAt: now })
      .where(and(ofThread, eq(jobs.status, "running")))
      .returning();
    return { cancelled, stopping };
  });
}

export type RetryOutcome =
  | { kind: "retried"; job: Job }
  | { kind: "not_ended"; job: Job }
  | { kind: "completed"; job: Job }
  | { kind: "pipeline_step"; job: Job }
  | { kind: "none" }
  | { kind: "duplicate_delivery" };

/** A thread's jobs, or one job by its id or its check run. */
export type JobTarget = { thread: Thread } | { jobId: string } | { checkRunId: number };

function whereOf(target: JobTarget) {
  if ("thread" in target) return and(eq(jobs.repoId, target.thread.repoId), eq(jobs.issueNumber, target.thread.issueNumber));
  if ("jobId" in target) return eq(jobs.id, target.jobId);
  return eq(jobs.checkRunId, target.checkRunId);
}

/**
 * Reopens a pipeline run at a step whose job is retried, inside the retry's transaction;
 * false while the run is still going. Pipelines are built on jobs, so the retry is handed
 * this (`reopenStep` of src/pipelines/advance-run.ts) rather than importing it.
 */
export type StepReopener = (tx: Db, runId: string, stepName: string, jobId: string) => Promise<boolean>;

/**
 * Run a failed, timed-out or cancelled job again, from its checkpoint: phases it finished
 * are not repeated. It gets a fresh clock and a fresh budget (it is a new request by
 * someone with write access), keeps its progress comment, and gets a new check run.
 * The delivery, the job row and the queue message change in one transaction.
 */
export async function retryJob(pool: pg.Pool, boss: PgBoss, target: JobTarget, delivery: JobRequest["delivery"], reopenStep: StepReopener): Promise<RetryOutcome> {
  return withTransaction(pool, async (tx, client) => {
    if (delivery !== null && !(await claimDelivery(tx, delivery, "retry"))) return { kind: "duplicate_delivery" } as const;
    const [last] = await tx.select().from(jobs).where(whereOf(target)).orderBy(desc(jobs.createdAt)).limit(1).for("update");
    if (!last) return { kind: "none" } as const;
    if (last.status === "completed") return { kind: "completed", job: last } as const;
    if (!hasEnded(last.status)) return { kind: "not_ended", job: last } as const;
    // A pipeline step runs again only as its run's: the run reopens at this step, once it has ended.
    if (last.pipelineRunId !== null && !(await reopenStep(tx, last.pipelineRunId, last.pipelineStep ?? "", last.id))) return { kind: "pipeline_step", job: last } as const;
    const [job] = await tx
      .update(jobs)
      .set({
        status: "queued",
        phase: null,
        attempts: 0,
        startedAt: null,
        finishedAt: null,
        failureKind: null,
        failureMessage: null,
        cancelRequestedAt: null,
        cancelRequestedBy: null,
        // A new check run, made afresh: the old one (the same job's id) is not an earlier attempt at it.
        checkRunId: null,
        announceStartedAt: null,
        // GitHub no longer shows how it ended: its next end is to be shown afresh (the sweep looks for this).
        shownStatus: null,
        costBaseline: last.totalCost,
        updatedAt: new Date(),
      })
      .where(eq(jobs.id, last.id))
      .returning();
    if (!job) throw new Error(`job ${last.id} vanished during its retry`);
    await enqueueAgentJob(boss, client, { jobId: job.id }, job);
    return { kind: "retried", job } as const;
  });
}
