import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/routes.ts";
import { AGENT_JOB_QUEUE, startQueue } from "../../src/queue/boss.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";

const TOKEN = "api-token-for-tests-0123";
let database: TestDatabase;
let boss: PgBoss;
let server: Server;
let base: string;

async function insertJob(overrides: Partial<Job>): Promise<void> {
  const { id: _id, ...row } = jobFixture(overrides);
  await database.db.insert(jobs).values(row);
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
  const handle = createApiHandler({ db: database.db, pool: database.pool, boss, showOnGitHub: () => {}, apiToken: TOKEN, role: "all", log: pino({ level: "silent" }) });
  server = createServer((req, res) => void handle(req, res).then((handled) => handled || res.writeHead(418).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await boss.stop({ graceful: false });
  await database.drop();
});

describe("GET /metrics", () => {
  it("reports jobs by status, the queue, and the last day's durations and costs in Prometheus' format", async () => {
    const now = Date.now();
    await insertJob({ status: "running", startedAt: new Date(now - 5_000) });
    await insertJob({ status: "succeeded", startedAt: new Date(now - 70_000), finishedAt: new Date(now - 10_000), totalCost: 0.25, totalTokensIn: 1_000, totalTokensOut: 100 });
    await insertJob({ status: "failed", startedAt: new Date(now - 40_000), finishedAt: new Date(now - 10_000), totalCost: 0.5, totalTokensIn: 10, totalTokensOut: 1 });
    await insertJob({ status: "succeeded", startedAt: new Date(now - 3 * 86_400_000), finishedAt: new Date(now - 2 * 86_400_000), totalCost: 9 });
    await boss.send(AGENT_JOB_QUEUE, { jobId: "x" }, { singletonKey: "1#1", group: { id: "1" } });

    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.headers.get("content-type")).toContain("text/plain");
    const lines = (await response.text()).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        'running_agent_jobs{status="running"} 1',
        'running_agent_jobs{status="succeeded"} 2',
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

  it("needs the API token, like the rest of the API", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
  });
});
