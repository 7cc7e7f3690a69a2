import { and, inArray, isNotNull } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "../store/database.ts";
import { jobs } from "../store/jobs.sql.ts";

/** The reason a cancelled job's signal carries. */
export class CancelRequested extends Error {
  override name = "CancelRequested";
  readonly by: string;

  constructor(by: string) {
    super(`cancelled by ${by}`);
    this.by = by;
  }
}

export interface CancelWatch {
  /** A signal that aborts (with a CancelRequested reason) once someone asks to cancel the job. */
  watch(jobId: string): AbortSignal;
  unwatch(jobId: string): void;
  stop(): void;
}

/**
 * Notices `/agent cancel` for the jobs this worker runs. A cancel is written to the job's
 * row by whichever web process got the command, so the worker asks the database: one
 * indexed query per interval, and only while it has jobs running.
 */
export function createCancelWatch(db: Db, options: { intervalMs?: number; log: Logger }): CancelWatch {
  const intervalMs = options.intervalMs ?? 1_000;
  const watched = new Map<string, AbortController>();
  let timer: NodeJS.Timeout | null = null;
  let polling = false;

  async function poll(): Promise<void> {
    if (polling || watched.size === 0) return;
    polling = true;
    try {
      const rows = await db
        .select({ id: jobs.id, by: jobs.cancelRequestedBy })
        .from(jobs)
        .where(and(inArray(jobs.id, [...watched.keys()]), isNotNull(jobs.cancelRequestedAt)));
      for (const row of rows) watched.get(row.id)?.abort(new CancelRequested(row.by ?? "someone"));
    } catch (error) {
      options.log.warn({ err: error }, "checking for cancelled jobs failed");
    } finally {
      polling = false;
    }
  }

  function schedule(): void {
    if (timer || watched.size === 0) return;
    timer = setInterval(() => void poll(), intervalMs);
    timer.unref();
  }

  return {
    watch(jobId) {
      const controller = watched.get(jobId) ?? new AbortController();
      watched.set(jobId, controller);
      schedule();
      return controller.signal;
    },
    unwatch(jobId) {
      watched.delete(jobId);
      if (watched.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    },
    stop() {
      watched.clear();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
