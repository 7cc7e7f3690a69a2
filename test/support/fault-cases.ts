/**
 * The fault suite's cases, each run against real processes (test/support/fault-cluster.ts)
 * at two sizes: `short` in the test suite (test/process/faults.slow.test.ts), `full` in
 * `npm run bench:faults` (the durations the issue names: Postgres down 10 s, GitHub 502 for
 * two minutes, the model provider down a minute and then rate-limiting another). Each
 * injects its fault while jobs run and webhooks arrive, lets everything settle, and is
 * judged by the same invariant (`verdictOf`).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AppProcess } from "./app-process.ts";
import { startFaultCluster, waitFor, type Ask, type FaultCluster, type FaultClusterOptions, type Verdict } from "./fault-cluster.ts";

export type Scale = "short" | "full";

export interface FaultCase {
  name: string;
  /** What is done to the cluster, in the table's words. */
  fault: string;
  /** Why this machine cannot run the case, or null. */
  unavailable?(): string | null;
  /** A Postgres server of the cluster's own (the case stops it). */
  ownPostgres?: boolean;
  env?: Record<string, string>;
  run(cluster: FaultCluster, scale: Scale): Promise<Ask[]>;
}

export interface CaseResult {
  verdict: Verdict;
  seconds: number;
  /** The end of each process's output, for a verdict with problems. */
  outputs: string;
}

/** The shortest heartbeat pg-boss allows: a dead worker's job is taken over within seconds. */
const HEARTBEAT = { AGENT_HEARTBEAT_SECONDS: "10" };

export const FAULT_CASES: FaultCase[] = [
  {
    name: "postgres-restart",
    fault: "Postgres stopped (10 s) and started while jobs run and webhooks arrive",
    ownPostgres: true,
    async run(cluster, scale) {
      const [web] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
      const asks = await cluster.ask(web, issues(1, size(scale, 2, 6)));
      await jobsRunning(cluster, 1);
      await cluster.postgres!.stop();
      // Deliveries while it is down are refused (503); GitHub delivers them again once it is back.
      const refused = await cluster.ask(web, issues(100, size(scale, 2, 4)));
      await sleep(size(scale, 3_000, 10_000));
      await cluster.postgres!.start();
      const again = await cluster.ask(web, refused.filter((ask) => ask.status >= 300).map((ask) => ask.issueNumber));
      return [...asks, ...refused.filter((ask) => ask.status < 300), ...again];
    },
  },
  {
    name: "github-502",
    fault: "GitHub answers 502 to everything (2 min) mid-job, then (30 s) from the first push on",
    async run(cluster, scale) {
      const [web] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
      const asks = await cluster.ask(web, issues(1, size(scale, 2, 6)));
      await jobsRunning(cluster, 1);
      cluster.github.setOutage({ status: 502 });
      await sleep(size(scale, 8_000, 120_000));
      cluster.github.setOutage(null);
      const pushed = cluster.pushes().length;
      await waitFor(() => cluster.pushes().length > pushed, "a push after the outage");
      cluster.github.setOutage({ status: 502 });
      await sleep(size(scale, 5_000, 30_000));
      cluster.github.setOutage(null);
      return asks;
    },
  },
  {
    name: "model-down",
    fault: "the model provider refuses connections (1 min), then answers 429 with retry-after (1 min)",
    async run(cluster, scale) {
      const [web] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
      const asks = await cluster.ask(web, issues(1, size(scale, 2, 4)));
      await waitFor(() => cluster.model.requests.length > 0, "the agent to ask the model");
      await cluster.model.setOutage("refuse");
      await sleep(size(scale, 8_000, 60_000));
      await cluster.model.setOutage({ status: 429, retryAfterSeconds: 5 });
      await sleep(size(scale, 5_000, 60_000));
      await cluster.model.setOutage(null);
      return asks;
    },
  },
  ...[
    { moment: "push", fault: "its push has landed", hold: (cluster: FaultCluster) => cluster.holdPushes() },
    { moment: "pull-request", fault: "GitHub has made its pull request", hold: (cluster: FaultCluster) => cluster.github.holdReply("pulls.create") },
  ].map(
    ({ moment, fault, hold }): FaultCase => ({
      name: `worker-killed-during-${moment}`,
      fault: `the worker SIGKILLed once ${fault}, before it hears so; restarted`,
      env: HEARTBEAT,
      async run(cluster) {
        const [web, worker] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
        const held = hold(cluster);
        const asks = await cluster.ask(web, [1]);
        await held.reached;
        await killAlone(worker);
        held.release();
        await cluster.start("worker", { dataDir: worker.dataDir });
        return asks;
      },
    }),
  ),
  ...(["issues.createComment", "checks.create"] as const).map(
    (route): FaultCase => ({
      name: `web-killed-before-recording-${route === "checks.create" ? "check-run" : "comment"}`,
      fault: `the web process SIGKILLed after answering, once GitHub has made the ${route === "checks.create" ? "check run" : "progress comment"} and before it hears so; another web and a worker start`,
      async run(cluster) {
        const web = await cluster.start("web");
        const held = cluster.github.holdReply(route);
        const asks = await cluster.ask(web, [1]);
        await held.reached;
        await killAlone(web);
        held.release();
        await Promise.all([cluster.start("web"), cluster.start("worker")]);
        return asks;
      },
    }),
  ),
  {
    name: "data-dir-full",
    fault: "DATA_DIR full (a small tmpfs) when a job starts; space freed for the next",
    unavailable: () => (canMount() ? null : "mounting a tmpfs needs root (CAP_SYS_ADMIN)"),
    async run(cluster) {
      const dataDir = await mountSmallDisk();
      try {
        const web = await cluster.start("web");
        const worker = await cluster.start("worker", { dataDir: dataDir.path });
        await dataDir.fill();
        const full = await cluster.ask(web, [1]);
        await waitFor(async () => (await cluster.database.pool.query("select count(*) from jobs where status not in ('queued', 'running')")).rows[0].count === "1", "the job on a full disk to end");
        const failed = await cluster.database.pool.query<{ status: string; error: string | null; attempts: number }>("select status, failure_message as error, attempts from jobs");
        cluster.note(`the job on a full disk: ${failed.rows[0]?.status} after ${failed.rows[0]?.attempts} attempts, "${failed.rows[0]?.error?.slice(0, 160)}"`);
        if (failed.rows[0]?.status !== "failed" || !failed.rows[0]?.error?.startsWith("The worker's disk is full")) {
          throw new Error(`a job on a full disk should fail saying so; it ended ${JSON.stringify(failed.rows[0])}`);
        }
        if (worker.output().includes('"msg":"Running Agent stopped"') || (await Promise.race([worker.exited.then(() => true), sleep(0).then(() => false)]))) {
          throw new Error("the worker stopped on a full disk");
        }
        await dataDir.free();
        const next = await cluster.ask(web, [2]);
        await cluster.settle(4 * 60_000);
        // Only this worker refreshes the mirror: if it waits for a refresh, the full disk left a lock behind.
        if (worker.output().includes("waiting for another refresh of this repository")) throw new Error("the next job waited for a mirror lock the full disk left behind");
        return [...full, ...next];
      } finally {
        // The cluster's dispose removes the processes; the mount goes once they are gone.
        cluster.afterDispose(dataDir.unmount);
      }
    },
  },
];

export async function runFaultCase(fault: FaultCase, scale: Scale, options: FaultClusterOptions): Promise<CaseResult> {
  const started = Date.now();
  const cluster = await startFaultCluster({ ...options, ...(fault.ownPostgres ? { databaseServerUrl: undefined } : {}), env: { ...options.env, ...fault.env } });
  try {
    const asks = await fault.run(cluster, scale);
    await cluster.settle(size(scale, 4, 12) * 60_000);
    const verdict = await cluster.verdictOf(asks);
    const outputs = cluster.apps.map((app, index) => `--- process ${index + 1} (pid ${app.pid}):\n${app.output().slice(-4_000)}`).join("\n");
    return { verdict, seconds: (Date.now() - started) / 1_000, outputs };
  } finally {
    await cluster.dispose();
  }
}

function size<T>(scale: Scale, short: T, full: T): T {
  return scale === "short" ? short : full;
}

function issues(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}

async function jobsRunning(cluster: FaultCluster, count: number): Promise<void> {
  await waitFor(async () => Number((await cluster.database.pool.query("select count(*) from jobs where status = 'running'")).rows[0].count) >= count, `${count} jobs to run`);
}

/** SIGKILL the process alone, as the OOM killer does: what it started is left to fend for itself. */
async function killAlone(app: AppProcess): Promise<void> {
  process.kill(app.pid, "SIGKILL");
  await app.exited;
}

function canMount(): boolean {
  return process.getuid?.() === 0;
}

/** A 64 MiB tmpfs for a worker's DATA_DIR, which `fill` leaves with a few KiB free. */
async function mountSmallDisk(): Promise<{ path: string; fill(): Promise<void>; free(): Promise<void>; unmount(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ra-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", dir]);
  const filler = path.join(dir, "filler");
  return {
    path: dir,
    async fill() {
      await writeFile(filler, "");
      // Writes until the disk refuses; what is left is less than one block of this size.
      try {
        execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
      } catch {
        // dd exits 1 with "No space left on device": the disk is full, as wanted.
      }
    },
    free: () => rm(filler, { force: true }),
    async unmount() {
      execFileSync("umount", ["-l", dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
