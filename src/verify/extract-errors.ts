/**
 * The errors in a failed check's output, for the build agent's next round and for telling
 * one failure from the next. We read what test runners, compilers and linters print —
 * failing test names, diagnostics with file:line[:col], assertion messages, stack frames —
 * and keep those, most informative first: failures, diagnostics and messages in the order
 * they appeared, then the project's own stack frames and locations. Frames inside
 * dependencies and runtimes, progress, passing tests and summaries are dropped.
 *
 * Longer than most files here: each tool prints failures its own way, and keeping the
 * small per-format rules side by side is what lets a reader see how they interact (which
 * rule claims a line first, what counts as an error). Output is untrusted and may be
 * anything: nothing here throws on it, and long lines are cut before any pattern runs.
 */
import { estimateTokens, fitToTokens, TRUNCATION_MARKER_TOKENS } from "../context/tokens.ts";
import { budgetOf, truncateMiddle, truncationMarker } from "../context/truncate.ts";
import { summarizeTestOutput } from "./test-summary.ts";
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
} from "./line-readers.ts";

export interface ErrorLocation {
  /** As printed, without `file://` or a leading `./`: may be absolute (the sandbox's path). */
  file: string;
  line: number;
  column?: number;
}

export interface ExtractedErrors {
  /** Failures, diagnostics and messages, then the project's stack frames, within the token budget; a cut leaves a truncation marker. */
  text: string;
  /** Failing tests, each in the most specific form printed (`file > suite > test`, `path::test`); at most MAX_LISTED. */
  failingTests: string[];
  /** Where diagnostics, assertions and the project's own stack frames point, deduplicated; at most MAX_LISTED. */
  locations: ErrorLocation[];
  /**
   * Distinct errors: failing tests plus error diagnostics. When there are none, other
   * error lines (an uncaught exception, a panic, `error: could not compile`) plus
   * warnings. 0 when nothing was recognized; `text` then holds a summary of the output.
   */
  count: number;
}

/** Longest list of tests or locations returned (count still counts them all). */
export const MAX_LISTED = 100;
/** A longer line is cut before matching: no pattern runs on megabytes of minified code. */
const MAX_SCANNED_CHARS = 2_000;
/** A longer line is cut before the fallback summary sees it. */
const MAX_SUMMARIZED_CHARS = 500;
/** A longer kept line is cut in the middle. */
const MAX_KEPT_LINE_CHARS = 500;

/** Errors in `output` (see ExtractedErrors); `text` fits `maxTokens` by estimateTokens. */
export function extractErrors(output: string, options: { maxTokens: number }): ExtractedErrors {
  // summarizeTestOutput returns output that fits whole, only cleaned of terminal escapes and redraws.
  const cleaned = summarizeTestOutput(output, Number.POSITIVE_INFINITY);
  const lines = cleaned.split("\n").map((line) => (line.length > MAX_SCANNED_CHARS ? truncateMiddle(line, MAX_SCANNED_CHARS) : line));
  const found = createFindings();
  const state = initialState(lines);
  for (let index = 0; index < lines.length; ) index = scanLine(lines, index, found, state);
  const failingTests = found.failingTests();
  const text = found.kept.length > 0 ? renderWithin(found.kept, options.maxTokens) : fallbackText(lines, options.maxTokens);
  return { text, failingTests: failingTests.slice(0, MAX_LISTED), locations: found.locations.slice(0, MAX_LISTED), count: found.count(failingTests.length) };
}

// --- Scanning ---------------------------------------------------------------------------

interface ScanState {
  /**
   * Runners that list failures twice, as a tree and then in detail: the tree's lines are
   * recorded but not kept, so each name in the text sits above its error. node:test's
   * spec reporter ends with a "✖ failing tests:" recap; Jest and Vitest print `●` and
   * `FAIL file > test` sections.
   */
  specRecap: "none" | "ahead" | "in";
  jsDetailsAhead: boolean;
  /** The file an ESLint "stylish" block is about. */
  eslintFile: string | null;
  /** node:test spec reporter suites (`▶ name`): their `✖` only repeats a failing child. */
  specSuites: Set<string>;
  /** Lines left of a Jest/Vitest `- Expected / + Received` diff. */
  diffLines: number;
  /** Lines left of a Rust panic message. */
  panicLines: number;
  /** Inside Maven Surefire's "Failures:" / "Errors:" results list. */
  mavenResults: boolean;
}

function initialState(lines: readonly string[]): ScanState {
  return {
    specRecap: lines.includes("✖ failing tests:") ? "ahead" : "none",
    jsDetailsAhead: lines.some((line) => /^\s*(?:● |FAIL {1,2}\S.* > )/.test(line)),
    eslintFile: null,
    specSuites: new Set(),
    diffLines: 0,
    panicLines: 0,
    mavenResults: false,
  };
}

interface Scan {
  lines: readonly string[];
  index: number;
  found: Findings;
  state: ScanState;
  /** Maven's `[ERROR]` / `[WARNING]` prefix, removed from the line. */
  level: string | undefined;
}

/** A rule returns the index of the next line to scan when it claims the line, else undefined. */
type Rule = (line: string, scan: Scan) => number | undefined;

const MAVEN_PREFIX = /^\[(ERROR|WARNING|WARN|INFO|DEBUG)\] ?/;

/** The index of the next line to scan: the first rule that claims the line decides. */
function scanLine(lines: readonly string[], index: number, found: Findings, state: ScanState): number {
  const next = index + 1;
  const maven = MAVEN_PREFIX.exec(lines[index]);
  if (maven && (maven[1] === "INFO" || maven[1] === "DEBUG")) return next;
  const line = maven ? lines[index].slice(maven[0].length) : lines[index];
  if (state.diffLines > 0) state.diffLines -= 1;
  if (line.trim() === "") {
    state.eslintFile = null;
    state.panicLines = 0;
    return next;
  }
  if (state.mavenResults && !/^\s/.test(line)) state.mavenResults = false;
  const scan: Scan = { lines, index, found, state, level: maven?.[1] };
  for (const rule of RULES) {
    const claimed = rule(line, scan);
    if (claimed !== undefined) return claimed;
  }
  return next;
}

// `(?<!\s)`: tried from every blank of a long run, the pattern was quadratic; the match starts at a run's first blank anyway.
const DURATION_SUFFIX = /(?<!\s)\s+(?:\(\d+(?:\.\d+)?\s?m?s\)|\d+(?:\.\d+)?\s?m?s)$/;

/** node:test's TAP: `not ok 2 - name`, then a YAML block with the error, location and stack. */
const tapFailure: Rule = (line, { lines, index, found }) => {
  const failure = tapFailureOf(line);
  if (!failure) return undefined;
  const end = yamlBlockEnd(lines, index, failure.indent);
  if (failure.directive !== undefined) return end;
  const block = lines.slice(index + 1, end);
  // A suite fails when a test in it fails; the test itself is reported on its own.
  if (block.some((entry) => /^\s*failureType:\s*'?subtestsFailed'?\s*$/.test(entry))) return end;
  const name = failure.name || `test ${index + 1}`;
  if (found.test(name)) found.keep(`not ok - ${name}`);
  readTapBlock(block, found);
  return end;
};

function yamlBlockEnd(lines: readonly string[], index: number, indent: number): number {
  if (!/^\s*---\s*$/.test(lines[index + 1] ?? "")) return index + 1;
  for (let end = index + 2; end < lines.length && end < index + 500; end += 1) {
    if (/^\s*\.\.\.\s*$/.test(lines[end])) return end + 1;
    if (lines[end].trim() !== "" && indentOf(lines[end]) <= indent) return end;
  }
  return Math.min(lines.length, index + 500);
}

function readTapBlock(block: readonly string[], found: Findings): void {
  for (let at = 0; at < block.length; at += 1) {
    const entry = block[at];
    const location = tapLocationOf(entry);
    if (location) found.location(location.file, location.line, location.column);
    // `(?!\s)`: all the blanks or none; giving them back one by one to `(.*)` only found the same line terminator again.
    const keyed = /^(\s*)(error|stack|expected|actual):\s*(?!\s)(.*)$/.exec(entry);
    if (!keyed) continue;
    const [, keyIndent, key, value] = keyed;
    if (!/^[|>]-?$/.test(value)) {
      if (key !== "stack") found.keep(key === "error" ? unquoteYaml(value) : `${key}: ${value}`);
      continue;
    }
    // A block scalar: the lines indented under the key.
    while (at + 1 < block.length && (block[at + 1].trim() === "" || indentOf(block[at + 1]) > keyIndent.length)) {
      at += 1;
      const text = block[at].trim();
      if (text === "") continue;
      if (key === "stack") keepJsFrame(text, found);
      else found.keep(key === "error" ? text : `${key}: ${text}`);
    }
  }
}

function unquoteYaml(value: string): string {
  const quoted = /^'(.*)'$/.exec(value);
  if (quoted) return quoted[1].replace(/''/g, "'");
  return value.replace(/^"(.*)"$/, "$1");
}

/** node:test's spec reporter: `✖ name (1.2ms)`, `▶ suite`, `test at file:line:col`. */
const nodeSpec: Rule = (line, { index, found, state }) => {
  const suite = /^\s*▶ (.+?)(?: \([\d.]+m?s\))?$/.exec(line);
  if (suite) {
    state.specSuites.add(suite[1]);
    return index + 1;
  }
  const where = /^test at (.+):(\d+):(\d+)$/.exec(line);
  if (where) {
    found.location(where[1], where[2], where[3]);
    return index + 1;
  }
  const failed = /^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/.exec(line);
  if (!failed) return undefined;
  const name = failed[1];
  if (name === "failing tests:") state.specRecap = "in";
  // "✖ 3 problems" is ESLint's summary.
  if (name === "failing tests:" || /^\d+ problems? \(/.test(name) || state.specSuites.has(name)) return index + 1;
  const shown = found.test(name);
  if (state.specRecap === "in" || (shown && state.specRecap === "none")) found.keep(line.trim());
  return index + 1;
};

/** Jest and Vitest: `FAIL file[ > suite > test]`, `× name`/`✕ name`, `● suite › test`, `→ message`. */
const jsRunner: Rule = (line, { lines, index, found, state }) => {
  // The name ends with its last non-blank (a lazy `(\S.*?)\s*$` tried the blanks after every character).
  const header = /^\s*(FAIL|PASS) {1,2}(\S(?:.*\S)?)\s*$/.exec(line);
  if (header) {
    found.leaveSuite();
    if (header[1] === "PASS") return index + 1;
    const name = withoutProjectLabel(header[2]).replace(DURATION_SUFFIX, "");
    // A file on its own heads the file's failures (Jest), or failed to load (Vitest).
    const shown = name.includes(" > ") ? found.test(name) : found.enterSuite(name);
    if (shown) found.keep(`FAIL ${name}`);
    return index + 1;
  }
  const cross = /^\s*[×✕] (.+)$/.exec(line);
  if (cross) {
    const name = cross[1].replace(DURATION_SUFFIX, "");
    if (found.test(name) && !state.jsDetailsAhead) found.keep(`× ${name}`);
    return index + 1;
  }
  const bullet = /^\s*● (.+)$/.exec(line);
  if (bullet) {
    const name = bullet[1].trim();
    if (name === "Console") return index + 1;
    const suiteFailed = name === "Test suite failed to run";
    if (suiteFailed) found.generic(`${name}: ${found.currentSuite() ?? ""}`);
    if (!suiteFailed && !found.test(name)) return index + 1;
    found.keep(`● ${name}`);
    // Jest's first line under the name is the error ("Cannot find module…"), whatever its form.
    const first = lines.slice(index + 1, index + 4).find((next) => next.trim() !== "");
    if (first !== undefined && !/^\s*(?:>\s*)?\d+ \|/.test(first)) found.keep(first);
    return index + 1;
  }
  const arrow = /^\s*→ (.+)$/.exec(line);
  if (arrow) {
    found.keep(arrow[1]);
    return index + 1;
  }
  return undefined;
};

/** go test: `--- FAIL: Name`, `    file_test.go:12: message`, panics and their goroutine frames. */
const goTest: Rule = (line, { index, found }) => {
  const failed = /^\s*--- FAIL: (\S+)/.exec(line);
  if (failed) {
    if (found.test(failed[1], "go")) found.keep(line.trim());
    return index + 1;
  }
  if (/^FAIL\s+\S+\s+\[(?:build|setup) failed\]$/.test(line)) {
    found.generic(line);
    found.keep(line);
    return index + 1;
  }
  const log = /^\s+(\S+\.go):(\d+): (.+)$/.exec(line);
  if (log) {
    found.location(log[1], log[2]);
    found.keep(`${log[1]}:${log[2]}: ${log[3]}`);
    return index + 1;
  }
  const frame = /^\t(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?$/.exec(line);
  if (frame) {
    if (!isLibraryPath(frame[1])) {
      found.location(frame[1], frame[2]);
      found.keep(line.trim(), "frame");
    }
    return index + 1;
  }
  const panic = /^panic: (.+?)(?: \[recovered\])?$/.exec(line);
  if (panic) {
    found.generic(`panic: ${panic[1]}`);
    found.keep(`panic: ${panic[1]}`);
    return index + 1;
  }
  if (/^\s+panic: /.test(line)) return index + 1; // the re-panic repeats the message
  return undefined;
};

/** cargo test: `test name ... FAILED`, `thread 'name' panicked at file:line:col:` and its message. */
const cargoTest: Rule = (line, { index, found, state }) => {
  const failed = /^test (\S+) \.\.\. FAILED$/.exec(line);
  if (failed) {
    if (found.test(failed[1])) found.keep(line);
    return index + 1;
  }
  const panic = /^thread '(.+?)'(?: \(\d+\))? panicked at (.*)$/.exec(line);
  if (panic) {
    const at = locationAtEndOf(panic[2]);
    if (at) found.location(at.file, at.line, at.column);
    found.keep(line.replace(/ \(\d+\) panicked/, " panicked"));
    state.panicLines = 8;
    return index + 1;
  }
  if (state.panicLines > 0) {
    if (/^(?:note|stack backtrace):/.test(line)) {
      state.panicLines = 0;
      return index + 1;
    }
    state.panicLines -= 1;
    found.keep(line.trimEnd());
    return index + 1;
  }
  return undefined;
};

const RUSTC_ARROW = new RegExp(String.raw`^\s*--> (${FILE}):(\d+):(\d+)`);

/** rustc: `error[E0308]: message` with ` --> file:line:col` below, and caret labels. */
const rustc: Rule = (line, { lines, index, found }) => {
  const label = caretLabelOf(line);
  if (label !== null) {
    found.keep(label);
    return index + 1;
  }
  const match = /^(error|warning)(\[E\d+\])?: (.+)$/.exec(line);
  if (!match) return undefined;
  const [, severity, code = "", message] = match;
  const arrow = lines
    .slice(index + 1, index + 4)
    .map((next) => RUSTC_ARROW.exec(next))
    .find((match) => match !== null);
  if (arrow) {
    const [, file, lineNumber, column] = arrow;
    found.diagnostic(`${file}:${lineNumber}:${column}:${severity}${code}:${message}`, severity === "error" ? "error" : "warning");
    found.location(file, lineNumber, column);
    found.keep(`${file}:${lineNumber}:${column}: ${severity}${code}: ${message}`);
  } else if (severity === "error") {
    // Without a location this is cargo's or a tool's summary ("could not compile"), not a diagnostic.
    found.generic(line);
    found.keep(line);
  }
  return index + 1;
};

const TSC_PLAIN = new RegExp(String.raw`^(${FILE})\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$`);
const TSC_PRETTY = new RegExp(String.raw`^(${FILE}):(\d+):(\d+) - (error|warning) (TS\d+): (.*)$`);

/** tsc: `file.ts(12,5): error TS2322: …` and, with --pretty, `file.ts:12:5 - error TS2322: …`. */
const typescript: Rule = (line, { index, found }) => {
  const match = TSC_PLAIN.exec(line) ?? TSC_PRETTY.exec(line);
  if (!match) return undefined;
  const [, file, lineNumber, column, severity, code, message] = match;
  found.diagnostic(`${file}:${lineNumber}:${column}:${code}:${message}`, severity === "error" ? "error" : "warning");
  found.location(file, lineNumber, column);
  found.keep(line.trim());
  return index + 1;
};

const JAVAC_IN_MAVEN = new RegExp(String.raw`^(${FILE}):\[(\d+),(\d+)\] (.*)$`);

/** javac under Maven: `[ERROR] /path/Foo.java:[5,50] cannot find symbol`. */
const javac: Rule = (line, { index, found, level }) => {
  const match = JAVAC_IN_MAVEN.exec(line);
  if (!match) return undefined;
  const [, file, lineNumber, column, message] = match;
  found.diagnostic(`${file}:${lineNumber}:${column}:${message}`, level === "WARNING" || level === "WARN" ? "warning" : "error");
  found.location(file, lineNumber, column);
  found.keep(line.trim());
  return index + 1;
};

// A path alone on its line (with a separator, checked apart: one pattern for both is quadratic).
const ESLINT_FILE = /^((?:[A-Za-z]:)?[^\s:()'"<>|*?]+\.[A-Za-z0-9]{1,10})$/;

/** ESLint's stylish format: a file path line, then `  12:5  error  message  rule-id` lines. */
const eslintStylish: Rule = (line, { index, found, state }) => {
  const file = ESLINT_FILE.exec(line);
  if (file && /[\\/]/.test(file[1])) {
    state.eslintFile = file[1];
    return index + 1;
  }
  const problem = eslintProblemOf(line);
  if (!problem || state.eslintFile === null) return undefined;
  const { lineNumber, column, severity, rest } = problem;
  const message = rest.trim().replace(/\s{2,}/g, "  ");
  found.diagnostic(`${state.eslintFile}:${lineNumber}:${column}:${message}`, severity === "error" ? "error" : "warning");
  found.location(state.eslintFile, lineNumber, column);
  // Rewritten to stand alone: the file header may not survive the token budget.
  found.keep(`${state.eslintFile}:${lineNumber}:${column}: ${severity}  ${message}`);
  return index + 1;
};

/**
 * `file:line:col: [severity:] message` at the start of a line: gcc, clang, go build and vet,
 * mypy, ruff, flake8, javac. Without a column or a severity it is only a location
 * (pytest's `tests/test_x.py:12: AssertionError`).
 */
const compilerStyle: Rule = (line, { index, found }) => {
  const diagnostic = compilerDiagnosticOf(line);
  if (!diagnostic) return undefined;
  const { file, line: lineNumber, column, severity, message } = diagnostic;
  if (severity === "note" || severity === "info" || severity === "hint" || severity === "remark") return index + 1;
  if (severity === undefined && column === undefined) {
    found.location(file, lineNumber);
    found.keep(line.trim(), "frame");
    return index + 1;
  }
  found.diagnostic(`${file}:${lineNumber}:${column ?? ""}:${message}`, severity === "warning" ? "warning" : "error");
  found.location(file, lineNumber, column);
  found.keep(line.trim());
  return index + 1;
};

/** pytest: `FAILED path::test - message`, `____ test ____` section heads, `E   ` lines. */
const pytest: Rule = (line, { index, found }) => {
  const summary = /^(FAILED|ERROR) (\S+?)(?: - (.*))?$/.exec(line);
  if (summary && /::|\.py\b/.test(summary[2])) {
    // An ERROR without "::" is a module that failed to collect.
    const shown = summary[2].includes("::") ? found.test(summary[2]) : found.enterSuite(summary[2]);
    found.leaveSuite();
    if (shown || summary[3]) found.keep(line.trim());
    return index + 1;
  }
  const section = /^_{3,} (.+?) _{3,}$/.exec(line);
  if (section) {
    const title = section[1];
    const collecting = /^ERROR collecting (.+)$/.exec(title);
    const fixture = /^ERROR at (?:setup|teardown) of (.+)$/.exec(title);
    const shown = collecting ? found.enterSuite(collecting[1]) : found.test(fixture ? fixture[1] : title);
    found.leaveSuite();
    if (shown) found.keep(`___ ${title} ___`);
    return index + 1;
  }
  const detail = /^E\s+(?!\s)(.*)$/.exec(line);
  if (detail) {
    found.keep(`E ${detail[1].trim()}`);
    return index + 1;
  }
  return undefined;
};

/** Python tracebacks: `  File "app/x.py", line 12, in f`. */
const pythonFrame: Rule = (line, { index, found }) => {
  const match = /^\s*File "(.+?)", line (\d+)(?:, in .+)?$/.exec(line);
  if (!match) return undefined;
  if (!isLibraryPath(match[1])) {
    found.location(match[1], match[2]);
    found.keep(line.trim(), "frame");
  }
  return index + 1;
};

/** RSpec: `rspec ./spec/x_spec.rb:12 # description`, `  1) description`, `Failure/Error:`, `# ./x.rb:9:in`. */
const rspec: Rule = (line, { lines, index, found }) => {
  const rerun = /^rspec '?(\.?[^\s'[]+?)(?::(\d+)|\[[\d:]+\])'?(?: # (.+))?$/.exec(line);
  if (rerun) {
    const [, file, lineNumber, description] = rerun;
    if (lineNumber) found.location(file, lineNumber);
    if (found.test(description ?? file)) found.keep(line.trim());
    return index + 1;
  }
  const numbered = /^\s*\d+\) (\S.*)$/.exec(line);
  if (numbered && /^\s*Failure\/Error:/.test(lines.slice(index + 1, index + 3).find((next) => next.trim() !== "") ?? "")) {
    if (found.test(numbered[1])) found.keep(line.trim());
    return index + 1;
  }
  if (/^\s*Failure\/Error:/.test(line)) {
    found.keep(line.trim());
    return index + 1;
  }
  const frame = /^\s*# (\S+?):(\d+):in /.exec(line);
  if (frame) {
    if (!isLibraryPath(frame[1])) {
      found.location(frame[1], frame[2]);
      found.keep(line.trim(), "frame");
    }
    return index + 1;
  }
  return undefined;
};

/** JUnit under Maven Surefire and Gradle: `name -- Time elapsed … <<< FAILURE!`, the results list, `Class > test FAILED`. */
const junit: Rule = (line, { index, found, state, level }) => {
  const verdict = /<<< (FAILURE|ERROR)!/.exec(line);
  if (verdict) {
    if (/^\s*Tests run:/.test(line)) {
      const suite = /-{1,2} in (\S+)/.exec(line);
      if (suite) found.enterSuite(suite[1]);
      return index + 1;
    }
    const raw = withoutTimeElapsed(line).trim();
    // Surefire 2 prints `method(com.example.Class)`.
    const old = /^([\w$]+)\(([\w.$]+)\)$/.exec(raw);
    const name = old ? `${old[2]}.${old[1]}` : raw;
    if (found.test(name)) found.keep(`${name} <<< ${verdict[1]}!`);
    return index + 1;
  }
  if (level !== undefined && /^(?:Failures|Errors):\s*$/.test(line)) {
    state.mavenResults = true;
    return index + 1;
  }
  // `(?!\s)`: all the blanks or none, as in readTapBlock.
  const result = state.mavenResults ? /^\s+([\w$]+(?:\.[\w$]+)+?)(?::\d+)?\s+(?!\s)(.*)$/.exec(line) : null;
  if (result) {
    found.test(result[1]);
    found.keep(line.trim());
    return index + 1;
  }
  const gradle = /^(\S[^>]*?) > (.+?) FAILED$/.exec(line);
  if (gradle && !line.startsWith("> Task")) {
    const name = `${gradle[1]} > ${gradle[2]}`;
    if (found.test(name)) found.keep(line.trim());
    return index + 1;
  }
  const gradleCause = /^\s+([\w$.]+(?:Error|Exception|Failure)\w*)(?:: .*?)? at ([\w$]+\.(?:java|kt|groovy|scala)):(\d+)$/.exec(line);
  if (gradleCause) {
    found.location(gradleCause[2], gradleCause[3]);
    found.keep(line.trim());
    return index + 1;
  }
  return undefined;
};

const JAVA_LIBRARY = /^(?:java|javax|jdk|sun|com\.sun|org\.junit|junit|org\.opentest4j|org\.apache\.maven|org\.gradle|worker\.org\.gradle|kotlin|kotlinx|scala|org\.testng|org\.mockito|net\.bytebuddy)\./;

/** JVM frames: `at com.example.Foo.bar(Foo.java:12)`; the location is the package path and file name. */
const javaFrame: Rule = (line, { index, found }) => {
  const match = /^\s*at (?:[\w.]+\/)?([\w$.<>]+)\(([\w$]+\.(?:java|kt|scala|groovy)):(\d+)\)$/.exec(line);
  if (!match) return undefined;
  const [, qualified, file, lineNumber] = match;
  if (JAVA_LIBRARY.test(qualified)) return index + 1;
  const packagePath = qualified.split(".").slice(0, -2).join("/");
  found.location(packagePath ? `${packagePath}/${file}` : file, lineNumber);
  found.keep(line.trim(), "frame");
  return index + 1;
};

const JS_FRAME = new RegExp(String.raw`^(?:at )?(?:.*? \()?(?:file://)?(${FILE}):(\d+)(?::(\d+))?\)?$`);
const VITEST_FRAME = new RegExp(String.raw`^\s*❯ (?:\S+ )?(${FILE}):(\d+):(\d+)$`);

/** JavaScript and Rust backtrace frames (`at fn (file:line:col)`, `at ./src/lib.rs:1:2`) and Vitest's `❯ file:line:col`. */
const stackFrame: Rule = (line, { index, found }) => {
  const vitest = VITEST_FRAME.exec(line);
  if (vitest) {
    if (!isLibraryPath(vitest[1])) {
      found.location(vitest[1], vitest[2], vitest[3]);
      found.keep(line.trim(), "frame");
    }
    return index + 1;
  }
  if (!/^\s*at /.test(line)) return undefined;
  keepJsFrame(line.trim(), found);
  return index + 1;
};

function keepJsFrame(frame: string, found: Findings): void {
  const match = JS_FRAME.exec(frame);
  if (!match || isLibraryPath(match[1])) return;
  found.location(match[1], match[2], match[3]);
  found.keep(frame.startsWith("at ") ? frame : `at ${frame}`, "frame");
}

const ERROR_LINE = /^\s*(?:Caused by: |Uncaught |Unhandled rejection:? )?(?:[\w$]+\.)*[\w$]*(?:Error|Exception|Failure|Fault)\w*(?: \[[\w-]+\])?: \S/;
const TOOL_ERROR = /^\s*(?:error|fatal(?: error)?|ERROR|FATAL)(?:\[\w+\])?:\s+\S/;
const ASSERTION_LINES = [
  /^\s*(?:expected|received|actual)\b/i,
  /^\s*(?:got|left|right|want|wanted|but was)\s*:/i,
  /\bexpected\b.*\b(?:to|but|got|received|instead|found)\b/i,
  /!==|\bnot (?:strictly |deep(?:ly)? )?equal\b|\bassert(?:ion)?\b.*\bfail/i,
  /^\s*expect\(/,
  /^\s*(?:symbol|location|required|found|reason):\s/,
  /^\s*\+ Received\b/,
];

/** Messages with no format of their own: exceptions, `error:` lines, assertion details, diffs. */
const message: Rule = (line, { index, found, state }) => {
  if (ERROR_LINE.test(line) || TOOL_ERROR.test(line)) {
    found.generic(line.trim());
    found.keep(line.trim());
    return index + 1;
  }
  if (/^\s*- Expected\b/.test(line)) {
    state.diffLines = 12;
    found.keep(line.trim());
    return index + 1;
  }
  if (ASSERTION_LINES.some((pattern) => pattern.test(line)) || (state.diffLines > 0 && /^\s*[-+] \S/.test(line))) {
    found.keep(line.trim());
    return index + 1;
  }
  return undefined;
};

// Order matters where formats overlap: each rule sees only lines no earlier rule claimed.
const RULES: readonly Rule[] = [
  tapFailure,
  nodeSpec,
  jsRunner,
  goTest,
  cargoTest,
  rustc,
  typescript,
  javac,
  eslintStylish,
  compilerStyle,
  pytest,
  pythonFrame,
  rspec,
  junit,
  javaFrame,
  stackFrame,
  message,
];

const LIBRARY_PATH =
  /(?:^|[\\/])(?:node_modules|site-packages|dist-packages|\.cargo|\.rustup|gems|rubygems)[\\/]|^node:|^internal[\\/]|^<|^\/rustc\/|[\\/]lib[\\/]python\d|[\\/]go[\\/]pkg[\\/]mod[\\/]|^\/usr\/(?:local\/)?(?:lib|go|include|share)\//;

/** Frames in dependencies and runtimes say little about what the agent should change. */
function isLibraryPath(file: string): boolean {
  return LIBRARY_PATH.test(file.replace(/^file:\/\//, ""));
}

function indentOf(line: string): number {
  return /^\s*/.exec(line)![0].length;
}

// --- Findings ---------------------------------------------------------------------------

interface KeptLine {
  text: string;
  frame: boolean;
}

interface TestEntry {
  name: string;
  segments: string[];
  kind: "test" | "go" | "suite";
  /** For a suite: a test was reported inside it, so the suite itself is not listed. */
  hasTests: boolean;
}

type Findings = ReturnType<typeof createFindings>;

function createFindings() {
  const kept: KeptLine[] = [];
  const seenLines = new Set<string>();
  const entries: TestEntry[] = [];
  const diagnostics = new Map<string, "error" | "warning">();
  const generic = new Set<string>();
  const locations: ErrorLocation[] = [];
  let suite: TestEntry | null = null;

  /** Keep a line of text (once); frames go after everything else. */
  function keep(text: string, weight: "primary" | "frame" = "primary"): void {
    const line = text.trim();
    if (line === "" || seenLines.has(line)) return;
    seenLines.add(line);
    kept.push({ text: truncateMiddle(line, MAX_KEPT_LINE_CHARS), frame: weight === "frame" });
  }

  /**
   * Record a failing test. Runners print one test several ways (`adds` in a tree,
   * `file > suite > adds` in the details), so a name whose segments end another's is the
   * same test: the most specific form is kept. True when the name is new or more specific
   * than what was known (worth a line of text).
   */
  function test(name: string, kind: "test" | "go" = "test"): boolean {
    const clean = name.trim();
    if (clean === "") return false;
    const segments = segmentsOf(clean);
    if (suite) suite.hasTests = true;
    for (const [at, entry] of entries.entries()) {
      if (entry.kind === "suite") continue;
      if (endsWith(entry.segments, segments)) return false;
      if (endsWith(segments, entry.segments)) {
        entries[at] = { name: clean, segments, kind, hasTests: false };
        return true;
      }
    }
    entries.push({ name: clean, segments, kind, hasTests: false });
    return true;
  }

  /** A file or class whose failures follow; listed only if none of its tests are. */
  function enterSuite(name: string): boolean {
    const existing = entries.find((entry) => entry.kind === "suite" && entry.name === name);
    suite = existing ?? { name, segments: segmentsOf(name), kind: "suite", hasTests: false };
    if (!existing) entries.push(suite);
    return !existing;
  }

  function failingTests(): string[] {
    const tests = entries.filter((entry) => entry.kind !== "suite");
    return entries
      .filter((entry) => {
        if (entry.kind === "suite") return !entry.hasTests && !tests.some((t) => [" > ", "::", ".", " › "].some((sep) => t.name.startsWith(entry.name + sep)));
        // go test fails a parent when a subtest fails; the subtest says more.
        if (entry.kind === "go") return !tests.some((t) => t.name.startsWith(`${entry.name}/`));
        return true;
      })
      .map((entry) => entry.name);
  }

  function location(file: string, line: string, column?: string): void {
    const path = file.replace(/^file:\/\//, "").replace(/^\.\//, "");
    const lineNumber = Number(line);
    const columnNumber = column === undefined ? undefined : Number(column);
    if (!Number.isSafeInteger(lineNumber) || path === "") return;
    const same = locations.findIndex((known) => known.file === path && known.line === lineNumber);
    if (same >= 0) {
      // One place printed with and without a column is one location; keep the column.
      if (locations[same].column === undefined && columnNumber !== undefined) locations[same] = { file: path, line: lineNumber, column: columnNumber };
      if (locations[same].column === columnNumber || columnNumber === undefined) return;
    }
    locations.push(columnNumber === undefined ? { file: path, line: lineNumber } : { file: path, line: lineNumber, column: columnNumber });
  }

  function count(testCount: number): number {
    const errors = [...diagnostics.values()].filter((severity) => severity === "error").length;
    const warnings = diagnostics.size - errors;
    return testCount + errors > 0 ? testCount + errors : generic.size + warnings;
  }

  return {
    kept,
    locations,
    keep,
    test,
    enterSuite,
    leaveSuite: () => void (suite = null),
    currentSuite: () => suite?.name ?? null,
    failingTests,
    location,
    diagnostic: (key: string, severity: "error" | "warning") => void diagnostics.set(key, diagnostics.get(key) === "error" ? "error" : severity),
    generic: (text: string) => void generic.add(text.trim()),
    count,
  };
}

function segmentsOf(name: string): string[] {
  return name
    .split(/::| > | › |[./\\]/)
    .map((segment) => segment.trim())
    .filter((segment) => segment !== "");
}

/** Whether `whole` ends with the segments of `tail`. */
function endsWith(whole: readonly string[], tail: readonly string[]): boolean {
  if (tail.length === 0 || tail.length > whole.length) return false;
  const offset = whole.length - tail.length;
  return tail.every((segment, at) => whole[offset + at] === segment);
}

// --- Rendering --------------------------------------------------------------------------

/** Primary lines in order, then frames; whole lines while they fit, then one marker for the rest. */
function renderWithin(kept: readonly KeptLine[], maxTokens: number): string {
  const ordered = [...kept.filter((line) => !line.frame), ...kept.filter((line) => line.frame)].map((line) => line.text);
  const budget = budgetOf(maxTokens);
  const all = ordered.join("\n");
  if (estimateTokens(all) <= budget) return all;
  // Each line is costed with its newline: the sum bounds the joined text's estimate.
  const room = budget - TRUNCATION_MARKER_TOKENS;
  let used = 0;
  let count = 0;
  while (count < ordered.length) {
    const cost = estimateTokens(`${ordered[count]}\n`);
    if (used + cost > room) break;
    used += cost;
    count += 1;
  }
  if (count === 0) return fitToTokens(all, budget);
  const dropped = ordered.slice(count).join("\n");
  return fitToTokens(`${ordered.slice(0, count).join("\n")}\n${truncationMarker(dropped.length)}`, budget);
}

/** Nothing recognized: the informative part of the output, as for a test run. */
function fallbackText(lines: readonly string[], maxTokens: number): string {
  const budget = budgetOf(maxTokens);
  // Its patterns are slow on long lines (quadratic in their length): hand it short ones.
  const short = lines.map((line) => (line.length > MAX_SUMMARIZED_CHARS ? truncateMiddle(line, MAX_SUMMARIZED_CHARS) : line));
  return fitToTokens(summarizeTestOutput(short.join("\n"), budget * 4), budget);
}
