import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let api: ApiServer;

const call = (method: string, path: string, body?: unknown) => api.call(method, path, body === undefined ? {} : { body });

const CI_FIX = {
  steps: [
    { name: "lint", task: "Run eslint and fix all errors" },
    { name: "test", task: "Run all unit tests", depends_on: ["lint"], on_failure: "continue" },
    { name: "report", task: "Summarize {{steps.test.output.failures}}", depends_on: ["test"] },
  ],
};

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("stored pipelines: POST, GET, DELETE /api/pipelines", () => {
  it("stores a valid pipeline, replaces it under the same name, lists, reads and deletes it", async () => {
    const created = await call("POST", "/api/pipelines", { repository: "octo-org/hello-world", name: "ci-fix", definition: CI_FIX });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; definition: { steps: Array<{ on_failure: string }> } };
    expect(body).toMatchObject({ repository: "octo-org/hello-world", name: "ci-fix" });
    expect(body.definition.steps[0]!.on_failure).toBe("stop");

    const replaced = (await (await call("POST", "/api/pipelines", { repository: "octo-org/hello-world", name: "ci-fix", definition: { steps: [{ name: "only", task: "t" }] } })).json()) as { id: string };
    expect(replaced.id).toBe(body.id);
    await call("POST", "/api/pipelines", { repository: "octo-org/other", name: "ci-fix", definition: CI_FIX });

    const listed = (await (await call("GET", "/api/pipelines?repository=octo-org/hello-world")).json()) as { pipelines: Array<{ name: string; definition: { steps: unknown[] } }> };
    expect(listed.pipelines).toHaveLength(1);
    expect(listed.pipelines[0]!.definition.steps).toHaveLength(1);
    expect(((await (await call("GET", "/api/pipelines")).json()) as { pipelines: unknown[] }).pipelines).toHaveLength(2);
    expect((await call("GET", `/api/pipelines/${body.id}`)).status).toBe(200);

    expect((await call("DELETE", `/api/pipelines/${body.id}`)).status).toBe(204);
    expect((await call("GET", `/api/pipelines/${body.id}`)).status).toBe(404);
    expect((await call("DELETE", `/api/pipelines/${body.id}`)).status).toBe(404);
  });

  it("refuses a malformed pipeline, saying where, and stores nothing", async () => {
    const cycle = { steps: [{ name: "a", task: "a", depends_on: ["b"] }, { name: "b", task: "b", depends_on: ["a"] }] };
    const response = await call("POST", "/api/pipelines", { repository: "octo-org/bad", name: "loop", definition: cycle });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { problems: Array<{ path: unknown[]; message: string }> };
    expect(body.problems[0]!.path[0]).toBe("definition");
    expect(body.problems.map((problem) => problem.message).join("\n")).toMatch(/cycle/i);

    const unknownKey = await call("POST", "/api/pipelines", { repository: "octo-org/bad", name: "x", definition: { steps: [{ name: "a", task: "a", retries: 3 }] } });
    expect(unknownKey.status).toBe(422);
    expect((await call("POST", "/api/pipelines", { repository: "not-a-repo", name: "x", definition: CI_FIX })).status).toBe(422);
    expect((await call("POST", "/api/pipelines", "{not json")).status).toBe(400);
    expect((await call("POST", "/api/pipelines", { repository: "o/r", name: "big", definition: { steps: [{ name: "a", task: "x".repeat(300 * 1024) }] } })).status).toBe(413);
    expect((await call("GET", "/api/pipelines?repository=octo-org/bad")).status).toBe(200);
    expect(((await (await call("GET", "/api/pipelines?repository=octo-org/bad")).json()) as { pipelines: unknown[] }).pipelines).toEqual([]);
  });
});
