/**
 * Test helpers to look at processes through /proc. Zombies count as gone: PID 1 in this
 * container does not always reap orphans, so `kill(pid, 0)` would see them as alive.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { HANG_MS } from "../support/patience.ts";

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
}

function statOf(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields restart after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, state: fields[0] ?? "", pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** The live (non-zombie) processes whose process group is `pgid`. */
export function livingGroupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => statOf(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X")
    .map((stat) => stat.pid);
}

/** Poll a condition until it holds or the deadline passes (for states no event announces). */
/** Waits for a signal; the deadline (test/support/patience.ts) only turns a hang into a failure that names what was awaited. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = HANG_MS, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Live processes whose working directory is `dir` or below it (how a sandbox's processes are found). */
export function processesUnder(dir: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && isProcessAlive(Number(name)))
    .filter((name) => {
      try {
        const cwd = readlinkSync(`/proc/${name}/cwd`);
        return cwd === dir || cwd.startsWith(`${dir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Live processes whose command line contains `marker`: how a test finds a sandbox's
 * processes from the host, since the pids they see of themselves are their PID namespace's.
 */
export function processesWith(marker: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && isProcessAlive(Number(name)))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}
