import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AGENT_JOB_QUEUE } from "../../src/queue/boss.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;
let shown: Job[];

const post = (path: string, token?: string | null) => api.call("POST", path, token === undefined ? {} : { token });
const insertJob = (overrides: Partial<Job>) => insertJobInto(database.db, overrides);

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
  shown = api.shown;
});
afterAll(async () => {
  await api.close();
  await database.drop();
});
beforeEach(async () => {
  shown.length = 0;
  await database.db.delete(jobs);
});

describe("POST /api/jobs/:id/cancel", () => {
  it("cancels a queued job at once and shows it on GitHub", async () => {
    const job = await insertJob({ status: "queued" });
    const response = await post(`/api/jobs/${job.id}/cancel`);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id: job.id, status: "cancelled" });
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "cancelled", failureMessage: "cancelled by an API client before it started" });
    expect(shown.map((row) => row.id)).toEqual([job.id]);
  });

  it("asks the worker of a running job to stop it", async () => {
    const job = await insertJob({ status: "running", phase: "build" });
    const response = await post(`/api/jobs/${job.id}/cancel`);
    expect(response.status).toBe(202);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "running", cancelRequestedBy: "an API client" });
    // Its worker reports the end; nothing to show from here.
    expect(shown).toEqual([]);
  });

  it("answers 409 for an ended job, 404 for an unknown one, 401 without the token", async () => {
    const job = await insertJob({ status: "completed" });
    expect((await post(`/api/jobs/${job.id}/cancel`)).status).toBe(409);
    expect((await post("/api/jobs/00000000-0000-4000-8000-000000000000/cancel")).status).toBe(404);
    expect((await post(`/api/jobs/${job.id}/cancel`, null)).status).toBe(401);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "completed", cancelRequestedAt: null });
  });
});

describe("POST /api/jobs/:id/retry", () => {
  it("queues a failed job again from its checkpoint", async () => {
    const job = await insertJob({ status: "failed", failureKind: "model", failureMessage: "boom", totalCost: 0.25, attempts: 3, checkpoint: { explore: { report: "r" } } });
    const response = await post(`/api/jobs/${job.id}/retry`);
    expect(response.status).toBe(202);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: "queued", attempts: 0, failureKind: null, costBaseline: 0.25, checkpoint: { explore: { report: "r" } }, checkRunId: null });
    const queued = await database.pool.query("select singleton_key from pgboss.job where name = $1 and data->>'jobId' = $2", [AGENT_JOB_QUEUE, job.id]);
    expect(queued.rows).toEqual([{ singleton_key: `${job.repoId}#${job.issueNumber}` }]);
    expect(shown.map((row) => row.id)).toEqual([job.id]);
  });

  it("answers 409 for a job that has not ended or succeeded, 404 for an unknown one", async () => {
    const running = await insertJob({ status: "running" });
    const succeeded = await insertJob({ status: "completed" });
    expect((await post(`/api/jobs/${running.id}/retry`)).status).toBe(409);
    expect((await post(`/api/jobs/${succeeded.id}/retry`)).status).toBe(409);
    expect((await post("/api/jobs/00000000-0000-4000-8000-000000000000/retry")).status).toBe(404);
    expect(shown).toEqual([]);
  });

  it("answers 409 for a failed pipeline step, which is not retried alone, and leaves it as it was", async () => {
    const step = await insertJob({ status: "failed", pipelineRunId: "11111111-1111-4111-8111-111111111111", pipelineName: "ci", pipelineStep: "lint", issueTitle: "ci/lint" });
    const response = await post(`/api/jobs/${step.id}/retry`);
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: string }).error).toContain("step of a pipeline run");
    expect(await findJob(database.db, step.id)).toMatchObject({ status: "failed" });
    expect(shown).toEqual([]);
  });
});
