/**
 * Kill E2B sandboxes left behind by a worker that died (SIGKILL, lost machine): ours
 * (metadata `app`), running, whose job has ended. They would otherwise run, and bill,
 * until their own timeout. Paused sandboxes wait for a follow-up and are kept until
 * `keepPausedMs` after their creation. Another worker's running job is left alone: the
 * job's state, not which worker asks, decides.
 */
import { Sandbox as E2bSdkSandbox, type SandboxInfo } from "e2b";
import { connectionOf, e2bAppTag, type E2bConnection } from "./e2b-sandbox.ts";

const defaultKeepPausedMs = 7 * 24 * 60 * 60_000;

export interface ReapE2bOptions extends E2bConnection {
  /** Whether the job (metadata `jobId`) has ended: succeeded, failed, cancelled, timed out, or is unknown. */
  isJobEnded: (jobId: string) => Promise<boolean>;
  /** Whether a job holds the sandbox (runs in it after resuming it, or offers it for a follow-up): then it is kept. */
  isHeld?: (sandboxId: string) => Promise<boolean>;
  keepPausedMs?: number;
  now?: Date;
}

/** Returns the E2B sandbox ids it killed. */
export async function reapE2bSandboxes(options: ReapE2bOptions): Promise<string[]> {
  const connection = connectionOf(options);
  const paginator = E2bSdkSandbox.list({ ...connection, query: { metadata: { app: e2bAppTag } } });
  const found: SandboxInfo[] = [];
  while (paginator.hasNext) found.push(...(await paginator.nextItems()));
  const now = options.now ?? new Date();
  const orphans: string[] = [];
  for (const info of found) {
    // The server filters by metadata; checking again costs nothing and guards the kill.
    if (info.metadata.app !== e2bAppTag) continue;
    if (await isOrphan(info, options, now)) orphans.push(info.sandboxId);
  }
  const killed = await Promise.all(orphans.map(async (id) => ((await E2bSdkSandbox.kill(id, connection)) ? id : null)));
  return killed.filter((id): id is string => id !== null);
}

async function isOrphan(info: SandboxInfo, options: ReapE2bOptions, now: Date): Promise<boolean> {
  if (await options.isHeld?.(info.sandboxId)) return false;
  if (info.state === "paused") return now.getTime() - info.startedAt.getTime() > (options.keepPausedMs ?? defaultKeepPausedMs);
  const jobId = info.metadata.jobId;
  return jobId === undefined || (await options.isJobEnded(jobId));
}
