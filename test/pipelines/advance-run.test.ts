import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordStepOutcome, startRun as startPipelineRun, type StepLauncher } from "../../src/pipelines/advance-run.ts";
import type { Pipeline } from "../../src/config/pipeline.schema.ts";
import { pipelineRuns, type PipelineRun } from "../../src/store/pipeline-runs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
/** A second pool: another worker process's connections to the same database. */
let otherWorker: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  otherWorker = new pg.Pool({ connectionString: database.url, max: 4 });
});
afterAll(async () => {
  await otherWorker.end();
  await database.drop();
});

function step(name: string, task: string, extra: Partial<Pipeline["steps"][number]> = {}): Pipeline["steps"][number] {
  return { name, task, on_failure: "stop", ...extra };
}

/** A run started as the app starts one: inserted, and its first steps launched, in one transaction. */
async function startRun(steps: Pipeline["steps"], launch: StepLauncher, inputs: Record<string, string> = {}): Promise<PipelineRun> {
  const values = { installationId: 1, repoId: 2, repoOwner: "o", repoName: "r", issueNumber: 7, pipelineName: "ci-fix", definition: { steps }, inputs, requesterLogin: "octocat" };
  const run = await startPipelineRun(database.pool, values, launch);
  return run!;
}

/** A launcher that records what it started, with a job id per step. */
function recordingLauncher(): { launch: StepLauncher; started: Array<{ runId: string; name: string; task: string }> } {
  const started: Array<{ runId: string; name: string; task: string }> = [];
  return {
    started,
    launch: async (_tx, _client, run, stepToStart) => {
      started.push({ runId: run.id, ...stepToStart });
      return `job-${run.id.slice(0, 8)}-${stepToStart.name}`;
    },
  };
}

describe("advancing a pipeline run", () => {
  it("runs steps in DAG order, passing a step's output into a later task as fenced data", async () => {
    const { launch, started } = recordingLauncher();
    const run = await startRun([step("lint", "Lint {{inputs.target}}"), step("test", "Fix {{steps.lint.output.count}} problems", { depends_on: ["lint"] })], launch, { target: "src/" });
    expect(run).toMatchObject({ status: "running", steps: { lint: { state: "running", jobId: `job-${run.id.slice(0, 8)}-lint` } } });
    expect(started.map((entry) => entry.name)).toEqual(["lint"]);
    expect(started[0]!.task).toContain("src/");

    await recordStepOutcome(database.pool, run.id, "lint", { state: "completed", output: { count: 3 } }, launch);
    expect(started.map((entry) => entry.name)).toEqual(["lint", "test"]);
    expect(started[1]!.task).toMatch(/Fix[\s\S]*```text\n3\n```[\s\S]*problems/);

    const done = await recordStepOutcome(database.pool, run.id, "test", { state: "completed" }, launch);
    expect(done).toMatchObject({ status: "completed", steps: { lint: { state: "completed", output: { count: 3 } }, test: { state: "completed" } } });
    expect(done!.finishedAt).toBeInstanceOf(Date);
  });

  it("cancels what depends on a failed `stop` step, and lets a `continue` step's dependents run", async () => {
    const { launch, started } = recordingLauncher();
    const run = await startRun(
      [
        step("a", "a"),
        step("b", "b", { depends_on: ["a"], on_failure: "continue" }),
        step("c", "c", { depends_on: ["b"] }),
        step("d", "d", { depends_on: ["a"] }),
        step("e", "e", { depends_on: ["d"] }),
      ],
      launch,
    );
    await recordStepOutcome(database.pool, run.id, "a", { state: "completed" }, launch);
    await recordStepOutcome(database.pool, run.id, "b", { state: "failed" }, launch);
    const afterD = await recordStepOutcome(database.pool, run.id, "d", { state: "failed" }, launch);
    expect(started.map((entry) => entry.name).sort()).toEqual(["a", "b", "c", "d"]);
    expect(afterD?.steps.e).toEqual({ state: "cancelled" });
    const done = await recordStepOutcome(database.pool, run.id, "c", { state: "completed" }, launch);
    expect(done?.status).toBe("failed");
  });

  it("fails a step whose task names an output that is not there, without a job, and cancels what follows", async () => {
    const { launch, started } = recordingLauncher();
    const run = await startRun([step("a", "a"), step("b", "use {{steps.a.output.missing}}", { depends_on: ["a"] }), step("c", "c", { depends_on: ["b"] })], launch);
    const done = await recordStepOutcome(database.pool, run.id, "a", { state: "completed", output: { other: 1 } }, launch);
    expect(started.map((entry) => entry.name)).toEqual(["a"]);
    expect(done).toMatchObject({ status: "failed", steps: { b: { state: "failed" }, c: { state: "cancelled" } } });
    expect(done!.steps.b!.error).toContain("missing");
  });

  it("starts a step exactly once when the steps it waits for finish at the same moment on two workers", async () => {
    for (let round = 0; round < 10; round++) {
      const { launch, started } = recordingLauncher();
      const run = await startRun([step("a", "a"), step("b", "b", { depends_on: ["a"] }), step("c", "c", { depends_on: ["a"] }), step("d", "d", { depends_on: ["b", "c"] })], launch);
      await recordStepOutcome(database.pool, run.id, "a", { state: "completed" }, launch);
      // b and c end together, each reported by its own worker, and b's end is reported twice.
      await Promise.all([
        recordStepOutcome(database.pool, run.id, "b", { state: "completed" }, launch),
        recordStepOutcome(otherWorker, run.id, "c", { state: "completed" }, launch),
        recordStepOutcome(otherWorker, run.id, "b", { state: "completed" }, launch),
      ]);
      expect(started.filter((entry) => entry.name === "d")).toHaveLength(1);
      expect(started.map((entry) => entry.name).sort()).toEqual(["a", "b", "c", "d"]);
    }
  });

  it("changes nothing when starting a step fails: the run and its first jobs commit together or not at all", async () => {
    const failing: StepLauncher = async () => {
      throw new Error("the queue is down");
    };
    const before = await database.db.select().from(pipelineRuns);
    await expect(startRun([step("a", "unique task of the failed start")], failing)).rejects.toThrow("the queue is down");
    expect(await database.db.select().from(pipelineRuns)).toHaveLength(before.length);
  });
});
