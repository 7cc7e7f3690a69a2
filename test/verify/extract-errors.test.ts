import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimateTokens, TRUNCATION_MARKER_TOKENS } from "../../src/context/tokens.ts";
import { extractErrors, type ExtractedErrors } from "../../src/verify/extract-errors.ts";
import { expectLinearTime } from "../support/linear-time.ts";

const FIXTURES = path.join(import.meta.dirname, "../fixtures/outputs");
const MARKER = /\[… \d+ characters truncated …\]/;
// eslint-disable-next-line no-control-regex -- colour codes start with ESC.
const COLOUR = /\x1b\[[0-9;]*m/g;
const ROOMY = { maxTokens: 5_000 };

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), "utf8");
}

function extract(name: string): ExtractedErrors {
  return extractErrors(fixture(name), ROOMY);
}

/** The text's lines, for asserting order. */
function linesOf(result: ExtractedErrors): string[] {
  return result.text.split("\n");
}

describe("extractErrors on test runners", () => {
  it("node --test (TAP): failing tests, their errors and locations, not the suite that only failed through them", () => {
    const result = extract("node-test-tap.txt");
    expect(result.failingTests).toEqual(["adds two numbers", "parses config"]);
    expect(result.count).toBe(2);
    expect(result.locations).toContainEqual({ file: "/home/user/repo/test/math.test.js", line: 9, column: 3 });
    expect(result.locations).toContainEqual({ file: "/home/user/repo/math.js", line: 2, column: 40 });
    expect(linesOf(result).slice(0, 5)).toEqual(["not ok - adds two numbers", "Expected values to be strictly equal:", "6 !== 5", "expected: 5", "actual: 6"]);
    expect(result.text).toContain("Expected double-quoted property name in JSON at position 7");
    expect(result.text).not.toMatch(/node:internal|async_hooks|subtest failed/);
  });

  it("node --test (spec reporter): each name once, above its error", () => {
    const result = extract("node-test-spec.txt");
    expect(result.failingTests).toEqual(["adds two numbers", "parses config"]);
    expect(result.count).toBe(2);
    const lines = linesOf(result);
    expect(lines.indexOf("✖ adds two numbers (0.468619ms)")).toBe(0);
    expect(lines[1]).toBe("AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:");
    expect(lines.filter((line) => line.startsWith("✖"))).toHaveLength(2);
    expect(result.text).not.toContain("✖ add (");
  });

  it("vitest (coloured): full test names, assertion diff, the suite that failed to load; frames last", () => {
    const result = extract("vitest.txt");
    expect(result.failingTests).toEqual(["test/math.test.ts > add > adds two numbers", "test/math.test.ts > slugify > joins words with dashes", "test/broken.test.ts"]);
    expect(result.count).toBe(3);
    expect(result.text).not.toContain("\x1b");
    expect(extractErrors(fixture("vitest.txt").replace(COLOUR, ""), ROOMY)).toEqual(result);
    const lines = linesOf(result);
    const failure = lines.indexOf("FAIL test/math.test.ts > add > adds two numbers");
    expect(lines.slice(failure, failure + 6)).toEqual(["FAIL test/math.test.ts > add > adds two numbers", "AssertionError: expected 6 to be 5 // Object.is equality", "- Expected", "+ Received", "- 5", "+ 6"]);
    expect(result.text).toContain("Error: Cannot find module '../src/missing.ts'");
    expect(lines.slice(-3)).toEqual(["❯ test/broken.test.ts:2:1", "❯ test/math.test.ts:6:23", "❯ test/math.test.ts:15:37"]);
    expect(result.locations).toEqual([
      { file: "test/broken.test.ts", line: 2, column: 1 },
      { file: "test/math.test.ts", line: 6, column: 23 },
      { file: "test/math.test.ts", line: 15, column: 37 },
    ]);
    expect(result.text).not.toMatch(/keeps words|Duration|⎯/);
  });

  it("jest: `●` names, matcher messages, a suite that failed to run, project frames only", () => {
    const result = extract("jest.txt");
    expect(result.failingTests).toEqual(["Cart › adds an item", "Cart › computes the total with tax", "src/api.test.js"]);
    expect(result.count).toBe(3);
    expect(result.text).toContain("Expected length: 1\nReceived length: 0");
    expect(result.text).toContain("TypeError: cart.total is not a function");
    expect(result.text).toContain("● Test suite failed to run\nCannot find module './client' from 'src/api.test.js'");
    expect(result.text).not.toContain("jest-resolve");
    expect(result.locations).toEqual([
      { file: "src/cart.test.js", line: 12, column: 24 },
      { file: "src/cart.test.js", line: 17, column: 17 },
      { file: "src/api.test.js", line: 1, column: 1 },
    ]);
  });

  it("pytest: node ids, `E` lines and the locations of the assertions", () => {
    const result = extract("pytest.txt");
    expect(result.failingTests).toEqual(["tests/test_calc.py::test_add", "tests/test_calc.py::TestLoad::test_missing_file"]);
    expect(result.count).toBe(2);
    expect(result.text).toContain("E assert 6 == 5");
    expect(result.text).toContain("E FileNotFoundError: [Errno 2] No such file or directory");
    expect(result.text).toContain("FAILED tests/test_calc.py::test_add - assert 6 == 5");
    expect(result.locations).toEqual([
      { file: "tests/test_calc.py", line: 5 },
      { file: "tests/test_calc.py", line: 10 },
      { file: "calc/__init__.py", line: 5 },
    ]);
    expect(result.text).not.toMatch(/platform linux|rootdir|benchmark/);
  });

  it("go test: subtests rather than their parent, test logs, build failures and panics", () => {
    const result = extract("go-test.txt");
    expect(result.failingTests).toEqual(["TestAdd", "TestParse/empty_input", "TestParse/trailing_comma", "TestSplit"]);
    expect(result.count).toBe(6); // four tests and two compile errors
    expect(result.text).toContain("calc_test.go:9: Add(2, 3) = 6; want 5");
    expect(result.text).toContain("server/server.go:14:9: undefined: handlr");
    expect(result.text).toContain("panic: runtime error: index out of range [3] with length 3");
    expect(result.locations).toContainEqual({ file: "server/server_test.go", line: 22, column: 2 });
    expect(result.locations).toContainEqual({ file: "/home/user/repo/split/split_test.go", line: 8 });
    expect(result.text).not.toContain("/usr/local/go/src");
    expect(result.text).not.toContain("TestParse/single");
  });

  it("cargo test: failed tests, the panic with its message, the crate's own frames", () => {
    const result = extract("cargo-test.txt");
    expect(result.failingTests).toEqual(["tests::adds", "tests::parses_port"]);
    expect(result.count).toBe(2);
    expect(result.text).toContain("thread 'tests::adds' panicked at src/lib.rs:15:9:\nassertion `left == right` failed\nleft: 6\nright: 5");
    expect(result.text).toContain("called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }");
    expect(result.locations[0]).toEqual({ file: "src/lib.rs", line: 15, column: 9 });
    expect(result.text).not.toMatch(/\/rustc\/|core::panicking|tests::it_works/);
  });

  it("maven surefire: test methods, assertion messages, the results list, the project's frames", () => {
    const result = extract("maven-test.txt");
    expect(result.failingTests).toEqual(["com.example.CalculatorTest.addsTwoNumbers", "com.example.CalculatorTest.dividesByZero"]);
    expect(result.count).toBe(2);
    expect(result.text).toContain("org.opentest4j.AssertionFailedError: expected: <5> but was: <6>");
    expect(result.text).toContain("java.lang.ArithmeticException: / by zero");
    expect(result.locations).toEqual([
      { file: "com/example/CalculatorTest.java", line: 9 },
      { file: "com/example/Calculator.java", line: 5 },
      { file: "com/example/CalculatorTest.java", line: 14 },
    ]);
    expect(result.text).not.toMatch(/org\.junit|java\.base|\[INFO\]|Help 1/);
  });

  it("rspec: descriptions, Failure/Error, expected/got, spec frames but not gems", () => {
    const result = extract("rspec.txt");
    expect(result.failingTests).toEqual(["Calculator#add adds two numbers", "Calculator#divide raises on zero"]);
    expect(result.count).toBe(2);
    expect(result.text).toContain("Failure/Error: expect(calc.add(2, 3)).to eq(5)\nexpected: 5\ngot: 6");
    expect(result.locations).toContainEqual({ file: "spec/calculator_spec.rb", line: 5 });
    expect(result.text).not.toContain("/gems/");
  });

  it("gradle: `Class > test FAILED` and the exception line under it", () => {
    const output = ["> Task :test FAILED", "", "CalculatorTest > addsTwoNumbers() FAILED", "    org.opentest4j.AssertionFailedError at CalculatorTest.java:9", "", "3 tests completed, 1 failed"].join("\n");
    const result = extractErrors(output, ROOMY);
    expect(result.failingTests).toEqual(["CalculatorTest > addsTwoNumbers()"]);
    expect(result.locations).toEqual([{ file: "CalculatorTest.java", line: 9 }]);
    expect(result.text).toBe("CalculatorTest > addsTwoNumbers() FAILED\norg.opentest4j.AssertionFailedError at CalculatorTest.java:9");
  });
});

describe("extractErrors on compilers and linters", () => {
  it("tsc, plain and pretty: one diagnostic each, without the code frames and summary table", () => {
    for (const name of ["tsc.txt", "tsc-pretty.txt"]) {
      const result = extract(name);
      expect(result.count).toBe(5);
      expect(result.failingTests).toEqual([]);
      expect(linesOf(result)).toHaveLength(5);
      expect(result.locations[2]).toEqual({ file: "src/index.ts", line: 12, column: 3 });
      expect(result.text).toContain("error TS2322: Type 'number' is not assignable to type 'string'.");
    }
  });

  it("eslint (stylish, coloured): each problem on a line that names its file; warnings do not count", () => {
    const result = extract("eslint.txt");
    expect(result.count).toBe(3);
    expect(linesOf(result)).toEqual([
      "/home/user/repo/src/app.js:1:7: error  'unused' is assigned a value but never used  no-unused-vars",
      "/home/user/repo/src/app.js:4:5: warning  Unexpected console statement  no-console",
      "/home/user/repo/src/app.js:6:10: error  'y' is not defined  no-undef",
      "/home/user/repo/src/other.js:2:3: error  Unexpected 'debugger' statement  no-debugger",
    ]);
  });

  it("gcc: errors and warnings with their locations, not notes or code frames", () => {
    const result = extract("gcc.txt");
    expect(result.count).toBe(1);
    expect(linesOf(result)).toHaveLength(3);
    expect(result.text).toContain("src/main.c:9:12: error: ‘count’ undeclared");
    expect(result.text).not.toContain("note:");
    expect(result.locations).toHaveLength(3);
  });

  it("rustc via cargo build: diagnostics located by their `-->` line, with caret labels", () => {
    const result = extract("cargo-build.txt");
    expect(result.count).toBe(2);
    expect(linesOf(result).slice(0, 3)).toEqual([
      "src/main.rs:4:20: error[E0425]: cannot find value `nme` in this scope",
      "src/main.rs:2:21: error[E0308]: mismatched types",
      "expected `u16`, found `&str`",
    ]);
    expect(result.text).toContain("error: could not compile `rs2`");
  });

  it("javac under maven: the diagnostic once, with its symbol", () => {
    const result = extract("maven-compile.txt");
    expect(result.count).toBe(1);
    expect(result.text).toBe(
      ["/home/user/repo/src/main/java/com/example/Calculator.java:[5,50] cannot find symbol", "symbol:   variable c", "location: class com.example.Calculator"].join("\n"),
    );
    expect(result.locations).toEqual([{ file: "/home/user/repo/src/main/java/com/example/Calculator.java", line: 5, column: 50 }]);
  });

  it("mypy, ruff and go vet lines; notes are skipped", () => {
    const output = [
      "src/app.py:12: error: Incompatible return value type (got \"int\", expected \"str\")  [return-value]",
      "src/app.py:12: note: See https://mypy.rtfd.io",
      "src/app.py:1:8: F401 [*] `os` imported but unused",
      "./main.go:5:2: fmt.Printf format %d has arg s of wrong type string",
    ].join("\n");
    const result = extractErrors(output, ROOMY);
    expect(result.count).toBe(3);
    expect(result.locations).toEqual([
      { file: "src/app.py", line: 12 },
      { file: "src/app.py", line: 1, column: 8 },
      { file: "main.go", line: 5, column: 2 },
    ]);
  });

  it("a Python traceback: the exception first, then the project's frames, not the standard library's", () => {
    const result = extract("python-traceback.txt");
    expect(result.count).toBe(1);
    expect(linesOf(result)).toEqual([
      "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 13 (char 12)",
      'File "/home/user/repo/app/main.py", line 8, in <module>',
      'File "/home/user/repo/app/main.py", line 4, in main',
      'File "/home/user/repo/app/config.py", line 5, in read_config',
    ]);
  });
});

describe("extractErrors in general", () => {
  const names = readdirSync(FIXTURES).filter((name) => name.endsWith(".txt"));
  const all = names.map(fixture);

  it("reads several checks' outputs joined together as the sum of their parts", () => {
    const parts = ["tsc.txt", "eslint.txt", "vitest.txt", "pytest.txt", "cargo-test.txt"];
    const joined = extractErrors(parts.map(fixture).join("\n\n"), { maxTokens: 20_000 });
    const separate = parts.map(extract);
    expect(joined.count).toBe(separate.reduce((sum, result) => sum + result.count, 0));
    expect(joined.failingTests).toEqual(separate.flatMap((result) => result.failingTests));
  });

  it("keeps the first errors and marks the cut when over budget", () => {
    const output = Array.from({ length: 300 }, (_, i) => `src/file${i}.ts(${i + 1},5): error TS2322: Type 'string' is not assignable to type 'number'.`).join("\n");
    const result = extractErrors(output, { maxTokens: 300 });
    expect(result.count).toBe(300);
    expect(estimateTokens(result.text)).toBeLessThanOrEqual(300);
    expect(result.text.startsWith("src/file0.ts(1,5): error TS2322")).toBe(true);
    expect(linesOf(result).at(-1)).toMatch(MARKER);
    expect(result.locations).toHaveLength(100);
  });

  it("drops repeated lines", () => {
    const line = "TypeError: Cannot read properties of undefined (reading 'id')";
    expect(extractErrors(`${line}\n${line}\n  ${line}`, ROOMY)).toEqual({ text: line, failingTests: [], locations: [], count: 1 });
  });

  it("falls back to a summary of the output when nothing is recognized", () => {
    const output = "Segmentation fault (core dumped)\nmake: *** [Makefile:3: test] Error 139";
    expect(extractErrors(output, ROOMY)).toEqual({ text: output, failingTests: [], locations: [], count: 0 });
    expect(extractErrors("", ROOMY)).toEqual({ text: "", failingTests: [], locations: [], count: 0 });
  });

  it("is not fooled by colour codes anywhere", () => {
    const sgr = fc.constantFrom("\x1b[31m", "\x1b[1m", "\x1b[39m", "\x1b[22m", "\x1b[0m", "\x1b[38;5;208m");
    fc.assert(
      fc.property(fc.nat(names.length - 1), fc.array(fc.tuple(fc.nat(), sgr), { maxLength: 30 }), (which, insertions) => {
        // Some fixtures are coloured already; new codes go into the plain text, never inside a code.
        const plain = all[which].replace(COLOUR, "");
        let coloured = plain;
        const positioned = insertions.map(([at, code]) => [at % (plain.length + 1), code] as const);
        // From the end backwards, so that each position still points into the plain text.
        for (const [position, code] of positioned.sort(([a], [b]) => b - a)) coloured = coloured.slice(0, position) + code + coloured.slice(position);
        expect(extractErrors(coloured, ROOMY)).toEqual(extractErrors(plain, ROOMY));
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same errors for output printed twice", () => {
    for (const output of all) {
      const once = extractErrors(output, ROOMY);
      const twice = extractErrors(`${output}\n${output}`, ROOMY);
      expect({ ...twice, text: "" }).toEqual({ ...once, text: "" });
    }
  });

  it("never throws, stays within budget, and counts at least the failing tests it lists", () => {
    const lines = fc.oneof(
      fc.constantFrom(...all.flatMap((output) => output.split("\n"))),
      fc.string({ maxLength: 80 }),
      fc.constantFrom("not ok 1 - x", "  ---", "  ...", "● ", "FAIL  ", "--- FAIL: ", "E   ", "Failures:", "[ERROR] Failures: ", "   at (x.js:1:2)"),
    );
    fc.assert(
      fc.property(fc.array(lines, { maxLength: 80 }), fc.integer({ min: 0, max: 400 }), (picked, maxTokens) => {
        const result = extractErrors(picked.join("\n"), { maxTokens });
        expect(estimateTokens(result.text)).toBeLessThanOrEqual(Math.max(maxTokens, TRUNCATION_MARKER_TOKENS));
        expect(result.count).toBeGreaterThanOrEqual(result.failingTests.length);
        expect(new Set(result.failingTests).size).toBe(result.failingTests.length);
        for (const location of result.locations) expect(Number.isInteger(location.line)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("handles a huge single line in linear time", () => {
    expectLinearTime((text) => extractErrors(text, { maxTokens: 100 }), (chars) => `at ${"(".repeat(chars / 2)}x.js:1:2\n${"a".repeat(chars / 2)}`);
    const result = extractErrors(`at ${"(".repeat(200_000)}x.js:1:2\n${"a".repeat(5_000_000)}`, { maxTokens: 100 });
    expect(estimateTokens(result.text)).toBeLessThanOrEqual(100);
  });
});

describe("extractErrors on lines shaped to hurt", () => {
  // Lines are cut at 2,000 characters before any pattern runs, so time per line cannot grow
  // without bound; what can is the cost of one such line. Each shape below once took a
  // pattern cubic or quadratic time (40 TAP lines: 21.5 s; one compiler-style line: ~10 s):
  // now a line of any shape costs about what an ordinary line of the same length does.
  // The patterns' own growth with length is tested on lines of up to 256 KiB in line-readers.test.ts.
  const LINE = 2_000;
  const blanks = (chars: number) => " ".repeat(chars);
  const shapes: Array<[string, string]> = [
    ["a TAP failure", `not ok 1${blanks(995)}a${blanks(995)}\u2028y`],
    ["a compiler diagnostic", `.0:0:\t\u2028${"\t\t".repeat(990)}[l:\u2028`],
    ["a TAP block's location and error", `not ok 1 - t\n  ---\n  location:${"\t".repeat(LINE - 20)}x\n  stack:${"\t".repeat(LINE - 20)}x\u2028y\n  ...`],
    ["a Jest header with a duration and a label", `FAIL x${"\t".repeat(LINE - 20)}x [ a${" [ a".repeat(3)}\u2028 ]`],
    ["a Jest code frame", `● a › b\n${" ".repeat(LINE - 2)}x`],
    ["a rustc caret label", `|${"^".repeat(LINE - 2)}0`],
    ["an ESLint problem", `src/a.js\n\t0:0\terror\t${"\t".repeat(LINE - 20)}x\u2028y`],
    ["a pytest detail", `E${"\t".repeat(LINE - 5)}x\u2028y`],
    ["a Surefire verdict", `${"\t".repeat(LINE - 40)}x\tTime elapsed:\u2028 <<< FAILURE!`],
    ["a panic's location", `thread 'a' panicked at ${"0".repeat(LINE - 40)}`],
  ];

  /** The quickest of `runs` runs of extractErrors on `lines` copies of `line`, in nanoseconds. */
  function costOf(line: string, runs: number): number {
    const output = Array.from({ length: 4 }, () => line).join("\n");
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < runs; run += 1) {
      const start = process.hrtime.bigint();
      extractErrors(output, ROOMY);
      best = Math.min(best, Number(process.hrtime.bigint() - start));
    }
    return best;
  }

  it.each(shapes)("costs about what an ordinary line costs: %s", (_, line) => {
    const ordinary = costOf("x".repeat(LINE), 5);
    // A ratio of timings on one machine, never a wall time; 8x leaves room for noise (it was 10,000x).
    expect(costOf(line, 3) / ordinary).toBeLessThan(8);
  });
});
