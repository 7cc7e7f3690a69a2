import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PipelineDefinition } from "../../src/config/pipeline.schema.ts";
import { parsePipeline, validatePipeline } from "../../src/config/validate-pipeline.ts";
import { arbitraryPipeline } from "../pipelines/arbitrary-pipeline.ts";

const ciFix: PipelineDefinition = {
  steps: [
    { name: "lint", task: "Run eslint and fix all errors" },
    { name: "test", task: "Run all unit tests", depends_on: ["lint"], on_failure: "continue" },
    { name: "report", task: "Summarize {{steps.test.output.failures}} and {{ steps.lint.output.fixed }} for {{inputs.target}}", depends_on: ["test"] },
  ],
};

/** ciFix with one step changed. */
function withStep(index: number, change: Partial<PipelineDefinition["steps"][number]>): PipelineDefinition {
  return { steps: ciFix.steps.map((step, i) => (i === index ? { ...step, ...change } : step)) };
}

describe("validatePipeline", () => {
  it("accepts the documented pipeline, outputs of transitive upstream steps included", () => {
    expect(validatePipeline(ciFix)).toEqual([]);
  });

  it("reports a repeated step name at the repeat", () => {
    const problems = validatePipeline({ steps: [...ciFix.steps, { name: "lint", task: "again" }] });
    expect(problems).toEqual([{ path: ["steps", 3, "name"], message: 'another step is already named "lint": step names must be unique' }]);
  });

  it("reports depends_on naming no step, listing the steps there are", () => {
    expect(validatePipeline(withStep(1, { depends_on: ["lint", "lnit"] }))).toEqual([
      { path: ["steps", 1, "depends_on", 1], message: '"lnit" is not a step of this pipeline (steps: lint, test, report)' },
    ]);
  });

  it("reports a step depending on itself, once, not as a cycle too", () => {
    expect(validatePipeline(withStep(0, { depends_on: ["lint"] }))).toEqual([{ path: ["steps", 0, "depends_on", 0], message: 'step "lint" depends on itself' }]);
  });

  it("names a cycle in run order and points at the entry that depends on a later step", () => {
    expect(validatePipeline(withStep(0, { depends_on: ["report"] }))).toEqual([
      { path: ["steps", 0, "depends_on", 0], message: "the steps wait for each other in a cycle, so none of them can start: report → lint → test → report" },
    ]);
    expect(validatePipeline({ steps: [{ name: "lint", task: "x", depends_on: ["test"] }, { name: "test", task: "y", depends_on: ["lint"] }] })).toEqual([
      { path: ["steps", 0, "depends_on", 0], message: expect.stringMatching(/: test → lint → test$/) },
    ]);
  });

  it("reports templates using a step that is not upstream, is the step itself, or does not exist", () => {
    const problems = validatePipeline(withStep(1, { task: "Use {{steps.report.output.x}}, {{steps.test.output.y}} and {{steps.nope.output.z}}" }));
    expect(problems).toEqual([
      { path: ["steps", 1, "task"], message: '{{steps.report.output.x}}: "report" is not upstream of "test": add it to depends_on (directly or through another step) to use its output' },
      { path: ["steps", 1, "task"], message: "{{steps.test.output.y}}: a step cannot use its own output" },
      { path: ["steps", 1, "task"], message: '{{steps.nope.output.z}}: there is no step "nope"' },
    ]);
  });

  it("reports a sibling's output: running in parallel, it may not have finished", () => {
    const steps = [
      { name: "a", task: "x" },
      { name: "b", task: "x", depends_on: ["a"] },
      { name: "c", task: "{{steps.b.output.k}}", depends_on: ["a"] },
    ];
    expect(validatePipeline({ steps })).toEqual([{ path: ["steps", 2, "task"], message: expect.stringMatching(/^\{\{steps\.b\.output\.k\}\}: "b" is not upstream of "c"/) }]);
  });

  it("reports malformed expressions", () => {
    expect(validatePipeline(withStep(2, { task: "Use {{ steps.test.outputs.failures }} and {{inputs.a" }))).toEqual([
      { path: ["steps", 2, "task"], message: expect.stringMatching(/^malformed expression \{\{ steps\.test\.outputs\.failures \}\}: the only expressions are/) },
      { path: ["steps", 2, "task"], message: expect.stringMatching(/^malformed expression \{\{inputs\.a: "\{\{" is never closed/) },
    ]);
  });

  it("reports every problem at once", () => {
    const problems = validatePipeline({
      steps: [
        { name: "a", task: "{{steps.b.output.x}}", depends_on: ["b", "ghost"] },
        { name: "b", task: "y", depends_on: ["a"] },
        { name: "b", task: "z" },
      ],
    });
    expect(problems.map((problem) => problem.path)).toEqual([
      ["steps", 2, "name"],
      ["steps", 0, "depends_on", 1],
      ["steps", 0, "depends_on", 0],
    ]);
  });

  it("accepts any DAG, whatever the order its steps are written in", () => {
    fc.assert(
      fc.property(arbitraryPipeline({ maxSteps: 50 }), ({ definition }) => {
        expect(validatePipeline(definition)).toEqual([]);
        expect(parsePipeline(definition)).toMatchObject({ ok: true });
      }),
    );
  });

  it("finds a cycle whenever a back edge is added, and points into it", () => {
    const withEdge = arbitraryPipeline().filter(({ upstream }) => [...upstream.values()].some((set) => set.size > 0));
    fc.assert(
      fc.property(withEdge, fc.nat(), fc.nat(), ({ definition, upstream }, pickStep, pickUpstream) => {
        const downstream = [...upstream.entries()].filter(([, set]) => set.size > 0);
        const [late, above] = downstream[pickStep % downstream.length];
        const early = [...above][pickUpstream % above.size];
        const steps = definition.steps.map((step) => (step.name === early ? { ...step, depends_on: [...(step.depends_on ?? []), late] } : step));
        const cycles = validatePipeline({ steps }).filter((problem) => problem.message.includes("in a cycle"));
        expect(cycles.length).toBeGreaterThan(0);
        for (const { path, message } of cycles) {
          const [, stepIndex, , dependencyIndex] = path as [string, number, string, number];
          const named = message.slice(message.lastIndexOf(": ") + 2).split(" → ");
          expect(named[0]).toBe(named.at(-1));
          expect(named).toContain(steps[stepIndex].name);
          expect(named).toContain(steps[stepIndex].depends_on?.[dependencyIndex]);
        }
      }),
    );
  });

  it("reports a template using any step that is not upstream", () => {
    fc.assert(
      fc.property(arbitraryPipeline(), fc.nat(), fc.nat(), ({ definition, upstream }, pickUser, pickUsed) => {
        const user = definition.steps[pickUser % definition.steps.length];
        const used = definition.steps[pickUsed % definition.steps.length].name;
        const isUpstream = upstream.get(user.name)?.has(used) ?? false;
        const steps = definition.steps.map((step) => (step === user ? { ...step, task: `${step.task} and {{steps.${used}.output.extra}}` } : step));
        const problems = validatePipeline({ steps });
        expect(problems).toEqual(isUpstream ? [] : [{ path: ["steps", definition.steps.indexOf(user), "task"], message: expect.stringContaining(`{{steps.${used}.output.extra}}`) }]);
      }),
    );
  });
});

describe("parsePipeline", () => {
  it("returns the parsed pipeline, or schema problems, or graph problems, with paths", () => {
    expect(parsePipeline(ciFix)).toEqual({ ok: true, pipeline: { steps: ciFix.steps.map((step) => ({ on_failure: "stop", ...step })) } });
    expect(parsePipeline({ steps: [{ name: "a", task: "x", extra: 1 }] })).toEqual({ ok: false, problems: [{ path: ["steps", 0, "extra"], message: expect.stringContaining('"extra"') }] });
    expect(parsePipeline("nope")).toMatchObject({ ok: false, problems: [{ path: [] }] });
    expect(parsePipeline(withStep(0, { depends_on: ["report"] }))).toMatchObject({ ok: false, problems: [{ path: ["steps", 0, "depends_on", 0] }] });
  });
});
