/**
 * A job does not wait for GitHub where it need not: once its base is known, the worker
 * starts while the comment and check run are still being made (GitHub paces writes about a
 * second apart), and finishes the announcement beside its work; it makes its workspace
 * while it reads the issue it was asked on.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { AppProcess } from "../support/app-process.ts";
import { startFaultCluster, waitFor, type FaultCluster } from "../support/fault-cluster.ts";

describe("a job and its announcement", () => {
  it("starts while the web process is still making its progress comment, and ends shown once", async () => {
    // GitHub makes the comment; its answer to the web process is held, and with it the announcement.
    await whileGitHubHolds("issues.createComment", async (cluster) => {
      await waitFor(() => cluster.model.requests.length > 0, "the agent to ask the model while the announcement is held");
    });
  });

  it("makes its workspace while it reads the issue it was asked on, and asks the model only after both", async () => {
    // GitHub holds its answer to the comments, which the job reads for the task's context.
    await whileGitHubHolds("issues.listComments", async (cluster, worker) => {
      await waitFor(() => checkedOutBranches(worker.dataDir).some((head) => head.startsWith("ref: refs/heads/agent/")), "the job's checkout while the issue is read");
      expect(cluster.model.requests).toEqual([]);
    });
  });
});

/** One job asked for on a web and a worker process, with GitHub's answer to `route` held while `meanwhile` looks; then it must end completed, shown once. */
async function whileGitHubHolds(route: Parameters<FaultCluster["github"]["holdReply"]>[0], meanwhile: (cluster: FaultCluster, worker: AppProcess) => Promise<void>): Promise<void> {
  // No warm agents: what is tested is the job's own start (a spare's start and boot beside it would only slow it on 2 cores).
  const cluster = await startFaultCluster({ databaseServerUrl: inject("databaseUrl"), env: { AGENT_WARM_AGENTS: "0" } });
  try {
    const [web, worker] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
    const held = cluster.github.holdReply(route);
    const asks = await cluster.ask(web, [1]);
    await held.reached;
    await meanwhile(cluster, worker);
    held.release();
    await cluster.settle(5 * 60_000);
    const verdict = await cluster.verdictOf(asks);
    expect(verdict.problems).toEqual([]);
    expect(verdict.statuses).toEqual({ completed: 1 });
  } finally {
    await cluster.dispose();
  }
}

/** The HEAD of each workspace in a worker's local sandboxes. */
function checkedOutBranches(dataDir: string): string[] {
  const root = path.join(dataDir, "sandboxes");
  try {
    return readdirSync(root).flatMap((sandbox) => {
      try {
        return [readFileSync(path.join(root, sandbox, "workspace", ".git", "HEAD"), "utf8")];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}
