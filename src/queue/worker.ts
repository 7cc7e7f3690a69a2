import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { AGENT_JOB_QUEUE, AGENT_JOB_RETRY_LIMIT, BOSS_SCHEMA, type AgentJobMessage } from "./boss.ts";

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
        await waitForInstallationTurn(boss, { id: job.id, groupId: job.groupId ?? null, signal: job.signal }, options.perInstallation);
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
 * pg-boss checks `groupConcurrency` inside its fetch, without a lock: two fetches at the
 * same moment (a worker's two slots at start, two workers) both see room and both take a
 * job of the same installation (bench:load saw two of one installation running under a cap
 * of one). So the cap is kept here too: a job runs only once it is among the first `cap`
 * active jobs of its installation, oldest start first; one taken past the cap waits (it
 * holds its queue slot, so pg-boss hands out no more of that installation meanwhile) until
 * an earlier one ends. The order is total, so exactly `cap` of them go on.
 */
export async function waitForInstallationTurn(boss: PgBoss, job: { id: string; groupId: string | null; signal?: AbortSignal }, cap: number, pollMs = 1_000): Promise<void> {
  if (job.groupId === null) return;
  for (;;) {
    const { rows } = await boss.getDb().executeSql(
      `select id from ${BOSS_SCHEMA}.job where name = $1 and state = 'active' and group_id = $2 order by started_on, id limit $3`,
      [AGENT_JOB_QUEUE, job.groupId, cap],
    );
    if (rows.some((row: { id: string }) => row.id === job.id) || job.signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * The first step of a stop: this process takes no more agent jobs. The running ones go on
 * until they are handed back; `boss.stop` waits for them.
 */
export async function stopTakingJobs(boss: PgBoss): Promise<void> {
  await boss.offWork(AGENT_JOB_QUEUE, { wait: false });
}
