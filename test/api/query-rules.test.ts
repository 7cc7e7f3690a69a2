/**
 * What the API answers to ids and query values it cannot use: a bad id is an unknown
 * resource (404 naming it), and a bad `limit` or `before` is a 400 that states the rule,
 * on every route that takes one, never a silent fallback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BEFORE_RULE, LIMIT_RULE } from "../../src/api/http.ts";
import { pipelineRuns, type NewPipelineRun } from "../../src/store/pipeline-runs.sql.ts";
import { pipelines } from "../../src/store/pipelines.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;
let pipelineId: string;

/** Every route with an `:id`, and the resource its id names. */
const ID_ROUTES: Array<[method: string, path: (id: string) => string, resource: string]> = [
  ["GET", (id) => `/api/jobs/${id}`, "job"],
  ["GET", (id) => `/api/jobs/${id}/events`, "job"],
  ["POST", (id) => `/api/jobs/${id}/cancel`, "job"],
  ["POST", (id) => `/api/jobs/${id}/retry`, "job"],
  ["GET", (id) => `/api/pipelines/${id}`, "pipeline"],
  ["DELETE", (id) => `/api/pipelines/${id}`, "pipeline"],
  ["GET", (id) => `/api/pipelines/${id}/runs`, "pipeline"],
  ["POST", (id) => `/api/pipelines/${id}/runs`, "pipeline"],
  ["GET", (id) => `/api/runs/${id}`, "run"],
  ["POST", (id) => `/api/runs/${id}/cancel`, "run"],
];

/** Every route that lists rows newest first, page by page. */
const LIST_ROUTES = ["/api/jobs", "/api/runs", () => `/api/pipelines/${pipelineId}/runs`];
const pathOf = (route: string | (() => string)) => (typeof route === "string" ? route : route());

function runRow(createdAt: string): NewPipelineRun {
  const definition = { steps: [{ name: "only", task: "t", depends_on: [], on_failure: "stop" as const }] };
  return { installationId: 4242, repoId: 1296269, repoOwner: "octo-org", repoName: "hello-world", pipelineName: "review", definition, requesterLogin: "octocat", createdAt: new Date(createdAt) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
  const [pipeline] = await database.db
    .insert(pipelines)
    .values({ repoOwner: "octo-org", repoName: "hello-world", name: "review", definition: runRow("2026-01-01T00:00:00Z").definition })
    .returning();
  pipelineId = pipeline!.id;
  for (const hour of ["09", "10", "11"]) {
    await insertJob(database.db, { createdAt: new Date(`2026-11-24T${hour}:00:00Z`) });
    await database.db.insert(pipelineRuns).values(runRow(`2026-11-24T${hour}:00:00Z`));
  }
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("ids", () => {
  it("answers a malformed id with 404 naming the resource, on every route with an id", async () => {
    for (const [method, path, resource] of ID_ROUTES) {
      for (const id of ["not-a-uuid", "00000000-0000-0000-0000-00000000000", "1'; drop table jobs; --"]) {
        const response = await api.call(method, path(encodeURIComponent(id)), method === "POST" ? { body: {} } : {});
        expect([method, path(id), response.status]).toEqual([method, path(id), 404]);
        expect(await response.json()).toEqual({ error: `no ${resource} with that id` });
      }
    }
  });

  it("answers a well-formed id nothing has with the same 404", async () => {
    for (const [method, path, resource] of ID_ROUTES) {
      const response = await api.call(method, path("00000000-0000-0000-0000-000000000000"), method === "POST" ? { body: {} } : {});
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: `no ${resource} with that id` });
    }
  });

  it("takes an id in capitals as the same id", async () => {
    const response = await api.call("GET", `/api/pipelines/${pipelineId.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(pipelineId);
  });

  it("still tells an unknown path and a wrong method apart", async () => {
    expect(await (await api.call("GET", "/api/jobs/not-a-uuid/nothing")).json()).toEqual({ error: "no such endpoint" });
    const put = await api.call("PUT", "/api/jobs/not-a-uuid");
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET");
  });
});

describe("limit", () => {
  it("refuses a limit that is not an integer from 1 to 200 with 400 stating the rule, on every list route", async () => {
    for (const route of LIST_ROUTES) {
      for (const limit of ["-1", "0", "201", "abc", "", "1.5", "1e2", "99999999999999999999"]) {
        const response = await api.call("GET", `${pathOf(route)}?limit=${encodeURIComponent(limit)}`);
        expect([pathOf(route), limit, response.status]).toEqual([pathOf(route), limit, 400]);
        expect(await response.json()).toEqual({ error: LIMIT_RULE });
      }
    }
    expect(LIMIT_RULE).toBe("limit must be an integer from 1 to 200");
  });

  it("returns at most limit rows, newest first", async () => {
    for (const route of LIST_ROUTES) {
      const key = pathOf(route).startsWith("/api/jobs") ? "jobs" : "runs";
      const page = (await (await api.call("GET", `${pathOf(route)}?limit=2`)).json()) as Record<string, Array<{ created_at: string }>>;
      expect(page[key]!.map((row) => row.created_at)).toEqual(["2026-11-24T11:00:00.000Z", "2026-11-24T10:00:00.000Z"]);
      const all = (await (await api.call("GET", `${pathOf(route)}?limit=200`)).json()) as Record<string, unknown[]>;
      expect(all[key]).toHaveLength(3);
    }
  });
});

describe("before", () => {
  it("refuses anything but an ISO 8601 date-time with a time zone, or a date, with 400 stating the rule", async () => {
    const refused = ["yesterday", "1", "2026-11-24T10:00:00", "2026-02-31", "2026-11-24T25:00:00Z", "2026-11-24T10:00:00 02:00", "", "1732442400000"];
    for (const route of LIST_ROUTES) {
      for (const before of refused) {
        const response = await api.call("GET", `${pathOf(route)}?before=${encodeURIComponent(before)}`);
        expect([pathOf(route), before, response.status]).toEqual([pathOf(route), before, 400]);
        expect(await response.json()).toEqual({ error: BEFORE_RULE });
      }
    }
  });

  it("pages back from a time: only rows created before it, on every list route", async () => {
    for (const route of LIST_ROUTES) {
      const key = pathOf(route).startsWith("/api/jobs") ? "jobs" : "runs";
      for (const before of ["2026-11-24T11:00:00Z", "2026-11-24T12:00:00%2B01:00", "2026-11-24T11:00:00.000Z"]) {
        const response = await api.call("GET", `${pathOf(route)}?before=${before}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as Record<string, Array<{ created_at: string }>>;
        expect(page[key]!.map((row) => row.created_at)).toEqual(["2026-11-24T10:00:00.000Z", "2026-11-24T09:00:00.000Z"]);
      }
      const byDate = (await (await api.call("GET", `${pathOf(route)}?before=2026-11-24`)).json()) as Record<string, unknown[]>;
      expect(byDate[key]).toEqual([]);
    }
  });
});
