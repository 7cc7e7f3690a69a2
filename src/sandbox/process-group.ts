/**
 * Processes started in their own process group (`detached: true`), so that a command
 * and everything it forked can be stopped together: killing only the leader leaves
 * grandchildren (a test runner's workers, a `sleep`, opencode's bash tool) running.
 */
import type { ChildProcess } from "node:child_process";

/** How long a group gets between SIGTERM and SIGKILL. opencode has been seen to survive SIGTERM. */
export const killGraceMs = 2_000;

/** Send a signal to every process in the group led by `pid`. A group that is already gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Resolves once the child has exited (at once when it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * SIGTERM the group, then SIGKILL it once the leader has exited or the grace period is
 * over, whichever comes first. The SIGKILL after the leader's exit is on purpose: what
 * is left in the group then is orphaned work nobody will wait for.
 */
export async function terminateGroup(child: ChildProcess, graceMs = killGraceMs): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  signalGroup(pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([exitOf(child), graceOver]);
  clearTimeout(timer);
  signalGroup(pid, "SIGKILL");
  await exitOf(child);
}
