import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { AGENT_JOB_QUEUE, AGENT_JOB_RETRY_LIMIT, type AgentJobMessage } from "./boss.ts";

/**
 * Take agent jobs from the queue, `concurrency` at a time. `handle` owns a job's whole
 * life; an error it throws hands the job back to pg-boss, which retries with backoff.
 * `onGiveUp` runs when the last retry failed too, so the job row is never left queued.
 */
export async function startWorker(
  boss: PgBoss,
  options: {
    concurrency: number;
    /** Jobs of one installation running at once, across all workers. */
    perInstallation: number;
    handle: (jobId: string) => Promise<void>;
    onGiveUp: (jobId: string, error: unknown) => Promise<void>;
    log: Logger;
  },
): Promise<void> {
  await boss.work<AgentJobMessage>(
    AGENT_JOB_QUEUE,
    {
      localConcurrency: options.concurrency,
      groupConcurrency: options.perInstallation,
      batchSize: 1,
      pollingIntervalSeconds: 1,
      notifyPollingIntervalSeconds: 2,
    },
    async ([job]) => {
      if (!job) return;
      const { jobId } = job.data;
      try {
        await options.handle(jobId);
      } catch (error) {
        if (job.retryCount < AGENT_JOB_RETRY_LIMIT) throw error;
        // Given up: completing (not failing) the queue message matters, because a failed
        // message in a key_strict_fifo queue holds its thread's later jobs back for good.
        await options.onGiveUp(jobId, error).catch((giveUpError: unknown) => options.log.error({ err: giveUpError, jobId }, "recording the failure failed"));
      }
    },
  );
}

/**
 * The first step of a stop: this process takes no more agent jobs. The running ones go on
 * until they are handed back; `boss.stop` waits for them.
 */
export async function stopTakingJobs(boss: PgBoss): Promise<void> {
  await boss.offWork(AGENT_JOB_QUEUE, { wait: false });
}
