import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";

export const REDELIVER_QUEUE = "redeliver-failed-webhooks";
export const RELEASE_QUEUE = "release-abandoned-jobs";

/**
 * Every five minutes, one web process asks GitHub to redeliver webhook deliveries that
 * failed while the app was down or erroring: GitHub does not retry them on its own.
 */
export function scheduleRedelivery(boss: PgBoss, redeliver: () => Promise<unknown>, log: Logger): Promise<void> {
  return scheduleCron(boss, { queue: REDELIVER_QUEUE, cron: "*/5 * * * *", what: "redelivering failed webhook deliveries" }, redeliver, log);
}

/** Every minute, one web process ends the jobs pg-boss gave up on (see releaseAbandonedJobs). */
export function scheduleRelease(boss: PgBoss, release: () => Promise<unknown>, log: Logger): Promise<void> {
  return scheduleCron(boss, { queue: RELEASE_QUEUE, cron: "* * * * *", what: "releasing abandoned jobs" }, release, log);
}

/** pg-boss's cron runs each occurrence once across all processes; a failed run waits for the next. */
async function scheduleCron(boss: PgBoss, schedule: { queue: string; cron: string; what: string }, work: () => Promise<unknown>, log: Logger): Promise<void> {
  await boss.createQueue(schedule.queue, { retryLimit: 0, expireInSeconds: 120 });
  await boss.schedule(schedule.queue, schedule.cron);
  await boss.work(schedule.queue, async () => {
    await work().catch((error: unknown) => log.warn({ err: error }, `${schedule.what} failed`));
  });
}
