/**
 * A job does not wait for the web process's announcement: once its base is known, the
 * worker starts while the comment and check run are still being made (GitHub paces writes
 * about a second apart), and finishes the announcement beside its work.
 */
import { describe, expect, inject, it } from "vitest";
import { startFaultCluster, waitFor } from "../support/fault-cluster.ts";

describe("a job and its announcement", () => {
  it("starts while the web process is still making its progress comment, and ends shown once", async () => {
    const cluster = await startFaultCluster({ databaseServerUrl: inject("databaseUrl") });
    try {
      const [web] = await Promise.all([cluster.start("web"), cluster.start("worker")]);
      // GitHub makes the comment; its answer to the web process is held, and with it the announcement.
      const held = cluster.github.holdReply("issues.createComment");
      const asks = await cluster.ask(web, [1]);
      await held.reached;
      await waitFor(() => cluster.model.requests.length > 0, "the agent to ask the model while the announcement is held");
      held.release();
      await cluster.settle(5 * 60_000);
      const verdict = await cluster.verdictOf(asks);
      expect(verdict.problems).toEqual([]);
      expect(verdict.statuses).toEqual({ completed: 1 });
    } finally {
      await cluster.dispose();
    }
  });
});
