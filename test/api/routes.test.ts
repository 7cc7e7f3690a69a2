import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendJobEvent } from "../../src/store/job-queries.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;

const get = (path: string, token?: string | null) => api.call("GET", path, token === undefined ? {} : { token });

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
  const older = await insertJob(database.db, { createdAt: new Date("2026-11-24T09:00:00Z"), status: "completed", prUrl: "https://github.com/o/r/pull/3", testsPassed: true, totalCost: 0.5 });
  await insertJob(database.db, { createdAt: new Date("2026-11-24T10:00:00Z"), status: "running", phase: "build" });
  await appendJobEvent(database.db, older.id, "tests", "tests passed", { output: "ok" });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("REST API authentication", () => {
  it("answers 401 without a bearer token or with a wrong one", async () => {
    for (const token of [null, "wrong-token-of-same-size!", "short"]) {
      const response = await get("/api/jobs", token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: "missing or wrong bearer token" });
    }
  });

  it("answers 401 to everything when API_TOKEN is not configured", async () => {
    const disabled = await startApiServer(database, { apiToken: undefined });
    const response = await disabled.call("GET", "/api/health", { token: "anything" });
    await disabled.close();
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toContain("API_TOKEN");
  });

  it("leaves non-API paths (webhooks, /ping) to Probot", async () => {
    expect((await get("/api/github/webhooks")).status).toBe(418);
    expect((await get("/ping")).status).toBe(418);
  });
});

describe("REST API", () => {
  it("reports health with the database checked", async () => {
    const response = await get("/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", role: "all", database: "ok" });
  });

  it("lists jobs newest first, with a limit", async () => {
    const body = (await (await get("/api/jobs")).json()) as { jobs: Array<Record<string, unknown>> };
    expect(body.jobs.map((job) => job.status)).toEqual(["running", "completed"]);
    const limited = (await (await get("/api/jobs?limit=1")).json()) as { jobs: unknown[] };
    expect(limited.jobs).toHaveLength(1);
    expect((await get("/api/jobs?before=yesterday")).status).toBe(400);
  });

  it("returns one job with its result fields and logs", async () => {
    const list = (await (await get("/api/jobs")).json()) as { jobs: Array<{ id: string; status: string }> };
    const id = list.jobs.find((job) => job.status === "completed")!.id;
    const job = (await (await get(`/api/jobs/${id}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      id,
      status: "completed",
      pr_url: "https://github.com/o/r/pull/3",
      total_cost: 0.5,
      total_tokens_in: 0,
      total_tokens_out: 0,
      iterations: 0,
      tests_passed: true,
      debug_mode: false,
      resumed_from_checkpoint: false,
      exploration_report_generated: false,
      timings: {},
      repository: "octo-org/hello-world",
    });
    expect(job.logs).toEqual([expect.objectContaining({ kind: "tests", message: "tests passed", data: { output: "ok" } })]);
  });

  it("answers 404 for an unknown job or path, 405 for a wrong method", async () => {
    expect((await get("/api/jobs/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await get("/api/jobs/not-a-uuid")).status).toBe(404);
    expect((await get("/api/nothing")).status).toBe(404);
    const post = await api.call("POST", "/api/health");
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });
});
