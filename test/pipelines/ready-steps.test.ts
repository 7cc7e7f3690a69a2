import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PipelineDefinition } from "../../src/config/pipeline.schema.ts";
import { nextTransitionOf, readyStepsOf } from "../../src/pipelines/ready-steps.ts";
import { STEP_STATES, type StepState } from "../../src/store/pipeline-runs.sql.ts";
import { arbitraryPipeline } from "./arbitrary-pipeline.ts";

const ciFix: PipelineDefinition = {
  steps: [
    { name: "lint", task: "Run eslint and fix all errors" },
    { name: "test", task: "Run all unit tests", depends_on: ["lint"], on_failure: "continue" },
    { name: "report", task: "Summarize {{steps.test.output.failures}}", depends_on: ["test"] },
  ],
};

// a → (b, c) → d, and e on its own.
const diamond: PipelineDefinition = {
  steps: [
    { name: "d", task: "x", depends_on: ["b", "c"] },
    { name: "b", task: "x", depends_on: ["a"] },
    { name: "c", task: "x", depends_on: ["a"] },
    { name: "a", task: "x" },
    { name: "e", task: "x" },
  ],
};

describe("nextTransitionOf", () => {
  it("runs the documented pipeline in order, going on after a failure with continue", () => {
    expect(nextTransitionOf(ciFix, {})).toEqual({ start: ["lint"], cancel: [], status: "running" });
    expect(nextTransitionOf(ciFix, { lint: "running" })).toEqual({ start: [], cancel: [], status: "running" });
    expect(nextTransitionOf(ciFix, { lint: "completed" })).toEqual({ start: ["test"], cancel: [], status: "running" });
    expect(nextTransitionOf(ciFix, { lint: "completed", test: "failed" })).toEqual({ start: ["report"], cancel: [], status: "running" });
    // The run did not do all it was asked: failed, even though the failure let it go on.
    expect(nextTransitionOf(ciFix, { lint: "completed", test: "failed", report: "completed" })).toEqual({ start: [], cancel: [], status: "failed" });
    expect(nextTransitionOf(ciFix, { lint: "completed", test: "completed", report: "completed" })).toEqual({ start: [], cancel: [], status: "completed" });
  });

  it("cancels everything downstream of a failure with stop in one transition", () => {
    expect(nextTransitionOf(ciFix, { lint: "failed" })).toEqual({ start: [], cancel: ["test", "report"], status: "failed" });
    expect(nextTransitionOf(diamond, { a: "failed", e: "running" })).toEqual({ start: [], cancel: ["d", "b", "c"], status: "running" });
  });

  it("starts steps that are ready together, in parallel, and waits for all of a step's dependencies", () => {
    expect(readyStepsOf(diamond, {})).toEqual(["a", "e"]);
    expect(readyStepsOf(diamond, { a: "completed", e: "running" })).toEqual(["b", "c"]);
    expect(readyStepsOf(diamond, { a: "completed", b: "completed", c: "running", e: "completed" })).toEqual([]);
    expect(readyStepsOf(diamond, { a: "completed", b: "completed", c: "completed", e: "completed" })).toEqual(["d"]);
  });

  it("cancels what depends on a failed branch but lets the other branch finish", () => {
    const states = { a: "completed", b: "failed", c: "running", e: "completed" } as const;
    expect(nextTransitionOf(diamond, states)).toEqual({ start: [], cancel: ["d"], status: "running" });
    expect(nextTransitionOf(diamond, { ...states, c: "completed", d: "cancelled" })).toEqual({ start: [], cancel: [], status: "failed" });
  });

  it("passes a cancellation on downstream, and a run cancelled without failures is cancelled", () => {
    expect(nextTransitionOf(diamond, { a: "cancelled", e: "cancelled" })).toEqual({ start: [], cancel: ["d", "b", "c"], status: "cancelled" });
  });

  it("lets a skipped step's dependents run, and a run with skipped steps succeed", () => {
    expect(nextTransitionOf(ciFix, { lint: "skipped" })).toEqual({ start: ["test"], cancel: [], status: "running" });
    expect(nextTransitionOf(ciFix, { lint: "skipped", test: "completed", report: "completed" }).status).toBe("completed");
  });

  it("reads a missing state as pending and ignores states of steps it does not know", () => {
    const steps = [{ name: "constructor", task: "x" }, { name: "toString", task: "y", depends_on: ["constructor"] }];
    expect(nextTransitionOf({ steps }, { ghost: "failed" })).toEqual({ start: ["constructor"], cancel: [], status: "running" });
    expect(nextTransitionOf({ steps }, Object.fromEntries([["constructor", "completed"]]))).toEqual({ start: ["toString"], cancel: [], status: "running" });
  });

  it("waits for the whole upstream, even when states were set by hand", () => {
    const chain = { steps: [{ name: "a", task: "x" }, { name: "b", task: "x", depends_on: ["a"] }, { name: "c", task: "x", depends_on: ["b"] }] };
    expect(nextTransitionOf(chain, { b: "skipped" })).toEqual({ start: ["a"], cancel: [], status: "running" });
    expect(nextTransitionOf(chain, { a: "running", b: "skipped" })).toEqual({ start: [], cancel: [], status: "running" });
    expect(nextTransitionOf(chain, { a: "completed", b: "skipped" })).toEqual({ start: ["c"], cancel: [], status: "running" });
  });

  it("throws on a pipeline validatePipeline rejects, instead of waiting forever", () => {
    const cycle = { steps: [{ name: "a", task: "x", depends_on: ["b"] }, { name: "b", task: "x", depends_on: ["a"] }] };
    expect(() => nextTransitionOf(cycle, {})).toThrow(/a, b can never start/);
    expect(() => nextTransitionOf({ steps: [{ name: "a", task: "x", depends_on: ["a"] }] }, {})).toThrow(/can never start/);
    expect(() => nextTransitionOf({ steps: [{ name: "a", task: "x", depends_on: ["ghost"] }] }, {})).toThrow(/can never start/);
  });

  it("never starts a step before everything upstream of it has finished and let it go on", () => {
    const state = fc.constantFrom(...STEP_STATES);
    fc.assert(
      fc.property(arbitraryPipeline(), fc.array(state, { minLength: 12, maxLength: 12 }), ({ definition, upstream }, drawn) => {
        const states = Object.fromEntries(definition.steps.map((step, index) => [step.name, drawn[index]]));
        const stepOf = (name: string) => definition.steps.find((step) => step.name === name);
        const { start, cancel } = nextTransitionOf(definition, states);
        const after = (name: string) => (cancel.includes(name) ? "cancelled" : states[name]);
        for (const name of start) {
          expect(states[name]).toBe("pending");
          for (const above of upstream.get(name) ?? []) expect(["completed", "failed", "skipped", "cancelled"]).toContain(after(above));
          for (const dependency of stepOf(name)?.depends_on ?? []) {
            expect(states[dependency] !== "failed" || stepOf(dependency)?.on_failure === "continue").toBe(true);
          }
        }
        for (const name of cancel) {
          expect(states[name]).toBe("pending");
          expect(start).not.toContain(name);
          const blocked = [...(upstream.get(name) ?? [])].some((above) => states[above] === "cancelled" || (states[above] === "failed" && stepOf(above)?.on_failure !== "continue"));
          expect(blocked).toBe(true);
        }
      }),
    );
  });

  it("driven to the end, finishes every step and runs nothing downstream of a failure with stop", () => {
    fc.assert(
      fc.property(arbitraryPipeline(), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.array(fc.nat(), { minLength: 13, maxLength: 13 }), ({ definition, upstream }, succeeds, picks) => {
        const names = definition.steps.map((step) => step.name);
        const stepOf = (name: string) => definition.steps.find((step) => step.name === name);
        const states: Record<string, StepState> = {};
        const ran: string[] = [];
        let status = "running";
        // Each round ends one running step, so a run ends within a round per step (+1).
        for (let round = 0; round <= names.length && status === "running"; round += 1) {
          const transition = nextTransitionOf(definition, states);
          for (const name of transition.cancel) states[name] = "cancelled";
          for (const name of transition.start) {
            expect(ran).not.toContain(name);
            for (const above of upstream.get(name) ?? []) expect(["completed", "failed", "cancelled"]).toContain(states[above]);
            states[name] = "running";
            ran.push(name);
          }
          status = transition.status;
          const running = names.filter((name) => states[name] === "running");
          if (status !== "running") {
            expect(running).toEqual([]);
            break;
          }
          const finishing = running[picks[round] % running.length];
          states[finishing] = succeeds[names.indexOf(finishing)] ? "completed" : "failed";
        }
        expect(status).not.toBe("running");
        for (const name of names) expect(["completed", "failed", "cancelled"]).toContain(states[name]);
        const stoppedBy = (name: string) => states[name] === "failed" && stepOf(name)?.on_failure !== "continue";
        for (const name of ran) expect([...(upstream.get(name) ?? [])].filter(stoppedBy)).toEqual([]);
        for (const name of names.filter((step) => !ran.includes(step))) expect([...(upstream.get(name) ?? [])].some(stoppedBy)).toBe(true);
        const ended = names.map((name) => states[name]);
        expect(status).toBe(ended.includes("failed") ? "failed" : "completed");
        if (succeeds.slice(0, names.length).every(Boolean)) expect(ended.every((state) => state === "completed")).toBe(true);
      }),
    );
  });
});
