/**
 * Which `running-agent` process runs a local job, so that the next start on the same
 * machine can tell at once that the process is gone (a double Ctrl-C, a `kill -9`, a
 * crash) and end the job, rather than wait for its heartbeat to lapse. The process is
 * recorded as an event of the job's log (`process`): the job row has no column for it.
 */
import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../store/database.ts";
import { jobEvents } from "../store/job-events.sql.ts";
import { appendJobEvent } from "../store/job-queries.ts";
import { ACTIVE_JOB_STATUSES, jobs } from "../store/jobs.sql.ts";

export const PROCESS_EVENT = "process";

/** A process, as another process on the same machine can check it. */
export interface LocalProcess {
  hostname: string;
  /**
   * What else a pid is only meaningful within, beside the hostname (on Linux: the boot, and
   * the pid namespace, which containers with one hostname do not share); null elsewhere.
   */
  machine: string | null;
  pid: number;
}

export function thisProcess(): LocalProcess {
  return { hostname: os.hostname(), machine: machineOf(), pid: process.pid };
}

/** Recorded right after the job is created, before anything can fail. */
export async function recordProcess(db: Db, jobId: string, owner: LocalProcess = thisProcess()): Promise<void> {
  await appendJobEvent(db, jobId, PROCESS_EVENT, `run by running-agent, process ${owner.pid} on ${owner.hostname}`, { ...owner });
}

/** Local jobs not ended whose recorded process was on this machine and no longer exists. */
export async function jobsOfGoneProcesses(db: Db, here: LocalProcess = thisProcess(), isAlive: (pid: number) => boolean = isProcessAlive): Promise<string[]> {
  const rows = await db
    .select({ jobId: jobs.id, data: jobEvents.data })
    .from(jobs)
    .innerJoin(jobEvents, and(eq(jobEvents.jobId, jobs.id), eq(jobEvents.kind, PROCESS_EVENT)))
    .where(and(eq(jobs.trigger, "local"), inArray(jobs.status, ACTIVE_JOB_STATUSES)));
  return rows.filter((row) => isGone(row.data, here, isAlive)).map((row) => row.jobId);
}

/**
 * Gone only when that is certain: the same machine, and no process with that pid. A pid
 * taken since by another process reads as alive; the heartbeat's lapse ends such a job.
 */
export function isGone(recorded: unknown, here: LocalProcess, isAlive: (pid: number) => boolean): boolean {
  if (typeof recorded !== "object" || recorded === null) return false;
  const { hostname, machine, pid } = recorded as Partial<LocalProcess>;
  if (hostname !== here.hostname || (machine ?? null) !== here.machine || typeof pid !== "number") return false;
  return pid !== here.pid && !isAlive(pid);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function machineOf(): string | null {
  try {
    return `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()} ${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return null;
  }
}
