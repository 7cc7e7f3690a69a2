import nock from "nock";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import type { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { showStaleJobs } from "../../../src/github/show/show-job-state.ts";
import { AGENT_JOB_QUEUE, startQueue, threadKeyOf, type AgentJobMessage } from "../../../src/queue/boss.ts";
import { findJob } from "../../../src/store/job-queries.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { GITHUB_API } from "../../support/github-api.ts";
import { insertJob } from "../../support/job-fixture.ts";
import { TestOctokit } from "../../support/probot.ts";

let database: TestDatabase;
let boss: PgBoss;
const path = "/repos/octo-org/hello-world";

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("the sweep of jobs whose final state never reached GitHub", () => {
  it("leaves a job that has just ended to the worker still showing it, and shows it once that worker has let go of it", async () => {
    const ended = await insertJob(database.db, { status: "completed", finishedAt: new Date(), prUrl: "https://github.com/octo-org/hello-world/pull/9", prNumber: 9 });
    await boss.send(AGENT_JOB_QUEUE, { jobId: ended.id }, { singletonKey: threadKeyOf(ended), group: { id: String(ended.installationId) } });
    // The worker's handler runs until its own final write is done: the message is active until then.
    const [taken] = await boss.fetch<AgentJobMessage>(AGENT_JOB_QUEUE);
    expect(taken?.data.jobId).toBe(ended.id);
    const deps = { pool: database.pool, db: database.db, octokitFor: async () => new TestOctokit({ auth: "ghs_test" }) as unknown as ProbotOctokit, log: pino({ level: "silent" }) };

    nock(GITHUB_API).patch(`${path}/check-runs/6001`).reply(200, { id: 6001 }).patch(`${path}/issues/comments/5001`).reply(200, { id: 5001 });

    // Nothing written: a write now would race the worker's, which may still be sending an older state.
    expect(await showStaleJobs(deps)).toBe(0);
    expect(nock.pendingMocks()).toHaveLength(2);

    // Its handler returned (the final write failed, or the process died and pg-boss gave the message up): the sweep's turn.
    await boss.complete(AGENT_JOB_QUEUE, taken!.id);
    expect(await showStaleJobs(deps)).toBe(1);
    expect(await findJob(database.db, ended.id)).toMatchObject({ shownStatus: "completed" });
  });

  it("shows it again until GitHub has it, and leaves alone jobs shown, still running, old, or run on a user's machine", async () => {
    const now = new Date();
    const stale = await insertJob(database.db, { status: "failed", failureKind: "model", failureMessage: "boom", finishedAt: now });
    await insertJob(database.db, { status: "failed", finishedAt: now, shownStatus: "failed" });
    await insertJob(database.db, { status: "running" });
    await insertJob(database.db, { status: "failed", finishedAt: new Date(now.getTime() - 2 * 86_400_000) });
    await insertJob(database.db, { status: "completed", finishedAt: now, trigger: "local", installationId: 0 });
    const deps = { pool: database.pool, db: database.db, octokitFor: async () => new TestOctokit({ auth: "ghs_test" }) as unknown as ProbotOctokit, log: pino({ level: "silent" }) };
    nock(GITHUB_API).patch(`${path}/check-runs/6001`).reply(502, { message: "Bad Gateway" });

    expect(await showStaleJobs(deps)).toBe(0);
    expect(await findJob(database.db, stale.id)).toMatchObject({ shownStatus: null });

    const seen: Array<Record<string, unknown>> = [];
    nock(GITHUB_API)
      .patch(`${path}/check-runs/6001`, (body: Record<string, unknown>) => Boolean(seen.push(body)))
      .reply(200, { id: 6001 })
      .patch(`${path}/issues/comments/5001`)
      .reply(200, { id: 5001 });
    expect(await showStaleJobs(deps)).toBe(1);
    expect(seen).toEqual([expect.objectContaining({ status: "completed", conclusion: "failure" })]);
    expect(await findJob(database.db, stale.id)).toMatchObject({ shownStatus: "failed" });
    expect(await showStaleJobs(deps)).toBe(0);
  });
});
