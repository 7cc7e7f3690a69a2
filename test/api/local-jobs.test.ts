/**
 * Jobs of `running-agent run` in a database a web process shares: the API cancels them
 * (their process polls for the mark, see test/cli/run-ending.process.e2e.test.ts) and refuses
 * to retry them: their repository is on the machine that ran them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AGENT_JOB_QUEUE } from "../../src/queue/boss.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;

/** A job row as `running-agent run` writes it. */
const insertLocalJob = (overrides: Partial<Job>) =>
  insertJob(database.db, { trigger: "local", installationId: 0, repoId: 0, repoOwner: "local", repoName: "myproject", cloneUrl: "/home/ada/myproject", issueNumber: 0, checkRunId: null, commentId: null, deliveryId: null, triggerCommentId: null, ...overrides });

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
});
afterAll(async () => {
  await api.close();
  await database.drop();
});
beforeEach(async () => {
  api.shown.length = 0;
  await database.db.delete(jobs);
});

describe("a local job through the API", () => {
  it.each(["failed", "cancelled", "timed_out"] as const)("is not retried when %s: 409 with the reason, and the job keeps its failure", async (status) => {
    const job = await insertLocalJob({ status, failureKind: "model", failureMessage: "the model provider failed (HTTP 401)", attempts: 1 });

    const response = await api.call("POST", `/api/jobs/${job.id}/retry`);

    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ error: "this job ran on a repository on someone's machine; run `running-agent run` there again" });
    expect(await findJob(database.db, job.id)).toEqual(job);
    const queued = await database.pool.query("select 1 from pgboss.job where name = $1 and data->>'jobId' = $2", [AGENT_JOB_QUEUE, job.id]);
    expect(queued.rows).toEqual([]);
    expect(api.shown).toEqual([]);
  });

  it("is asked to stop when running: its process sees the mark", async () => {
    const job = await insertLocalJob({ status: "running", phase: "build" });

    const response = await api.call("POST", `/api/jobs/${job.id}/cancel`);

    expect(response.status).toBe(202);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "running", cancelRequestedBy: "an API client", cancelRequestedAt: expect.any(Date) });
    expect(api.shown).toEqual([]);
  });

  it("is cancelled at once when not started yet, and nothing is shown on GitHub, which it has none of", async () => {
    const job = await insertLocalJob({ status: "queued" });

    const response = await api.call("POST", `/api/jobs/${job.id}/cancel`);

    expect(response.status).toBe(202);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "cancelled" });
    expect(api.shown).toEqual([]);
  });
});
