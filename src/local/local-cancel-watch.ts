import { CancelRequested, type CancelWatch } from "../jobs/cancel-watch.ts";

const INTERRUPTED_BY = "you (interrupted)";

/**
 * What cancels a local job: Ctrl-C (the command's `interrupt`), or a cancel written to its
 * row by anyone sharing the database (`POST /api/jobs/:id/cancel` from a web process, the
 * sweep that found the job's process gone), which `database` polls for as a worker does.
 * Either way the job ends as cancelled: its sandbox is removed and nothing is pushed.
 * `database` is the engine's, shared by its runs: `stop` leaves it running.
 */
export function localCancelWatch(database: CancelWatch, interrupt: AbortSignal | undefined): CancelWatch {
  const detach = new Map<string, () => void>();
  return {
    watch(jobId) {
      const cancelled = database.watch(jobId);
      if (!interrupt) {
        detach.set(jobId, () => {});
        return cancelled;
      }
      const interrupted = new AbortController();
      const onInterrupt = () => interrupted.abort(new CancelRequested(INTERRUPTED_BY));
      if (interrupt.aborted) onInterrupt();
      else interrupt.addEventListener("abort", onInterrupt, { once: true });
      // An eval runs many jobs under one Ctrl-C: each takes its listener off when it ends.
      detach.set(jobId, () => interrupt.removeEventListener("abort", onInterrupt));
      return AbortSignal.any([cancelled, interrupted.signal]);
    },
    unwatch(jobId) {
      detach.get(jobId)?.();
      detach.delete(jobId);
      database.unwatch(jobId);
    },
    stop() {
      for (const [jobId, off] of detach) {
        off();
        database.unwatch(jobId);
      }
      detach.clear();
    },
  };
}
