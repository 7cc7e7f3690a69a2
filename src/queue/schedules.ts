import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";

export const REDELIVER_QUEUE = "redeliver-failed-webhooks";

/**
 * Every five minutes, one web process (pg-boss's cron runs each occurrence once across
 * all processes) asks GitHub to redeliver webhook deliveries that failed while the app
 * was down or erroring: GitHub does not retry them on its own.
 */
export async function scheduleRedelivery(boss: PgBoss, redeliver: () => Promise<unknown>, log: Logger): Promise<void> {
  await boss.createQueue(REDELIVER_QUEUE, { retryLimit: 0, expireInSeconds: 120 });
  await boss.schedule(REDELIVER_QUEUE, "*/5 * * * *");
  await boss.work(REDELIVER_QUEUE, async () => {
    await redeliver().catch((error: unknown) => log.warn({ err: error }, "redelivering failed webhook deliveries failed"));
  });
}

export const RELEASE_QUEUE = "release-abandoned-jobs";

/** Every minute, one web process ends the jobs pg-boss gave up on (see releaseAbandonedJobs). */
export async function scheduleRelease(boss: PgBoss, release: () => Promise<unknown>, log: Logger): Promise<void> {
  await boss.createQueue(RELEASE_QUEUE, { retryLimit: 0, expireInSeconds: 120 });
  await boss.schedule(RELEASE_QUEUE, "* * * * *");
  await boss.work(RELEASE_QUEUE, async () => {
    await release().catch((error: unknown) => log.warn({ err: error }, "releasing abandoned jobs failed"));
  });
}
