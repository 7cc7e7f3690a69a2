import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import { recordStepOutcome } from "../../src/pipelines/advance-run.ts";
import { stepLauncher, stepOutcomeOf } from "../../src/pipelines/step-jobs.ts";
import { updateJob } from "../../src/store/job-queries.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import type { PipelineRun } from "../../src/store/pipeline-runs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let api: ApiServer;
const shownRuns: PipelineRun[] = [];
const installed = new Set(["octo-org/hello-world"]);

/** GitHub as the web role sees it: the app is installed on one repository. */
const github: ApiGitHub = {
  async repositoryOf(owner, name) {
    if (!installed.has(`${owner}/${name}`)) return null;
    return { installationId: 4242, repo: { id: 1296269, owner, name, cloneUrl: `https://github.com/${owner}/${name}.git`, defaultBranch: "main" } };
  },
  issueOf: async () => null,
  hasBranch: async () => true,
  installedRepositories: async () => [{ id: 1296269, fullName: "octo-org/hello-world", defaultBranch: "main" }],
  showRun: (run) => void shownRuns.push(run),
};

const REVIEW = {
  steps: [
    { name: "lint", task: "Lint {{inputs.target}}" },
    { name: "docs", task: "Document {{inputs.target}}" },
    { name: "report", task: "Summarize", depends_on: ["lint", "docs"] },
  ],
};

async function storePipeline(repository: string, definition: unknown = REVIEW): Promise<string> {
  const response = await api.call("POST", "/api/pipelines", { body: { repository, name: "review", definition } });
  return ((await response.json()) as { id: string }).id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database, { apiGitHub: github });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe("pipeline runs over REST", () => {
  it("starts a run of a stored pipeline: its ready steps are queued as jobs, in parallel; the run reads back with each step", async () => {
    const id = await storePipeline("octo-org/hello-world");

    const started = await api.call("POST", `/api/pipelines/${id}/runs`, { body: { inputs: { target: "src/" }, requester: "release-bot" } });
    expect(started.status).toBe(201);
    const run = (await started.json()) as { id: string; status: string; branch: string; steps: Array<{ name: string; state: string; job_id: string | null; job: { status: string } | null }> };
    expect(run).toMatchObject({ status: "running", repository: "octo-org/hello-world", pipeline: "review", issue_number: null, requester: "release-bot", inputs: { target: "src/" } });
    expect(run.branch).toMatch(/^agent\/review-[0-9a-f]{8}$/);
    expect(run.steps.map((step) => [step.name, step.state, step.job?.status ?? null])).toEqual([
      ["lint", "running", "queued"],
      ["docs", "running", "queued"],
      ["report", "pending", null],
    ]);
    const stepJobs = await database.db.select().from(jobs).where(eq(jobs.pipelineRunId, run.id));
    expect(stepJobs.map((job) => job.pipelineStep).sort()).toEqual(["docs", "lint"]);
    expect(stepJobs.every((job) => job.issueNumber === 0 && job.branch === run.branch && job.task.includes("src/"))).toBe(true);
    expect(shownRuns.map((shown) => shown.id)).toContain(run.id);

    const read = (await (await api.call("GET", `/api/runs/${run.id}`)).json()) as { id: string; steps: unknown[] };
    expect(read).toMatchObject({ id: run.id, steps: run.steps });
    const listed = (await (await api.call("GET", `/api/pipelines/${id}/runs`)).json()) as { runs: Array<{ id: string }> };
    expect(listed.runs.map((listedRun) => listedRun.id)).toEqual([run.id]);
  });

  it("cancels a run: queued steps end at once, pending ones never start, and the run ends cancelled", async () => {
    const id = await storePipeline("octo-org/hello-world");
    const run = (await (await api.call("POST", `/api/pipelines/${id}/runs`, { body: { inputs: { target: "lib/" } } })).json()) as { id: string };
    api.shown.length = 0;

    const cancelled = await api.call("POST", `/api/runs/${run.id}/cancel`);
    expect(cancelled.status).toBe(202);
    const body = (await cancelled.json()) as { cancel_requested_by: string; steps: Array<{ name: string; state: string }> };
    expect(body.cancel_requested_by).toBe("an API client");
    expect(body.steps.find((step) => step.name === "report")!.state).toBe("cancelled");
    const stepJobs = await database.db.select().from(jobs).where(eq(jobs.pipelineRunId, run.id));
    expect(stepJobs.map((job) => job.status)).toEqual(["cancelled", "cancelled"]);
    // Each cancelled step is shown on GitHub (showJobChange, which also records its end on the run).
    expect(api.shown.map((job) => job.pipelineStep).sort()).toEqual(["docs", "lint"]);
  });

  it("refuses bad inputs, an unknown pipeline or run, and a repository the app is not installed on, starting nothing", async () => {
    const id = await storePipeline("octo-org/hello-world");
    const before = (await database.db.select().from(jobs)).length;

    const missing = await api.call("POST", `/api/pipelines/${id}/runs`, { body: {} });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(await missing.json())).toContain("it needs `target`");
    const unknownKey = await api.call("POST", `/api/pipelines/${id}/runs`, { body: { inputs: { target: "x", extra: "y" } } });
    expect(JSON.stringify(await unknownKey.json())).toContain("it takes no `extra`");
    const badShape = await api.call("POST", `/api/pipelines/${id}/runs`, { body: { inputs: { target: 3 } } });
    expect(badShape.status).toBe(422);
    const notJson = await api.call("POST", `/api/pipelines/${id}/runs`, { body: "{nope" });
    expect(notJson.status).toBe(400);

    const elsewhere = await storePipeline("octo-org/not-installed");
    const notInstalled = await api.call("POST", `/api/pipelines/${elsewhere}/runs`, { body: { inputs: { target: "x" } } });
    expect(notInstalled.status).toBe(422);
    expect(JSON.stringify(await notInstalled.json())).toContain("not installed on octo-org/not-installed");

    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await api.call("POST", `/api/pipelines/${unknown}/runs`, { body: {} })).status).toBe(404);
    expect((await api.call("GET", `/api/runs/${unknown}`)).status).toBe(404);
    expect((await api.call("POST", `/api/runs/${unknown}/cancel`)).status).toBe(404);
    expect((await database.db.select().from(jobs)).length).toBe(before);
  });

  it("retries a failed step once its run has ended: the run goes on from that step", async () => {
    const id = await storePipeline("octo-org/hello-world");
    const run = (await (await api.call("POST", `/api/pipelines/${id}/runs`, { body: { inputs: { target: "src/" } } })).json()) as { id: string; steps: Array<{ name: string; job_id: string }> };
    const jobOf = (name: string) => run.steps.find((step) => step.name === name)!.job_id;
    const launch = stepLauncher(api.boss);
    const end = async (name: string, status: "failed" | "completed") => {
      const job = await updateJob(database.db, jobOf(name), { status, testsPassed: status === "completed", finishedAt: new Date() });
      await recordStepOutcome(database.pool, run.id, name, stepOutcomeOf(job), launch);
    };
    await end("lint", "failed");

    // docs is still running: the run may not be reopened under it.
    const early = await api.call("POST", `/api/jobs/${jobOf("lint")}/retry`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: string }).error).toContain("still going");

    await end("docs", "completed");
    const ended = (await (await api.call("GET", `/api/runs/${run.id}`)).json()) as { status: string; steps: Array<{ name: string; state: string }> };
    expect(ended.status).toBe("failed");
    expect(ended.steps.map((step) => step.state)).toEqual(["failed", "completed", "cancelled"]);

    api.shown.length = 0;
    expect((await api.call("POST", `/api/jobs/${jobOf("lint")}/retry`)).status).toBe(202);
    const reopened = (await (await api.call("GET", `/api/runs/${run.id}`)).json()) as { status: string; steps: Array<{ name: string; state: string; job_id: string | null }> };
    expect(reopened.status).toBe("running");
    expect(reopened.steps.map((step) => [step.name, step.state, step.job_id])).toEqual([
      ["lint", "running", jobOf("lint")],
      ["docs", "completed", jobOf("docs")],
      ["report", "pending", null],
    ]);
    // Shown through showJobChange, which shows the reopened run with the step.
    expect(api.shown.map((shown) => shown.id)).toEqual([jobOf("lint")]);

    // The retried step succeeds this time: the step after it starts.
    await end("lint", "completed");
    const resumed = (await (await api.call("GET", `/api/runs/${run.id}`)).json()) as { steps: Array<{ name: string; state: string }> };
    expect(resumed.steps.find((step) => step.name === "report")!.state).toBe("running");
  });
});
