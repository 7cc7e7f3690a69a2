import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { truncationMarker } from "../../src/context/truncate.ts";
import { summarizeTestOutput } from "../../src/verify/test-summary.ts";

const MARKER = /\[… (\d+) characters truncated …\]/g;

function vitestOutput(passing: number): string {
  const passed = Array.from({ length: passing }, (_, i) => ` ✓ test/module-${i}.test.ts > returns the expected error in case ${i} 3ms`);
  return [
    "> app@1.0.0 test",
    "> vitest run",
    "",
    " RUN  v3.2.4 /work/app",
    "",
    ...passed.slice(0, passing / 2),
    " FAIL  test/math.test.ts > add > adds two numbers",
    "AssertionError: expected 5 to be 4 // Object.is equality",
    " ❯ test/math.test.ts:7:19",
    ...passed.slice(passing / 2),
    "",
    " Test Files  1 failed | 40 passed (41)",
    "      Tests  1 failed | 400 passed (401)",
    "   Duration  2.31s",
  ].join("\n");
}

/**
 * Checks that the summary is the cleaned output with some spans replaced by markers that
 * count them exactly: every kept character is in place, nothing is invented.
 */
function expectFaithfulSummary(summary: string, original: string): void {
  const pieces = summary.split(/(\[… \d+ characters truncated …\])/);
  const pattern = pieces
    .map((piece, index) => {
      const count = /^\[… (\d+) characters truncated …\]$/.exec(piece);
      if (count) return `[\\s\\S]{${count[1]}}`;
      // A marker inside a long line sits on its own line: those newlines are not in the original.
      let literal = piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      if (index > 0 && literal.startsWith("\n")) literal = `\\n?${literal.slice(1)}`;
      if (index < pieces.length - 1 && literal.endsWith("\n")) literal = `${literal.slice(0, -1)}\\n?`;
      return literal;
    })
    .join("");
  expect(new RegExp(`^${pattern}$`).test(original)).toBe(true);
}

describe("summarizeTestOutput", () => {
  it("returns output that fits as it is, without terminal escape codes", () => {
    expect(summarizeTestOutput("\x1b[32m✓\x1b[39m passes\r\nTests 1 passed", 100)).toBe("✓ passes\nTests 1 passed");
    expect(summarizeTestOutput("Downloading 10%\rDownloading 100%\ndone\r\r\n", 100)).toBe("Downloading 100%\ndone\n");
  });

  it("keeps the failing test, its error, its location and the final summary", () => {
    const output = vitestOutput(400);
    const summary = summarizeTestOutput(output, 1500);
    expect(summary.length).toBeLessThanOrEqual(1500);
    expect(summary).toContain(" FAIL  test/math.test.ts > add > adds two numbers");
    expect(summary).toContain("AssertionError: expected 5 to be 4");
    expect(summary).toContain("test/math.test.ts:7:19");
    expect(summary).toContain("Tests  1 failed | 400 passed (401)");
    expect(summary).toContain("Duration  2.31s");
    expect(summary).not.toContain("case 1 ");
    expect(summary).toMatch(MARKER);
    expectFaithfulSummary(summary, output);
  });

  it("keeps pytest's failure and summary", () => {
    const output = [
      "============================= test session starts ==============================",
      ...Array.from({ length: 300 }, (_, i) => `tests/test_mod_${i}.py::test_case PASSED`),
      "=================================== FAILURES ===================================",
      "____________________________ test_parse_empty ____________________________",
      "    def test_parse_empty():",
      ">       assert parse('') == []",
      "E       AssertionError: assert None == []",
      "tests/test_parse.py:12: AssertionError",
      ...Array.from({ length: 300 }, (_, i) => `tests/test_other_${i}.py::test_case PASSED`),
      "=========================== short test summary info ============================",
      "FAILED tests/test_parse.py::test_parse_empty - AssertionError: assert None == []",
      "========================= 1 failed, 600 passed in 3.21s =========================",
    ].join("\n");
    const summary = summarizeTestOutput(output, 1200);
    expect(summary.length).toBeLessThanOrEqual(1200);
    expect(summary).toContain("E       AssertionError: assert None == []");
    expect(summary).toContain("tests/test_parse.py:12: AssertionError");
    expect(summary).toContain("1 failed, 600 passed in 3.21s");
    expectFaithfulSummary(summary, output);
  });

  it("keeps the summary even when a coverage table follows it", () => {
    const coverage = Array.from({ length: 400 }, (_, i) => ` src/file${i}.ts | 100 | 100 | 100 | 100 |`);
    const output = ["Test Suites: 1 failed, 12 passed, 13 total", "Tests:       2 failed, 98 passed, 100 total", ...coverage].join("\n");
    const summary = summarizeTestOutput(output, 800);
    expect(summary).toContain("Tests:       2 failed, 98 passed, 100 total");
    expectFaithfulSummary(summary, output);
  });

  it("cuts a single huge line with a marker", () => {
    const output = `Error: ${"x".repeat(10_000)}`;
    const summary = summarizeTestOutput(output, 500);
    expect(summary.length).toBeLessThanOrEqual(500);
    expect(summary.startsWith("Error: ")).toBe(true);
    expect(summary).toMatch(MARKER);
    expectFaithfulSummary(summary, output);
  });

  it("gives the bare marker when the budget cannot hold one line", () => {
    expect(summarizeTestOutput("x".repeat(100), 20)).toBe(truncationMarker(100));
  });

  it("stays within budget, marks iff cut, and only drops text", () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }).map((text) => text.replace(/\[… \d+ characters truncated …\]/g, "")),
      fc.constantFrom(" FAIL  a.test.ts > x", "TypeError: boom", "  at f (src/a.ts:3:9)", "Tests  3 failed | 2 passed", "ok  \tpkg\t0.1s", "", "\x1b[31mred\x1b[0m"),
      fc.integer({ min: 100, max: 3000 }).map((length) => "y".repeat(length)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.integer({ min: -1, max: 3000 }), (lines, maxChars) => {
        const output = lines.join("\n");
        // eslint-disable-next-line no-control-regex -- removing the escape codes the summary removes
        const cleaned = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.replace(/\r+$/, "")).map((l) => l.slice(l.lastIndexOf("\r") + 1)).join("\n");
        fc.pre(!cleaned.includes("characters truncated"));
        const summary = summarizeTestOutput(output, maxChars);
        expect(summary.length).toBeLessThanOrEqual(Math.max(maxChars, truncationMarker(cleaned.length).length));
        expect(MARKER.test(summary)).toBe(cleaned.length > Math.max(0, maxChars));
        MARKER.lastIndex = 0;
        expectFaithfulSummary(summary, cleaned);
      }),
      { numRuns: 500 },
    );
  });
});

describe("summarizeTestOutput on pathological input", () => {
  // Several line patterns are quadratic in line length: unbounded, these 2 MB lines would
  // take hours (100 kB took 5 s), so the test's own timeout is what catches a regression.
  it("finishes on multi-megabyte lines", () => {
    const output = `${"a".repeat(2_000_000)}\n${"x/".repeat(1_000_000)}\nError: boom\n`;
    expect(summarizeTestOutput(output, 2_000)).toContain("Error: boom");
  });
});
