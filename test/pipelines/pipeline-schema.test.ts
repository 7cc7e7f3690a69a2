import { describe, expect, it } from "vitest";
import { pipelineNameSchema, pipelineSchema } from "../../src/config/pipeline.schema.ts";

const ciFix = {
  description: "Lint, test, report",
  steps: [
    { name: "lint", task: "Run eslint and fix all errors" },
    { name: "test", task: "Run all unit tests", depends_on: ["lint"], on_failure: "continue" },
    { name: "report", task: "Summarize {{steps.test.output.failures}}", depends_on: ["test"] },
  ],
};

function issuesOf(value: unknown): { path: PropertyKey[]; message: string }[] {
  const parsed = pipelineSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map(({ path, message }) => ({ path, message }));
}

describe("pipelineSchema", () => {
  it("accepts the documented pipeline and makes on_failure stop by default", () => {
    const parsed = pipelineSchema.parse(ciFix);
    expect(parsed.steps.map((step) => step.on_failure)).toEqual(["stop", "continue", "stop"]);
    expect(parsed.steps[2]).toEqual({ name: "report", task: "Summarize {{steps.test.output.failures}}", depends_on: ["test"], on_failure: "stop" });
  });

  it("rejects unknown keys on the pipeline and on a step", () => {
    expect(issuesOf({ ...ciFix, timeout: 5 })).toEqual([{ path: [], message: expect.stringContaining('"timeout"') }]);
    expect(issuesOf({ steps: [{ name: "a", task: "x", needs: ["b"] }] })).toEqual([{ path: ["steps", 0], message: expect.stringContaining('"needs"') }]);
  });

  it("takes 1 to 50 steps", () => {
    expect(issuesOf({ steps: [] })).toEqual([{ path: ["steps"], message: "a pipeline needs at least one step" }]);
    const steps = Array.from({ length: 51 }, (_, index) => ({ name: `s${index}`, task: "x" }));
    expect(issuesOf({ steps: steps.slice(0, 50) })).toEqual([]);
    expect(issuesOf({ steps })).toEqual([{ path: ["steps"], message: "a pipeline has at most 50 steps" }]);
  });

  it("wants a non-empty task of at most 20k characters", () => {
    expect(issuesOf({ steps: [{ name: "a", task: "" }] })).toEqual([{ path: ["steps", 0, "task"], message: "a task cannot be empty" }]);
    expect(issuesOf({ steps: [{ name: "a", task: "x".repeat(20_000) }] })).toEqual([]);
    expect(issuesOf({ steps: [{ name: "a", task: "x".repeat(20_001) }] })).toEqual([{ path: ["steps", 0, "task"], message: expect.stringContaining("20000") }]);
    expect(issuesOf({ steps: [{ name: "a" }] })[0].path).toEqual(["steps", 0, "task"]);
  });

  it("wants slug step names, in name and in depends_on", () => {
    for (const good of ["a", "Lint", "0", "run_tests-2", "x".repeat(63)]) expect(issuesOf({ steps: [{ name: good, task: "x" }] })).toEqual([]);
    for (const bad of ["", "-a", "_a", "a b", "a.b", "é", "x".repeat(64), "{{x}}"]) {
      expect(issuesOf({ steps: [{ name: bad, task: "x" }] })).toEqual([{ path: ["steps", 0, "name"], message: expect.stringMatching(/^a step name is 1 to 63/) }]);
    }
    expect(issuesOf({ steps: [{ name: "a", task: "x", depends_on: ["b c"] }] })).toEqual([{ path: ["steps", 0, "depends_on", 0], message: expect.stringMatching(/^a step name/) }]);
  });

  it("only knows stop and continue", () => {
    expect(issuesOf({ steps: [{ name: "a", task: "x", on_failure: "ignore" }] })[0].path).toEqual(["steps", 0, "on_failure"]);
  });

  it("wants slug pipeline names", () => {
    expect(pipelineNameSchema.safeParse("ci-fix").success).toBe(true);
    expect(pipelineNameSchema.safeParse("ci.fix").success).toBe(false);
    expect(pipelineNameSchema.safeParse("CI Fix").success).toBe(false);
  });
});
