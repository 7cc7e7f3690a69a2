import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import { appendJobEvent, updateJob } from "../../src/store/job-queries.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let api: ApiServer;

/** The app is installed on octo-org/hello-world only. */
const github: ApiGitHub = {
  repositoryOf: async (owner, name) =>
    `${owner}/${name}` === "octo-org/hello-world" ? { installationId: 4242, repo: { id: 1296269, owner, name, cloneUrl: "https://github.com/octo-org/hello-world.git", defaultBranch: "main" } } : null,
  issueOf: async () => null,
  hasBranch: async () => true,
  installedRepositories: async () => [{ id: 1296269, fullName: "octo-org/hello-world", defaultBranch: "main" }],
  showRun: () => {},
};

const countJobs = async () => (await database.db.select().from(jobs)).length;
const submit = (body: unknown) => api.call("POST", "/submit", { body });

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database, { apiGitHub: github });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("POST /submit", () => {
  it("queues a task on the repository a URL names, in any of its forms, for the user it names", async () => {
    for (const repoUrl of ["https://github.com/octo-org/hello-world", "https://github.com/octo-org/hello-world.git", "git@github.com:octo-org/hello-world.git", "ssh://git@github.com/octo-org/hello-world.git"]) {
      const response = await submit({ repo_url: repoUrl, task: "Fix the typo in README", user_id: "user-42" });
      expect(response.status, repoUrl).toBe(200);
      const body = (await response.json()) as { job_id: string; status: string };
      expect(body).toEqual({ job_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "queued" });
      const job = (await database.db.select().from(jobs)).find((row) => row.id === body.job_id)!;
      expect(job).toMatchObject({ repoOwner: "octo-org", repoName: "hello-world", issueNumber: 0, trigger: "api", task: "Fix the typo in README", requesterLogin: "user-42" });
      expect(api.shown.map((shown) => shown.id)).toContain(body.job_id);
    }
    // A numeric user id is recorded as it was given.
    const numeric = (await (await submit({ repo_url: "https://github.com/octo-org/hello-world", task: "t", user_id: 7 })).json()) as { job_id: string };
    expect((await (await api.call("GET", `/jobs`)).json()) as unknown).toMatchObject({ jobs: expect.arrayContaining([expect.objectContaining({ job_id: numeric.job_id, user_id: "7" })]) });
  });

  it("refuses a user's GitHub token clearly, without echoing it, and creates nothing", async () => {
    const before = await countJobs();
    const response = await submit({ repo_url: "https://github.com/octo-org/hello-world", task: "t", github_token: "ghp_personalTokenThatMustNotBeTaken000000" });
    expect(response.status).toBe(422);
    const text = await response.text();
    expect(text).toContain("github_token is not accepted");
    expect(text).not.toContain("ghp_");
    // Even alongside other mistakes, the token is what the client hears about first.
    const alongside = await submit({ repo_url: "nope", github_token: "ghp_x" });
    expect(alongside.status).toBe(422);
    expect(await alongside.text()).toContain("github_token is not accepted");
    expect(await countJobs()).toBe(before);
  });

  it("answers bad input with a clear error and creates nothing", async () => {
    const before = await countJobs();
    const problem = async (body: unknown, options: { token?: string | null } = {}) => {
      const response = await api.call("POST", "/submit", { body, ...options });
      return { status: response.status, text: await response.text() };
    };
    expect(await problem({ repo_url: "https://github.com/octo-org/other", task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("not installed on octo-org/other") });
    expect(await problem({ repo_url: "https://gitlab.com/octo-org/hello-world", task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("on github.com") });
    const withCredentials = await problem({ repo_url: "https://x:ghp_secret@github.com/octo-org/hello-world", task: "t" });
    expect(withCredentials).toMatchObject({ status: 422, text: expect.stringContaining("must not carry credentials") });
    expect(withCredentials.text).not.toContain("ghp_secret");
    expect(await problem({ repo_url: "https://github.com/octo-org/hello-world", task: "   " })).toMatchObject({ status: 422, text: expect.stringContaining("a task cannot be empty") });
    expect(await problem({ task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("repo_url") });
    expect(await problem({ repo_url: "https://github.com/octo-org/hello-world", task: "t", base_branch: "x" })).toMatchObject({ status: 422, text: expect.stringContaining("base_branch") });
    expect(await problem("{not json")).toMatchObject({ status: 400, text: expect.stringContaining("not valid JSON") });
    expect(await problem({ repo_url: "https://github.com/octo-org/hello-world", task: "x".repeat(300_000) })).toMatchObject({ status: 413 });
    expect(await problem({ repo_url: "https://github.com/octo-org/hello-world", task: "t" }, { token: null })).toMatchObject({ status: 401 });
    expect(await problem({ repo_url: "https://github.com/octo-org/hello-world", task: "t" }, { token: "wrong-token-of-the-same-size" })).toMatchObject({ status: 401 });
    expect(await countJobs()).toBe(before);
  });
});

describe("GET /status, /result, /jobs, /health", () => {
  it("reads a job in the original field names, its log as lines", async () => {
    const { job_id: id } = (await (await submit({ repo_url: "https://github.com/octo-org/hello-world", task: "Add greet()" })).json()) as { job_id: string };
    expect(await (await api.call("GET", `/status/${id}`)).json()).toEqual({ job_id: id, status: "queued" });

    await appendJobEvent(database.db, id, "phase", "phase explore started");
    await updateJob(database.db, id, {
      status: "completed",
      prUrl: "https://github.com/octo-org/hello-world/pull/12",
      totalCost: 0.0123,
      totalTokensIn: 1_000,
      totalTokensOut: 200,
      iterations: 2,
      testsPassed: true,
      explorationReportGenerated: true,
      finishedAt: new Date(),
    });
    expect(await (await api.call("GET", `/status/${id}`)).json()).toEqual({ job_id: id, status: "completed" });
    const result = (await (await api.call("GET", `/result/${id}`)).json()) as Record<string, unknown>;
    expect(result).toEqual({
      job_id: id,
      status: "completed",
      pr_url: "https://github.com/octo-org/hello-world/pull/12",
      total_cost: 0.0123,
      total_tokens_in: 1_000,
      total_tokens_out: 200,
      iterations: 2,
      tests_passed: true,
      debug_mode: false,
      resumed_from_checkpoint: false,
      exploration_report_generated: true,
      logs: [expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z phase explore started$/)],
    });

    const listed = (await (await api.call("GET", "/jobs?limit=1")).json()) as { jobs: unknown[] };
    expect(listed.jobs).toEqual([
      { job_id: id, status: "completed", repo_url: "https://github.com/octo-org/hello-world", task: "Add greet()", user_id: "api", pr_url: "https://github.com/octo-org/hello-world/pull/12", created_at: expect.any(String), finished_at: expect.any(String) },
    ]);
    expect(await (await api.call("GET", "/health")).json()).toEqual({ status: "ok", role: "all", database: "ok" });
  });

  it("answers 404 for an unknown or malformed job id, 400 for a bad page, 405 for a wrong method, 401 without the token", async () => {
    for (const path of ["/status/00000000-0000-4000-8000-000000000000", "/result/00000000-0000-4000-8000-000000000000", "/status/1", "/result/x"]) {
      const response = await api.call("GET", path);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toEqual({ error: "no job with that id" });
    }
    expect((await api.call("GET", "/jobs?limit=0")).status).toBe(400);
    expect((await api.call("GET", "/submit")).status).toBe(405);
    expect((await api.call("GET", "/status")).status).toBe(404);
    for (const path of ["/jobs", "/health", "/status/00000000-0000-4000-8000-000000000000", "/pipelines"]) expect((await api.call("GET", path, { token: null })).status, path).toBe(401);
    // Paths that are neither the API nor the original interface are left to the rest of the server.
    for (const path of ["/", "/jobsx", "/api/github/webhooks", "/ping"]) expect((await api.call("GET", path)).status, path).toBe(418);
  });
});

describe("the stored-pipeline routes under their original paths", () => {
  it("stores, lists, reads, runs and deletes a pipeline, and reads its runs", async () => {
    const definition = { steps: [{ name: "lint", task: "Lint {{inputs.target}}" }] };
    const stored = await api.call("POST", "/pipelines", { body: { repository: "octo-org/hello-world", name: "review", definition } });
    expect(stored.status).toBe(201);
    const { id } = (await stored.json()) as { id: string };
    expect(await (await api.call("GET", "/pipelines")).json()).toMatchObject({ pipelines: [expect.objectContaining({ id, name: "review" })] });
    expect(await (await api.call("GET", `/pipelines/${id}`)).json()).toMatchObject({ id, repository: "octo-org/hello-world", definition });

    const started = await api.call("POST", `/pipelines/${id}/run`, { body: { inputs: { target: "src/" } } });
    expect(started.status).toBe(201);
    const run = (await started.json()) as { id: string };
    expect(await (await api.call("GET", `/runs/${run.id}`)).json()).toMatchObject({ id: run.id, pipeline: "review", status: "running", steps: [expect.objectContaining({ name: "lint", state: "running" })] });
    expect(await (await api.call("GET", `/pipelines/${id}/runs`)).json()).toMatchObject({ runs: [expect.objectContaining({ id: run.id })] });
    expect((await api.call("GET", "/runs/not-a-uuid")).status).toBe(404);
    expect((await api.call("POST", `/pipelines/${id}/run`, { body: { inputs: { nope: "x" } } })).status).toBe(422);

    expect((await api.call("DELETE", `/pipelines/${id}`)).status).toBe(204);
    expect((await api.call("GET", `/pipelines/${id}`)).status).toBe(404);
  });
});
