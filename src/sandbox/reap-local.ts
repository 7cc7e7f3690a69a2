import { readdir, rm } from "node:fs/promises";
import path from "node:path";

const UUID_PREFIX = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/;

/**
 * Remove local sandbox directories left behind by a worker that died (SIGKILL, power
 * loss): those whose job is no longer running. Another worker may share the data dir,
 * so a running job's sandbox is left alone. Returns the directories removed.
 */
export async function reapLocalSandboxes(rootDir: string, isRunning: (jobIds: string[]) => Promise<Set<string>>): Promise<string[]> {
  const entries = await readdir(rootDir).catch(() => [] as string[]);
  const owned = entries.map((name) => ({ name, jobId: UUID_PREFIX.exec(name)?.[1] })).filter((entry): entry is { name: string; jobId: string } => entry.jobId !== undefined);
  if (owned.length === 0) return [];
  const running = await isRunning([...new Set(owned.map((entry) => entry.jobId))]);
  const orphans = owned.filter((entry) => !running.has(entry.jobId));
  await Promise.all(orphans.map((entry) => rm(path.join(rootDir, entry.name), { recursive: true, force: true })));
  return orphans.map((entry) => entry.name);
}
