import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  caretLabelOf,
  compilerDiagnosticOf,
  eslintProblemOf,
  FILE,
  locationAtEndOf,
  tapFailureOf,
  tapLocationOf,
  withoutProjectLabel,
  withoutTimeElapsed,
} from "../../src/verify/line-readers.ts";
import { expectLinearTime } from "../support/linear-time.ts";

// The patterns the readers replaced, as the reference for what each reads. Each took time
// cubic or quadratic in a line's length, so they only ever see short lines here.
const reference = {
  tap: /^(\s*)not ok \d+(?: -)?\s*(.*?)\s*(#\s*(?:SKIP|TODO)\b.*)?$/i,
  compiler: new RegExp(String.raw`^(${FILE}):(\d+)(?::(\d+))?:(?:\s+(?:(fatal error|error|warning|note|info|hint|remark)(?:\[[^\]]*\])?:)?\s*(.*))?$`),
  tapLocation: /^\s*location:\s*'?(.+?):(\d+):(\d+)'?\s*$/,
  caretLabel: /^\s*(?:\d+\s*)?\|.*\^+\s+(\S.*)$/,
  eslint: /^\s+(\d+):(\d+)\s+(error|warning)\s+(.+)$/,
  locationAtEnd: /(\S+?):(\d+):(\d+):?$/,
  projectLabel: /\s+\[ .* \]$/,
  timeElapsed: /\s+(?:-{1,2}\s+)?Time elapsed:.*$/,
};

/** Lines made of `pieces`, after `prefix`: the blanks and line terminators the patterns stumbled on included. */
const linesOf = (prefix: string, pieces: readonly string[]) => fc.array(fc.constantFrom(...pieces, " ", "\t", "\u2028", "\u00a0"), { maxLength: 16 }).map((parts) => prefix + parts.join(""));
const agrees = <T>(lines: fc.Arbitrary<string>, read: (line: string) => T, byPattern: (line: string) => T) =>
  fc.assert(
    fc.property(lines, (line) => {
      expect(read(line)).toEqual(byPattern(line));
    }),
    { numRuns: 5_000 },
  );

describe("reading lines as the patterns did", () => {
  it("reads TAP failures", () => {
    const byPattern = (line: string) => {
      const match = reference.tap.exec(line);
      return match && { indent: match[1]!.length, name: match[2], directive: match[3] };
    };
    const pieces = ["not ok ", "NOT OK ", "1", " -", "-", "#", "# ", "SKIP", "todo", "S\u212AIP", "x", "_", "a b"];
    agrees(linesOf("", pieces), tapFailureOf, byPattern);
    agrees(linesOf("not ok 1", pieces), tapFailureOf, byPattern);
  });

  it("reads compiler diagnostics", () => {
    const byPattern = (line: string) => {
      const match = reference.compiler.exec(line);
      return match && { file: match[1], line: match[2], column: match[3], severity: match[4], message: match[5] ?? "" };
    };
    const pieces = ["a.c", "C:", "src/x.ts", ":", "12", "error", "warning", "fatal error", "note", "[", "]", "[E1]", "msg"];
    agrees(linesOf("", pieces), compilerDiagnosticOf, byPattern);
    agrees(linesOf("a.c:1", pieces), compilerDiagnosticOf, byPattern);
  });

  it("reads TAP locations", () => {
    const byPattern = (line: string) => {
      const match = reference.tapLocation.exec(line);
      return match && { file: match[1], line: match[2], column: match[3] };
    };
    agrees(linesOf("location:", ["'", ":", "1", "23", "a", "b.ts", "x y"]), tapLocationOf, byPattern);
  });

  it("reads rustc's caret labels", () => {
    const byPattern = (line: string) => reference.caretLabel.exec(line)?.[1] ?? null;
    const pieces = ["|", "^", "^^", "1", "x", "msg", "a b"];
    agrees(linesOf("", pieces), caretLabelOf, byPattern);
    agrees(linesOf(" |", pieces), caretLabelOf, byPattern);
  });

  it("reads ESLint problems", () => {
    const byPattern = (line: string) => {
      const match = reference.eslint.exec(line);
      return match && { lineNumber: match[1], column: match[2], severity: match[3], rest: match[4] };
    };
    agrees(linesOf("  1:2", [":", "12", "error", "warning", "msg", "x"]), eslintProblemOf, byPattern);
  });

  it("reads the location at the end of a panic", () => {
    const byPattern = (line: string) => {
      const match = reference.locationAtEnd.exec(line);
      return match && { file: match[1], line: match[2], column: match[3] };
    };
    agrees(linesOf("", ["a", "src/lib.rs", ":", "1", "23", "x y"]), locationAtEndOf, byPattern);
  });

  it("removes Vitest's project label and JUnit's elapsed time", () => {
    agrees(linesOf("FAIL ", ["[ ", " ]", "[", "]", "x", "a b"]), withoutProjectLabel, (line) => line.replace(reference.projectLabel, ""));
    agrees(linesOf("test", ["-", "--", "---", "Time elapsed:", "Time elapsed: 1 s", "x", " <<< FAILURE!"]), withoutTimeElapsed, (line) =>
      line.replace(reference.timeElapsed, ""),
    );
  });
});

describe("reading a line shaped to hurt", () => {
  // Each shape is one the replaced pattern took super-linear time on: blanks its quantifiers
  // could share, ended by a character `.` does not match (U+2028), or a run rescanned from
  // every position.
  const repeated = (prefix: string, unit: string, suffix = "") => (chars: number) => prefix + unit.repeat(Math.ceil((chars - prefix.length - suffix.length) / unit.length)) + suffix;
  const halves = (prefix: string, middle: string, suffix: string) => (chars: number) => {
    const half = " ".repeat(Math.ceil((chars - prefix.length - middle.length - suffix.length) / 2));
    return prefix + half + middle + half + suffix;
  };

  it.each([
    ["a TAP failure (the reviewed 21.5 s case)", tapFailureOf, halves("not ok 1", "a", "\u2028y")],
    ["a TAP failure of directives", tapFailureOf, repeated("not ok 1 x", " # ", "\u2028y")],
    ["a compiler diagnostic", compilerDiagnosticOf, repeated(".0:0:\t\u2028", "\t\t", "[l:\u2028")],
    ["a compiler diagnostic with a severity", compilerDiagnosticOf, repeated("a.c:1:2: error:", " ", "x\u2028y")],
    ["a TAP location", tapLocationOf, repeated("location:", "\t", "x")],
    ["a TAP location of colons", tapLocationOf, repeated("location: ", "a:1:", "\u2028")],
    ["a caret label", caretLabelOf, repeated("|", "^", "0")],
    ["a caret label of many carets", caretLabelOf, repeated(" |", "^ x", "\u2028y")],
    ["an ESLint problem", eslintProblemOf, repeated("\t0:0\terror\t", "\t", "x\u2028y")],
    ["a panic location", locationAtEndOf, repeated("", "a:1:")],
    ["a project label", withoutProjectLabel, repeated("x", " [ a", "\u2028 ]")],
    ["an elapsed time", withoutTimeElapsed, repeated("x", " Time elapsed:", "\u2028")],
  ])("takes time linear in the line: %s", (_, read, shape) => {
    expectLinearTime(read as (line: string) => unknown, shape);
  });
});
