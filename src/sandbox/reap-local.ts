import { access, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { OWNER_MARKER, PARKED_MARKER, SPARE_NAME } from "./local-sandbox.ts";
import { isProcessAlive } from "./mirror-cache.ts";

const UUID_PREFIX = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/;

/**
 * Remove local sandbox directories nobody will use again: those whose job is no longer
 * running (a worker that died left them), except parked ones a follow-up may still resume
 * (`keepParked` names those, by directory). Another worker may share the data dir, so a
 * running job's sandbox is left alone. A spare (a warm agent no job has taken) is kept
 * while the worker that made it lives, and is its job's once taken (its owner marker).
 * Returns the directories removed.
 */
export async function reapLocalSandboxes(
  rootDir: string,
  isRunning: (jobIds: string[]) => Promise<Set<string>>,
  keepParked: (names: string[]) => Promise<Set<string>> = async () => new Set(),
): Promise<string[]> {
  const entries = await readdir(rootDir).catch(() => [] as string[]);
  // A resumed sandbox, or a taken spare, works for the job named in its owner marker, not the one that created it.
  const read = await Promise.all(
    entries.map(async (name) => ({ name, owner: (await readFile(path.join(rootDir, name, OWNER_MARKER), "utf8").catch(() => "")).trim(), spare: SPARE_NAME.exec(name) })),
  );
  const untakenOfTheDead = read.filter((entry) => entry.spare && entry.owner === "" && !isProcessAlive(Number(entry.spare[1]))).map((entry) => entry.name);
  await Promise.all(untakenOfTheDead.map((name) => rm(path.join(rootDir, name), { recursive: true, force: true })));
  const owned = read.flatMap(({ name, owner }) => {
    const jobId = owner || UUID_PREFIX.exec(name)?.[1];
    return jobId ? [{ name, jobId }] : [];
  });
  if (owned.length === 0) return untakenOfTheDead;
  const running = await isRunning([...new Set(owned.map((entry) => entry.jobId))]);
  const idle = owned.filter((entry) => !running.has(entry.jobId));
  const parked = await filterAsync(idle, (entry) => access(path.join(rootDir, entry.name, PARKED_MARKER)).then(() => true, () => false));
  const kept = parked.length > 0 ? await keepParked(parked.map((entry) => entry.name)) : new Set<string>();
  const orphans = idle.filter((entry) => !kept.has(entry.name));
  await Promise.all(orphans.map((entry) => rm(path.join(rootDir, entry.name), { recursive: true, force: true })));
  return [...untakenOfTheDead, ...orphans.map((entry) => entry.name)];
}


async function filterAsync<T>(items: T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const decisions = await Promise.all(items.map(keep));
  return items.filter((_, index) => decisions[index]);
}

/**
 * Remove what an earlier attempt of `jobId` left in `rootDir` (its worker died on this
 * machine; this attempt re-creates its sandbox): directories working for the job, not
 * parked. A job runs on one worker at a time, so none of them is in use. Without this, the
 * ten-minute reaper would find them only once the job has been over for five minutes.
 */
export async function removeEarlierAttempts(rootDir: string, jobId: string): Promise<string[]> {
  const entries = await readdir(rootDir).catch(() => [] as string[]);
  const earlier = await filterAsync(entries, async (name) => {
    const owner = (await readFile(path.join(rootDir, name, OWNER_MARKER), "utf8").catch(() => "")).trim() || UUID_PREFIX.exec(name)?.[1];
    if (owner !== jobId) return false;
    return access(path.join(rootDir, name, PARKED_MARKER)).then(() => false, () => true);
  });
  await Promise.all(earlier.map((name) => rm(path.join(rootDir, name), { recursive: true, force: true })));
  return earlier;
}
