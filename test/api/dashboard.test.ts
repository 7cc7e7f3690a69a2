import { request } from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_ASSET_NAMES } from "../../src/api/dashboard-assets.ts";
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

const DASHBOARD = new URL("../../src/dashboard/", import.meta.url);
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A GET with the path exactly as written: fetch would resolve `..` before sending it. */
function rawGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(api.url);
    request({ host: url.hostname, port: url.port, path, method: "GET" }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe("the dashboard", () => {
  it("is served without a token (it holds no data), may run only its own files, and reach only this origin", async () => {
    const response = await api.call("GET", "/dashboard", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toBe(CSP);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await response.text();
    // Nothing inline for the policy to allow: no script or style in the page, no style attribute, no handler attribute.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const linked = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((target) => !target.startsWith("#"));
    expect(linked.length).toBeGreaterThan(0);
    for (const target of linked) {
      expect(target, "the page loads only its own files").toMatch(/^\/dashboard\/[a-z0-9-]+\.(js|css|svg)$/);
      expect((await api.call("GET", target, { token: null })).status, target).toBe(200);
    }
  });

  it("serves each of its files with its type and the same policy, and every module the page imports is one of them", async () => {
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    const files = readdirSync(DASHBOARD).filter((name) => name !== "index.html");
    expect(DASHBOARD_ASSET_NAMES).toEqual([...files].sort());
    for (const name of files) {
      const response = await api.call("GET", `/dashboard/${name}`, { token: null });
      expect(response.status, name).toBe(200);
      expect(response.headers.get("content-type"), name).toBe(types[name.split(".").pop()!]);
      expect(response.headers.get("content-security-policy"), name).toBe(CSP);
      expect(response.headers.get("x-content-type-options"), name).toBe("nosniff");
      if (!name.endsWith(".js")) continue;
      const source = readFileSync(new URL(name, DASHBOARD), "utf8");
      // Job texts and logs are attacker-controlled: they go in as text, never as markup.
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      for (const [, imported] of source.matchAll(/^import [^"]*"\.\/([^"]+)";$/gm)) expect(files, `${name} imports ${imported}`).toContain(imported);
    }
  });

  it("answers 404 for any other name under /dashboard/, however it is spelled, and 304 for a file the browser has", async () => {
    for (const path of ["/dashboard/nope.js", "/dashboard/..%2fapi%2fdashboard-assets.ts", "/dashboard/app.js/", "/dashboard/.env", "/dashboard/APP.JS", "/dashboard/sub/app.js", "/dashboard/index.html/"]) {
      expect(await rawGet(path), path).toBe(404);
    }
    // A dot-dot segment (written or encoded) leaves /dashboard/ before any file is looked up: not ours to serve.
    for (const path of ["/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/%2E%2E/src/api/dashboard-assets.ts"]) {
      expect(await rawGet(path), path).toBe(418);
    }
    const first = await api.call("GET", "/dashboard/app.js", { token: null });
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await api.call("GET", "/dashboard/app.js", { token: null, headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await api.call("POST", "/dashboard/app.js", { token: null })).status).toBe(405);
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
