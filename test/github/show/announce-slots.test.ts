import type { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAnnounced } from "../../../src/github/show/announce-job.ts";
import { progressMarker } from "../../../src/github/show/render-progress.ts";
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

describe("an announcement resumed after a process died mid-way", () => {
  /** GitHub holding the thread's comments (listed as GitHub lists them) and check runs; records what is made. */
  function githubWith(listed: { comments: unknown[]; checkRuns: unknown[] }) {
    const made: string[] = [];
    const octokit = {
      paginate: async (method: (params: unknown) => Promise<unknown[]>, params: unknown) => method(params),
      rest: {
        reactions: { createForIssueComment: async () => ({ data: {} }), createForIssue: async () => ({ data: {} }) },
        issues: { listComments: async () => listed.comments, createComment: async () => (made.push("comment"), { data: { id: 777 } }) },
        git: { getRef: async () => ({ data: { object: { sha: "a".repeat(40) } } }) },
        checks: { listForRef: async () => listed.checkRuns, create: async () => (made.push("check run"), { data: { id: 888 } }) },
      },
    } as unknown as ProbotOctokit;
    return { octokit, made };
  }

  it("adopts the comment and check run the dead process made, making none twice", async () => {
    const job = await insertJob(database.db, { issueNumber: 300, commentId: null, checkRunId: null, baseSha: "a".repeat(40), announceStartedAt: new Date() });
    const github = githubWith({
      comments: [{ id: 501, user: { login: "running-agent[bot]", type: "Bot" }, body: `${progressMarker(job.id)}\n⏳ queued` }],
      checkRuns: [{ id: 601, external_id: "another-job" }, { id: 602, external_id: job.id }],
    });
    expect(await ensureAnnounced(database.pool, github.octokit, job.id)).toMatchObject({ commentId: 501, checkRunId: 602 });
    expect(github.made).toEqual([]);
  });

  it("does not adopt a person's comment that starts with the job's marker (they can read it on the thread): it makes its own", async () => {
    const job = await insertJob(database.db, { issueNumber: 301, commentId: null, checkRunId: null, baseSha: "a".repeat(40), announceStartedAt: new Date() });
    const github = githubWith({ comments: [{ id: 502, user: { login: "mallory", type: "User" }, body: `${progressMarker(job.id)}\nI am the progress comment now` }], checkRuns: [] });
    expect(await ensureAnnounced(database.pool, github.octokit, job.id)).toMatchObject({ commentId: 777, checkRunId: 888 });
    expect(github.made).toEqual(["comment", "check run"]);
  });
});
