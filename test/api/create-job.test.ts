import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import { AGENT_JOB_QUEUE } from "../../src/queue/boss.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let api: ApiServer;

/** The app is installed on one repository, whose #7 is an issue and #8 a pull request, and which has the branches main and release/1.x. */
const github: ApiGitHub = {
  repositoryOf: async (owner, name) =>
    `${owner}/${name}` === "octo-org/hello-world" ? { installationId: 4242, repo: { id: 1296269, owner, name, cloneUrl: "https://github.com/octo-org/hello-world.git", defaultBranch: "main" } } : null,
  issueOf: async (_installationId, _owner, _name, number) => (number === 7 ? { title: "Add a greeting function", isPullRequest: false } : number === 8 ? { title: "A pull request", isPullRequest: true } : null),
  hasBranch: async (_installationId, _owner, _name, branch) => branch === "main" || branch === "release/1.x",
  installedRepositories: async () => [{ id: 1296269, fullName: "octo-org/hello-world", defaultBranch: "main" }],
  showRun: () => {},
};

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database, { apiGitHub: github });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("POST /api/jobs", () => {
  it("queues the same job as /agent on the issue, and has it shown on GitHub", async () => {
    const response = await api.call("POST", "/api/jobs", { body: { repository: "octo-org/hello-world", issue_number: 7, task: "add greet(name)", requester: "release-bot" } });
    expect(response.status).toBe(201);
    const job = (await response.json()) as { id: string };
    expect(job).toMatchObject({ status: "queued", repository: "octo-org/hello-world", issue_number: 7, trigger: "api", task: "add greet(name)", requester: "release-bot", branch: "agent/7-add-a-greeting-function" });
    const queued = await database.pool.query("select singleton_key from pgboss.job where name = $1 and data->>'jobId' = $2", [AGENT_JOB_QUEUE, job.id]);
    expect(queued.rows).toEqual([{ singleton_key: "1296269#7" }]);
    expect(api.shown.map((shown) => shown.id)).toEqual([job.id]);
  });

  it("refuses a bad body, an uninstalled repository, a missing issue and a pull request, creating nothing", async () => {
    const before = (await database.db.select().from(jobs)).length;
    const problems = async (body: unknown) => {
      const response = await api.call("POST", "/api/jobs", { body });
      return { status: response.status, text: JSON.stringify(await response.json()) };
    };
    expect(await problems({ repository: "octo-org/hello-world", issue_number: 7, task: "  " })).toMatchObject({ status: 422, text: expect.stringContaining("a task cannot be empty") });
    expect(await problems({ repository: "nope", issue_number: 7, task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("owner/name") });
    expect(await problems({ repository: "octo-org/hello-world", issue_number: 7, task: "t", extra: 1 })).toMatchObject({ status: 422 });
    expect(await problems({ repository: "octo-org/other", issue_number: 7, task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("not installed") });
    expect(await problems({ repository: "octo-org/hello-world", issue_number: 99, task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("no issue #99") });
    expect(await problems({ repository: "octo-org/hello-world", issue_number: 8, task: "t" })).toMatchObject({ status: 422, text: expect.stringContaining("is a pull request") });
    expect((await database.db.select().from(jobs)).length).toBe(before);
  });

  it("queues a task without an issue as a thread of its own, on the base branch it names", async () => {
    const ask = async () => {
      const response = await api.call("POST", "/api/jobs", { body: { repository: "octo-org/hello-world", task: "Fix the typo in README\n\nIt says 'teh'.", base: "release/1.x" } });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string };
    };
    const [first, second] = [await ask(), await ask()];
    expect(first).toMatchObject({ status: "queued", issue_number: null, trigger: "api", requester: "api", task: "Fix the typo in README\n\nIt says 'teh'.", branch: `agent/task-${first.id.slice(0, 8)}-fix-the-typo-in-readme` });
    // Two tasks with the same words neither share a branch nor wait for each other.
    expect(second).toMatchObject({ branch: `agent/task-${second.id.slice(0, 8)}-fix-the-typo-in-readme` });
    const queued = await database.pool.query("select singleton_key from pgboss.job where name = $1 and data->>'jobId' = any($2) order by singleton_key", [AGENT_JOB_QUEUE, [first.id, second.id]]);
    expect(queued.rows.map((row) => row.singleton_key).sort()).toEqual([`1296269#job:${first.id}`, `1296269#job:${second.id}`].sort());
    const [row] = await database.db.select().from(jobs).where(eq(jobs.id, first.id));
    expect(row).toMatchObject({ issueNumber: 0, issueTitle: "Fix the typo in README", defaultBranch: "release/1.x" });
  });

  it("refuses a base branch the repository does not have, or that is no branch name, creating nothing", async () => {
    const before = (await database.db.select().from(jobs)).length;
    const ask = async (base: string) => {
      const response = await api.call("POST", "/api/jobs", { body: { repository: "octo-org/hello-world", task: "t", base } });
      return { status: response.status, text: JSON.stringify(await response.json()) };
    };
    expect(await ask("develop")).toMatchObject({ status: 422, text: expect.stringContaining("has no branch develop") });
    for (const bad of ["../main", "main..x", "-x", "a b", "x.lock", "feature/", "feat//x", ".hidden", "a/.b", "a~1", "a^", "a:b", "a\\b", ""]) {
      expect(await ask(bad), bad).toMatchObject({ status: 422, text: expect.stringContaining("base") });
    }
    expect((await database.db.select().from(jobs)).length).toBe(before);
  });
});
