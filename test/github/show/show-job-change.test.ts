import nock from "nock";
import pino from "pino";
import type { PgBoss } from "pg-boss";
import type { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../../src/pipelines/advance-run.ts";
import { settleAndShowForgottenSteps, settleAndShowStep, showStaleRuns, type ShowDeps } from "../../../src/github/show/show-job-change.ts";
import { stepLauncher, stepOutcomeOf } from "../../../src/pipelines/step-jobs.ts";
import type { Pipeline } from "../../../src/config/pipeline.schema.ts";
import { startQueue } from "../../../src/queue/boss.ts";
import { findJob, updateJob } from "../../../src/store/job-queries.ts";
import { pipelineRuns, type PipelineRun } from "../../../src/store/pipeline-runs.sql.ts";
import { eq } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { GITHUB_API } from "../../support/github-api.ts";
import { jobFixture } from "../../support/job-fixture.ts";
import { TestOctokit } from "../../support/probot.ts";

let database: TestDatabase;
let boss: PgBoss;
let deps: ShowDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
  deps = { pool: database.pool, db: database.db, boss, octokitFor: async () => new TestOctokit({ auth: "ghs_test" }) as unknown as ProbotOctokit, log: pino({ level: "silent" }) };
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** A checkpoint whose last build round replied `summary`. */
function builtWith(summary: string) {
  return { build: { iteration: 1, patch: null, summary, errorHistory: [], debugMode: false, verification: { passed: true, testsPassed: true, summary: "" } } };
}

function step(name: string, extra: Partial<Pipeline["steps"][number]> = {}): Pipeline["steps"][number] {
  return { name, task: `do ${name}`, on_failure: "stop", ...extra };
}

/** A run started through the REST API (no issue: nothing to comment on). */
async function runOf(steps: Pipeline["steps"], issueNumber: number | null = null): Promise<PipelineRun> {
  const run = await startRun(
    database.pool,
    { installationId: 4242, repoId: 1296269, repoOwner: "octo-org", repoName: "hello-world", cloneUrl: "https://github.com/octo-org/hello-world.git", defaultBranch: "main", pipelineName: "p", definition: { steps }, requesterLogin: "api", branch: "agent/p-0000", issueNumber },
    stepLauncher(boss),
  );
  return run!;
}

async function readRun(id: string): Promise<PipelineRun> {
  const [run] = await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, id));
  return run!;
}

describe("how a step's job ended, for its run", () => {
  it("succeeds with the JSON object its reply ends with; fails when the job failed or its checks still fail; is cancelled with its job", () => {
    const reply = 'Counted.\n```json\n{"count": 3}\n```';
    expect(stepOutcomeOf(jobFixture({ status: "completed", testsPassed: true, checkpoint: builtWith(reply) }))).toEqual({ state: "completed", output: { count: 3 } });
    expect(stepOutcomeOf(jobFixture({ status: "completed", testsPassed: null, checkpoint: builtWith("no output") }))).toEqual({ state: "completed", output: null });
    expect(stepOutcomeOf(jobFixture({ status: "completed", testsPassed: false }))).toEqual({ state: "failed" });
    expect(stepOutcomeOf(jobFixture({ status: "failed" }))).toEqual({ state: "failed" });
    expect(stepOutcomeOf(jobFixture({ status: "timed_out" }))).toEqual({ state: "failed" });
    expect(stepOutcomeOf(jobFixture({ status: "cancelled" }))).toEqual({ state: "cancelled" });
  });
});

describe("settling a step whose job ended", () => {
  it("records the end, starts the next step as a job and shows its check run on GitHub", async () => {
    const run = await runOf([step("a"), step("b", { depends_on: ["a"] })]);
    const first = await updateJob(database.db, run.steps.a!.jobId!, { status: "completed", testsPassed: true, finishedAt: new Date(), checkpoint: builtWith('```json\n{"n": 1}\n```') });
    const seen: Array<Record<string, unknown>> = [];
    nock(GITHUB_API)
      .get("/repos/octo-org/hello-world/git/ref/heads%2Fmain")
      .reply(200, { object: { sha: "c".repeat(40) } })
      .post("/repos/octo-org/hello-world/check-runs", (body: Record<string, unknown>) => Boolean(seen.push(body)))
      .reply(201, { id: 7001 });

    await settleAndShowStep(deps, first);
    // A second report of the same end (a redelivered job, the sweep) changes nothing.
    await settleAndShowStep(deps, first);

    const after = await readRun(run.id);
    expect(after.steps).toMatchObject({ a: { state: "completed", output: { n: 1 } }, b: { state: "running" } });
    expect(seen).toEqual([expect.objectContaining({ name: "agent: p/b", head_sha: "c".repeat(40) })]);
    expect(await findJob(database.db, after.steps.b!.jobId!)).toMatchObject({ pipelineStep: "b", status: "queued", checkRunId: 7001 });
  });

  it("sweeps up steps whose job ended without the run hearing of it, once", async () => {
    const run = await runOf([step("a"), step("b", { depends_on: ["a"] })]);
    // Cancelled while queued by a process that died before telling the run.
    await updateJob(database.db, run.steps.a!.jobId!, { status: "cancelled", finishedAt: new Date() });

    expect(await settleAndShowForgottenSteps(deps)).toBe(1);
    expect(await readRun(run.id)).toMatchObject({ status: "cancelled", steps: { a: { state: "cancelled" }, b: { state: "cancelled" } } });
    expect(await settleAndShowForgottenSteps(deps)).toBe(0);
  });

  it("shows a run again, in the sweep, until GitHub has been shown its status", async () => {
    // Shown once while running; then GitHub never heard that it ended (the showing failed).
    const run = await runOf([step("a")], 7);
    await database.db.update(pipelineRuns).set({ shownStatus: "running", commentId: 5301 }).where(eq(pipelineRuns.id, run.id));
    await updateJob(database.db, run.steps.a!.jobId!, { status: "cancelled", finishedAt: new Date() });
    await database.pool.query("update pipeline_runs set status = 'cancelled', steps = jsonb_set(steps, '{a,state}', '\"cancelled\"') where id = $1", [run.id]);
    const edits: string[] = [];
    const comment = "/repos/octo-org/hello-world/issues/comments/5301";
    nock(GITHUB_API).patch(comment).reply(502, { message: "Bad Gateway" });

    expect(await showStaleRuns(deps)).toBe(0);
    expect(await readRun(run.id)).toMatchObject({ status: "cancelled", shownStatus: "running" });

    nock(GITHUB_API)
      .patch(comment, (body: { body: string }) => Boolean(edits.push(body.body)))
      .reply(200, { id: 5301 });
    expect(await showStaleRuns(deps)).toBe(1);
    expect(await readRun(run.id)).toMatchObject({ shownStatus: "cancelled" });
    expect(edits.at(-1)).toContain("⏹️ cancelled");
    expect(await showStaleRuns(deps)).toBe(0);
  });
});
