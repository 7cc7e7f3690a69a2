import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_JOB_QUEUE } from "../../src/queue/boss.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;

const insertJob = (overrides: Partial<Job>) => insertJobInto(database.db, overrides);

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("GET /metrics", () => {
  it("reports jobs by status, the queue, and the last day's durations and costs in Prometheus' format", async () => {
    const now = Date.now();
    await insertJob({ status: "running", startedAt: new Date(now - 5_000) });
    await insertJob({ status: "completed", startedAt: new Date(now - 70_000), finishedAt: new Date(now - 10_000), totalCost: 0.25, totalTokensIn: 1_000, totalTokensOut: 100 });
    await insertJob({ status: "failed", startedAt: new Date(now - 40_000), finishedAt: new Date(now - 10_000), totalCost: 0.5, totalTokensIn: 10, totalTokensOut: 1 });
    await insertJob({ status: "completed", startedAt: new Date(now - 3 * 86_400_000), finishedAt: new Date(now - 2 * 86_400_000), totalCost: 9 });
    await api.boss.send(AGENT_JOB_QUEUE, { jobId: "x" }, { singletonKey: "1#1", group: { id: "1" } });

    const response = await api.call("GET", "/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain");
    const lines = (await response.text()).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        'running_agent_jobs{status="running"} 1',
        'running_agent_jobs{status="completed"} 2',
        'running_agent_jobs{status="failed"} 1',
        'running_agent_jobs{status="queued"} 0',
        'running_agent_queue_messages{state="created"} 1',
        'running_agent_job_duration_seconds{quantile="0.5"} 45',
        "running_agent_job_duration_seconds_count 2",
        "running_agent_job_cost_usd_24h 0.75",
        "running_agent_job_tokens_24h 1111",
      ]),
    );
  });

  it("prints durations to the millisecond and costs to the micro-dollar, not binary floating point's noise", async () => {
    await database.pool.query("delete from jobs");
    const now = Date.now();
    // percentile_cont interpolates 60.5 s and 75.174 s to 67.837 and 73.70660000000001 s; 0.1 + 0.2 dollars sum to 0.30000000000000004.
    await insertJob({ status: "completed", startedAt: new Date(now - 70_500), finishedAt: new Date(now - 10_000), totalCost: 0.1 });
    await insertJob({ status: "completed", startedAt: new Date(now - 85_174), finishedAt: new Date(now - 10_000), totalCost: 0.2 });

    const text = await (await api.call("GET", "/metrics")).text();
    expect(text.split("\n")).toEqual(
      expect.arrayContaining(['running_agent_job_duration_seconds{quantile="0.5"} 67.837', 'running_agent_job_duration_seconds{quantile="0.9"} 73.707', "running_agent_job_cost_usd_24h 0.3"]),
    );
  });

  it("needs the API token, like the rest of the API", async () => {
    expect((await api.call("GET", "/metrics", { token: null })).status).toBe(401);
  });
});
