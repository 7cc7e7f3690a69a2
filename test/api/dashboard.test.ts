import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../src/pipelines/advance-run.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database);
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

describe("the dashboard", () => {
  it("is served without a token (it holds no data), and may run only its own script and reach only this origin", async () => {
    const response = await api.call("GET", "/dashboard", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    const csp = response.headers.get("content-security-policy")!;
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(csp).toContain(`script-src ${sha256(script)}`);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("connect-src 'self'");
    // It reads the API with the token the user gives, and shows text as text.
    for (const path of ["/api/jobs?limit=50", "/api/runs?limit=20", "/api/stats", "/api/jobs/${id}/events", "/api/runs/${id}"]) expect(script).toContain(path);
    expect(script).not.toContain("innerHTML");
  });

  it("lists pipeline runs, newest first, with their steps; the data itself needs the token", async () => {
    await insertJob(database.db, { status: "running" });
    const older = await startRun(database.pool, { installationId: 1, repoId: 2, repoOwner: "o", repoName: "r", pipelineName: "first", definition: { steps: [{ name: "a", task: "t", on_failure: "stop" }] }, requesterLogin: "x", cancelRequestedAt: new Date() }, async () => "unused");
    const newer = await startRun(database.pool, { installationId: 1, repoId: 2, repoOwner: "o", repoName: "r", pipelineName: "second", definition: { steps: [{ name: "b", task: "t", on_failure: "stop" }] }, requesterLogin: "x", cancelRequestedAt: new Date() }, async () => "unused");

    const listed = (await (await api.call("GET", "/api/runs?limit=10")).json()) as { runs: Array<{ id: string; steps: Array<{ name: string; state: string }> }> };
    expect(listed.runs.map((run) => run.id)).toEqual([newer!.id, older!.id]);
    expect(listed.runs[0]!.steps).toEqual([expect.objectContaining({ name: "b", state: "cancelled" })]);
    expect((await api.call("GET", "/api/runs", { token: null })).status).toBe(401);
  });
});
