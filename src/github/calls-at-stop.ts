import { setMaxListeners } from "node:events";
import type { ProbotOctokit } from "probot";

/**
 * How long GitHub calls may go on once a stop began, all together: a handed-back job's
 * writes (check run, comment), which Probot paces a second apart, fit; a GitHub that does
 * not answer costs a stop no more than this.
 */
export const LAST_CALLS_MS = 4_000;

export class GitHubCallCut extends Error {
  override name = "GitHubCallCut";
}

export interface GitHubCallStop {
  /** An Octokit plugin: every call of every Octokit of the app goes through it. */
  plugin: (octokit: Pick<ProbotOctokit, "hook">) => void;
  /** The app is stopping: no more retries, and every call ends within `lastCallsMs`. */
  stop(): void;
}

/** What Octokit's retry plugin reads and writes on a call's `request` options. */
interface CallSettings {
  retries?: number;
  retryCount?: number;
  signal?: AbortSignal;
}

/**
 * GitHub calls while the app stops. Probot's Octokit retries a failed call (1, 4 and 9 s
 * later) and waits on an unanswered one for as long as the connection lives, and a stop
 * waits on what a stopping job writes (a handed-back job shows so on GitHub): with GitHub
 * down, a SIGTERM took 20 s. So once the stop begins, a failed call is not tried again (one
 * waiting to retry is cut at once), and every call, in flight or new, is cut `lastCallsMs`
 * after the stop began. What a cut write would have shown, the job's next worker or the
 * minute's sweep (`showStaleJobs`) shows.
 */
export function createGitHubCallStop(options: { lastCallsMs?: number } = {}): GitHubCallStop {
  const deadline = new AbortController();
  // One listener per call in flight: as many as the app makes at once.
  setMaxListeners(0, deadline.signal);
  const inFlight = new Set<{ settings: CallSettings; cut(reason: GitHubCallCut): void }>();
  let stopping = false;
  return {
    plugin(octokit) {
      octokit.hook.wrap("request", (request, requestOptions) => {
        if (deadline.signal.aborted) return Promise.reject(deadline.signal.reason as GitHubCallCut);
        const call = new AbortController();
        const settings: CallSettings = { ...requestOptions.request, signal: call.signal, ...(stopping ? { retries: 0 } : {}) };
        // Replaced in place, not passed on: every hook of the chain was bound to this one
        // options object (the retry plugin reads and counts on its `request`), and the old
        // `request` may be the defaults' own, shared by every call.
        requestOptions.request = settings;
        const entry = { settings, cut: (reason: GitHubCallCut) => call.abort(reason) };
        const onDeadline = () => entry.cut(deadline.signal.reason as GitHubCallCut);
        deadline.signal.addEventListener("abort", onDeadline, { once: true });
        inFlight.add(entry);
        return cutWhenAborted(Promise.resolve(request(requestOptions)), call.signal).finally(() => {
          inFlight.delete(entry);
          deadline.signal.removeEventListener("abort", onDeadline);
        });
      });
    },
    stop() {
      if (stopping) return;
      stopping = true;
      setTimeout(() => deadline.abort(new GitHubCallCut("the app is stopping: a GitHub call outlasted the stop's deadline")), options.lastCallsMs ?? LAST_CALLS_MS).unref();
      for (const { settings, cut } of inFlight) {
        settings.retries = 0;
        // It failed already and waits to try again: GitHub has answered enough.
        if ((settings.retryCount ?? 0) > 0) cut(new GitHubCallCut("the app is stopping: a failing GitHub call is not tried again"));
      }
    },
  };
}

/** Settle with `call`, or reject as soon as `signal` aborts (a retry's wait does not watch the fetch's signal). */
function cutWhenAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as GitHubCallCut);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([call, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}
