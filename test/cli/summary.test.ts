import { describe, expect, it } from "vitest";
import { exitCodeOf, renderSummary } from "../../src/cli/summary.ts";
import { jobFixture } from "../support/job-fixture.ts";

const startedAt = new Date("2026-11-24T10:00:00Z");
const finishedAt = new Date("2026-11-24T10:03:20Z");

describe("exitCodeOf", () => {
  it("is 0 only for a job that succeeded without failing checks", () => {
    expect(exitCodeOf(jobFixture({ status: "completed", testsPassed: true }))).toBe(0);
    expect(exitCodeOf(jobFixture({ status: "completed", testsPassed: null }))).toBe(0);
    expect(exitCodeOf(jobFixture({ status: "completed", testsPassed: false }))).toBe(1);
    expect(exitCodeOf(jobFixture({ status: "failed", testsPassed: true }))).toBe(1);
    expect(exitCodeOf(jobFixture({ status: "timed_out" }))).toBe(1);
    expect(exitCodeOf(jobFixture({ status: "cancelled" }))).toBe(1);
    expect(exitCodeOf(jobFixture({ status: "running" }))).toBe(1);
  });
});

describe("the summary", () => {
  it("lists the branch, the files, checks, iterations, tokens, cost and duration", () => {
    const job = jobFixture({ status: "completed", phase: "deliver", testsPassed: true, iterations: 2, totalTokensIn: 12_345, totalTokensOut: 678, totalCost: 0.01234, timings: { build: 90_000, total: 125_000 }, startedAt, finishedAt });
    expect(renderSummary(job, { branch: "agent/add-greet", files: ["src/greet.ts", "test/greet.test.ts"] })).toBe(
      [
        "Result:     done",
        "Branch:     agent/add-greet (see it with: git log agent/add-greet)",
        "Files:      2 changed",
        "  src/greet.ts",
        "  test/greet.test.ts",
        "Checks:     passed",
        "Iterations: 2",
        "Tokens:     12,345 in / 678 out",
        "Cost:       $0.0123",
        "Duration:   2m 5s",
        "",
      ].join("\n"),
    );
  });

  it("takes the duration from the clock times when the timings have no total, and counts files past twenty", () => {
    const job = jobFixture({ status: "completed", testsPassed: null, startedAt, finishedAt });
    const files = Array.from({ length: 23 }, (_, index) => `f${index}.ts`);
    const text = renderSummary(job, { branch: "agent/x", files });
    expect(text).toContain("Duration:   3m 20s");
    expect(text).toContain("Checks:     none found to run");
    expect(text).toContain("  f19.ts\n  … and 3 more\n");
    expect(text).not.toContain("f20.ts");
  });

  it("says the checks still fail and what to do, for a job that finished with failing checks", () => {
    const text = renderSummary(jobFixture({ status: "completed", testsPassed: false, startedAt, finishedAt }), { branch: "agent/x", files: ["a.ts"] });
    expect(text).toContain("Result:     finished, but the checks still fail");
    expect(text).toContain("Checks:     failed");
    expect(text).toMatch(/Next step: look at the failing checks on the branch/);
  });

  it("names the failure, quotes its message and gives a next step", () => {
    const job = jobFixture({ status: "failed", phase: "build", failureKind: "budget", failureMessage: "the job passed its cost limit of $0.50\n(spent $0.52)", startedAt, finishedAt });
    const text = renderSummary(job, { branch: null, files: [] });
    expect(text).toContain("Result:     failed: cost limit reached");
    expect(text).toContain("Branch:     none: nothing was committed");
    expect(text).toContain("Checks:     not run");
    expect(text).toContain("Reason:\n  the job passed its cost limit of $0.50\n  (spent $0.52)\n");
    expect(text).toContain("Next step: split the task into smaller ones, or raise --max-cost.");
  });

  it("treats a timed-out job as a timeout and an unknown failure kind as internal", () => {
    expect(renderSummary(jobFixture({ status: "timed_out", startedAt, finishedAt }), { branch: null, files: [] })).toContain("failed: time limit reached");
    expect(renderSummary(jobFixture({ status: "failed", failureKind: "martian", startedAt, finishedAt }), { branch: null, files: [] })).toContain("failed: internal error");
  });

  it("has no failure lines for a success", () => {
    const text = renderSummary(jobFixture({ status: "completed", testsPassed: true, startedAt, finishedAt }), { branch: "agent/x", files: [] });
    expect(text).not.toMatch(/Reason|Next step/);
  });
});
