import { and, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import { LOCAL_JOB_HEARTBEAT_MS } from "../queue/release-abandoned.ts";
import type { Db } from "../store/database.ts";
import { ACTIVE_JOB_STATUSES, jobs } from "../store/jobs.sql.ts";

export interface Heartbeat {
  add(jobId: string): void;
  remove(jobId: string): void;
  stop(): void;
}

/**
 * Marks the local jobs this process runs as alive (their `updated_at`) every
 * `LOCAL_JOB_HEARTBEAT_MS`, from creation to end, retries included: a web or worker
 * process sharing the database ends a local job whose marks stop
 * (`releaseAbandonedLocalJobs`), which is how a job whose machine went away ends. One
 * statement per beat for all of the engine's jobs (an eval runs several at once).
 */
export function startHeartbeat(db: Db, options: { intervalMs?: number; log: Logger }): Heartbeat {
  const running = new Set<string>();
  let beating = false;
  const beat = async () => {
    if (beating || running.size === 0) return;
    beating = true;
    try {
      await db
        .update(jobs)
        .set({ updatedAt: new Date() })
        .where(and(inArray(jobs.id, [...running]), inArray(jobs.status, ACTIVE_JOB_STATUSES)));
    } catch (error) {
      // One missed beat is nothing: the lapse is several beats long.
      options.log.warn({ err: error }, "marking the local jobs alive failed");
    } finally {
      beating = false;
    }
  };
  const timer = setInterval(() => void beat(), options.intervalMs ?? LOCAL_JOB_HEARTBEAT_MS);
  timer.unref();
  return {
    add: (jobId) => void running.add(jobId),
    remove: (jobId) => void running.delete(jobId),
    stop() {
      running.clear();
      clearInterval(timer);
    },
  };
}
