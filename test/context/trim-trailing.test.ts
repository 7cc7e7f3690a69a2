/**
 * Trailing runs and line breaks handled in linear time, and the places that used the
 * quadratic patterns these replace, fed the inputs shaped against them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { joinLines, trimTrailing } from "../../src/context/trim-trailing.ts";
import { reportedPerTarget } from "../../src/jobs/follow-up-task.ts";
import { detectProject } from "../../src/verify/detect-project.ts";
import { summarizeTestOutput } from "../../src/verify/test-summary.ts";
import { cell } from "../../src/eval/report-markdown.ts";
import { expectLinearTime } from "../support/linear-time.ts";

describe("trimTrailing and joinLines", () => {
  it("say what the patterns they replace say", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", " ", "\t", "\r", "\n", "*", "_", "\u00a0") }), (text) => {
        expect(trimTrailing(text, "\r")).toBe(text.replace(/\r+$/, ""));
        expect(trimTrailing(text, " \t")).toBe(text.replace(/[ \t]+$/, ""));
        expect(trimTrailing(text, "*_")).toBe(text.replace(/[*_]+$/, ""));
        expect(joinLines(text)).toBe(text.replace(/\s*[\r\n]+\s*/g, " "));
      }),
      { numRuns: 5_000 },
    );
  });

  it("take linear time on a long run that does not end the text", () => {
    expectLinearTime((text) => trimTrailing(text, "\r"), (chars) => `${"\r".repeat(chars - 1)}x`);
    expectLinearTime(joinLines, (chars) => `${" ".repeat(chars - 1)}x`);
  });
});

describe("text an agent or a repository shapes", () => {
  it("a table cell of blanks", () => {
    expectLinearTime(cell, (chars) => `${" ".repeat(chars - 1)}x`);
    expect(cell("a | b\n  c")).toBe("a \\| b c");
  });

  it("a test output of carriage returns", () => {
    expectLinearTime((text) => summarizeTestOutput(text, 4_000), (chars) => `${"\r".repeat(chars - 1)}x`);
  });

  it("a summary line of blanks after `Review comment 1:`", () => {
    expectLinearTime((text) => reportedPerTarget(text, 1), (chars) => `Review comment 1${" ".repeat(chars - 17)}x`);
  });

  it("a Makefile line of blanks without a colon", () => {
    expectLinearTime((text) => detectProject(new Map([["Makefile", text]])), (chars) => `a${" ".repeat(chars - 2)}b`);
    expect(detectProject(new Map([["Makefile", "test lint:: deps\nVAR := 1\n# c: d\n\tbuild: x\nbuild:\n"]])).test).toEqual(["make", "test"]);
    expect(detectProject(new Map([["Makefile", "build:\n"]])).build).toEqual(["make", "build"]);
    expect(detectProject(new Map([["Makefile", "build := 1\nlint::= 2\n"]])).build).toBeNull();
  });
});
