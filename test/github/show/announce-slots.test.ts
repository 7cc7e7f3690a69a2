import type { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAnnounced } from "../../../src/github/show/announce-job.ts";
import { findJob } from "../../../src/store/job-queries.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { insertJob } from "../../support/job-fixture.ts";
import { waitUntil } from "../../support/wait-until.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** GitHub, paced: every write waits until the test opens the gate (as Probot's one write a second makes a burst wait). */
function pacedGitHub() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const writes: string[] = [];
  let nextId = 1;
  const write = (what: string) => async () => {
    writes.push(what);
    await gate;
    return { data: { id: nextId++ } };
  };
  const octokit = {
    rest: {
      reactions: { createForIssueComment: write("reaction"), createForIssue: write("reaction") },
      issues: { createComment: write("comment") },
      git: { getRef: async () => ({ data: { object: { sha: "a".repeat(40) } } }) },
      checks: { create: write("check run") },
    },
  } as unknown as ProbotOctokit;
  return { octokit, writes, open };
}

describe("announcing a burst of jobs", () => {
  it("leaves the pool's connections to the webhooks: at most a third of them wait on GitHub at once", async () => {
    const github = pacedGitHub();
    const jobs = await Promise.all(Array.from({ length: 6 }, (_, index) => insertJob(database.db, { issueNumber: 100 + index, commentId: null, checkRunId: null, baseSha: null, triggerCommentId: null })));
    const announced = Promise.all(jobs.map((job) => ensureAnnounced(database.pool, github.octokit, job.id)));
    try {
      await waitUntil(() => github.writes.length > 0, { what: "the first announcement's first write" });
      // A webhook's transaction needs a connection now, while GitHub holds every announcement back.
      const answered = await Promise.race([database.pool.query("select 1").then(() => "answered"), new Promise((resolve) => setTimeout(() => resolve("still waiting for a connection"), 10_000))]);
      expect(answered).toBe("answered");
      expect(github.writes).toHaveLength(1);
    } finally {
      github.open();
    }
    await announced;
    for (const job of jobs) expect(await findJob(database.db, job.id)).toMatchObject({ commentId: expect.any(Number), checkRunId: expect.any(Number) });
    expect(github.writes.filter((write) => write === "comment")).toHaveLength(6);
  });
});
