import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EvalInputError } from "../../src/eval/eval-input-error.ts";
import { renderMarkdown } from "../../src/eval/report-markdown.ts";
import { CHECK_OUTPUT_LIMIT, parseReport, readReport, summarize, tailOf, taskResultOf, writeReport, type EvalTaskResult } from "../../src/eval/report.ts";
import { jobFixture } from "../support/job-fixture.ts";
import { evalTaskResult } from "./eval-fixtures.ts";

const models = { explore: "scripted/explore", plan: "scripted/plan", build: "scripted/build" };
const startedAt = new Date("2026-11-24T10:00:00Z");
const finishedAt = new Date("2026-11-24T10:04:00Z");

function reportOf(tasks: EvalTaskResult[]) {
  return summarize({ suite: "basic", startedAt, finishedAt, models, tasks });
}

describe("taskResultOf", () => {
  it("takes usage and phase times from the job row and keeps the end of the check output", () => {
    const job = jobFixture({ status: "completed", iterations: 2, totalTokensIn: 1_000, totalTokensOut: 200, totalCost: 0.0123, timings: { prepare: 2_000, build: 40_000, verify: 9_000, total: 52_000 } });
    const output = `${"x".repeat(5_000)}\n1 passing\n`;
    const result = taskResultOf({ id: "greet", title: "Add greet()", tags: ["feature"] }, job, { success: true, output }, 61_000.4);
    expect(result).toEqual({
      id: "greet",
      title: "Add greet()",
      tags: ["feature"],
      success: true,
      checkOutput: expect.stringMatching(/^\[… earlier output cut …\]\nx+\n1 passing\n$/),
      jobStatus: "completed",
      failureKind: null,
      iterations: 2,
      tokensIn: 1_000,
      tokensOut: 200,
      costUsd: 0.0123,
      wallMs: 61_000,
      phaseMs: { prepare: 2_000, build: 40_000, verify: 9_000 },
      slowestPhase: "build",
    });
    expect(Buffer.byteLength(result.checkOutput)).toBe(CHECK_OUTPUT_LIMIT);
  });

  it("has no slowest phase for a job that never ran one", () => {
    const result = taskResultOf({ id: "t", title: "T", tags: [] }, jobFixture({ status: "failed", failureKind: "sandbox" }), { success: false, output: "" }, 10);
    expect(result).toMatchObject({ slowestPhase: null, phaseMs: {}, failureKind: "sandbox", jobStatus: "failed" });
  });
});

describe("tailOf", () => {
  it("keeps short text whole and never cuts a character in two", () => {
    expect(tailOf("short", 100)).toBe("short");
    const cut = tailOf("é".repeat(100), 40);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(40);
    expect(cut).not.toContain("\uFFFD");
    expect(cut.endsWith("éé")).toBe(true);
  });
});

describe("summarize", () => {
  it("adds up the tasks, in id order", () => {
    const report = reportOf([
      evalTaskResult({ id: "b", success: false, iterations: 3, tokensIn: 100, tokensOut: 10, costUsd: 0.2, wallMs: 30_000, phaseMs: { build: 20_000, verify: 5_000 } }),
      evalTaskResult({ id: "a", success: true, iterations: 1, tokensIn: 50, tokensOut: 5, costUsd: 0.1, wallMs: 10_000, phaseMs: { build: 4_000, explore: 3_000 } }),
    ]);
    expect(report.tasks.map((task) => task.id)).toEqual(["a", "b"]);
    expect(report.startedAt).toBe("2026-11-24T10:00:00.000Z");
    // 0.1 + 0.2 in floating point is 0.30000000000000004; the totals are added in micro-dollars.
    expect(report.totals).toEqual({ tasks: 2, succeeded: 1, successRate: 0.5, iterations: 4, tokensIn: 150, tokensOut: 15, costUsd: 0.3, wallMs: 40_000, phaseMs: { build: 24_000, verify: 5_000, explore: 3_000 } });
  });

  it("gives a rate of 0 for no tasks", () => {
    expect(reportOf([]).totals.successRate).toBe(0);
  });
});

describe("renderMarkdown", () => {
  const report = reportOf([
    evalTaskResult({ id: "add-greet", success: true, iterations: 1, tokensIn: 12_345, tokensOut: 678, costUsd: 0.0123, wallMs: 65_000, phaseMs: { build: 45_000, verify: 10_000 } }),
    evalTaskResult({ id: "fix|pipe", title: "Fix the pipe", success: false, jobStatus: "failed", failureKind: "tests", iterations: 3, tokensIn: 100, tokensOut: 10, costUsd: 0.5, wallMs: 120_000, phaseMs: { build: 100_000 }, checkOutput: "AssertionError: expected 1\n```\n" }),
  ]);
  const markdown = renderMarkdown(report);

  it("has a row per task with its result, usage, time and slowest phase", () => {
    expect(markdown).toContain("| task | result | iterations | tokens in / out | cost | wall time | slowest phase |");
    expect(markdown).toContain("| add-greet | ✅ | 1 | 12,345 / 678 | $0.0123 | 1m 5s | build (45s) |");
    expect(markdown).toContain("| fix\\|pipe | ❌ tests | 3 | 100 / 10 | $0.5000 | 2m 0s | build (1m 40s) |");
  });

  it("ends the table with the totals and shows where the time went", () => {
    expect(markdown).toContain("**1 of 2 tasks succeeded (50%)**");
    expect(markdown).toContain("| **total** | 1/2 (50%) | 4 | 12,445 / 688 | $0.5123 | 3m 5s | build (2m 25s) |");
    expect(markdown).toContain("## Where the time went\n\n| phase | time | share |\n|---|---:|---:|\n| build | 2m 25s | 94% |\n| verify | 10s | 6% |");
  });

  it("shows a failed task's check output in a fence the output cannot close", () => {
    expect(markdown).toContain("### fix|pipe: Fix the pipe\n\njob failed (tests)\n\n````\nAssertionError: expected 1\n```\n````");
    expect(markdown).not.toContain("### add-greet");
  });

  it("names the models and the suite's own time", () => {
    expect(markdown).toContain("# Eval: basic");
    expect(markdown).toContain("· 4m 0s · models: explore `scripted/explore`, plan `scripted/plan`, build `scripted/build`");
  });
});

describe("reading a report back", () => {
  const report = reportOf([evalTaskResult({ id: "a" }), evalTaskResult({ id: "b", success: false, failureKind: "timeout" })]);

  it("round-trips through report.json and writes report.md beside it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "eval-report-"));
    try {
      const out = path.join(dir, "nested", "run-1");
      const written = await writeReport(out, report, "## Compared\n");
      expect(written).toEqual({ json: path.join(out, "report.json"), markdown: path.join(out, "report.md") });
      expect(await readReport(written.json)).toEqual(report);
      expect(await readFile(written.markdown, "utf8")).toBe(`${renderMarkdown(report)}\n## Compared\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names what is wrong in a file that is not a report", () => {
    const broken = { ...report, tasks: [{ ...report.tasks[0], costUsd: "cheap" }], totals: undefined };
    const error = catchError(() => parseReport(JSON.stringify(broken), "old.json"));
    expect(error.problems[0]).toBe("old.json: not an eval report (report.json of running-agent eval):");
    expect(error.problems).toContainEqual(expect.stringMatching(/^ {2}old\.json: tasks\.0\.costUsd: /));
    expect(error.problems).toContainEqual(expect.stringMatching(/^ {2}old\.json: totals: /));
  });

  it("names a file that is not JSON, or cannot be read", async () => {
    expect(catchError(() => parseReport("{", "old.json")).problems[0]).toMatch(/^old\.json: not valid JSON: /);
    await expect(readReport("/nonexistent/report.json")).rejects.toThrow(/^\/nonexistent\/report\.json: cannot be read: /);
  });
});

function catchError(fn: () => unknown): EvalInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EvalInputError) return error;
    throw error;
  }
  throw new Error("expected an EvalInputError");
}
