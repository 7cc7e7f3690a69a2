/**
 * Shortening a test run's output for the model and the check run. Test output puts what
 * matters in a few places: the failing tests, their errors with file:line, and the summary
 * at the end. We keep those, drop the rest (passing tests, progress, coverage tables), and
 * leave a marker wherever something was dropped.
 *
 * Length contract (the same as truncateMiddle's): after terminal escape codes are removed,
 * output that fits is returned whole; otherwise the result has at least one marker and
 * `result.length <= Math.max(maxChars, truncationMarker(cleaned.length).length)`.
 */
import { budgetOf, truncateMiddle, truncationMarker } from "../context/truncate.ts";
import { trimTrailing } from "../context/trim-trailing.ts";

// Colours, cursor movement and OSC hyperlinks: they cost characters and carry nothing.
// eslint-disable-next-line no-control-regex -- terminal escape sequences start with ESC.
const TERMINAL_ESCAPE = /\x1B\[[0-?]*[ -/]*[@-~]|\x1B\][^\x07\x1B]*(?:\x07|\x1B\\)|\x1B[@-Z\\-_]/g;

const SUMMARY_LINE = [
  /\b(?:Tests?|Test Files|Test Suites|Snapshots):\s/,
  /\b\d+ (?:passed|failed|failing|passing|pending|skipped|errors?)\b/,
  /^\s*(?:test result:|Ran \d+ tests?|Tests run:|BUILD (?:SUCCESS|FAILURE|FAILED)|FAILED \(|OK\b)/,
];
const FAILURE_LINE = [
  /\b(?:FAIL|FAILED|FAILURE|ERROR)\b/,
  /\b[A-Za-z]*(?:Error|Exception)\b/,
  /^\s*(?:[✗✕×✖❌●]|not ok\b|--- FAIL|panic:|thread '.*' panicked|Traceback|E {2,}|> )/,
  /\b(?:expected|received|actual|assert(?:ion)?)\b/i,
  /[\w./\\-]+\.[A-Za-z]{1,5}:\d+/,
];
// A passing test whose name says "expected" or "error" is still noise.
const PASSING_LINE = /^\s*(?:[✓✔√]|PASS\b|ok\b)|\bPASSED\b/;
/** Lines kept after a failure line: the error message and location usually follow it. */
const CONTEXT_AFTER = 2;
/** Share of the budget reserved for the end of the output before anything else is picked. */
const TAIL_SHARE = 0.4;

/** The informative part of a test run's output, within `maxChars` (see the length contract above). */
export function summarizeTestOutput(output: string, maxChars: number): string {
  const text = cleanTerminalOutput(output);
  const budget = budgetOf(maxChars);
  if (text.length <= budget) return text;
  const markerCost = truncationMarker(text.length).length + 1;
  if (budget < markerCost) return truncationMarker(text.length);

  const lines = text.split("\n");
  const lineCap = Math.max(80, Math.floor(budget / 4));
  const shown = lines.map((line) => (line.length > lineCap ? truncateMiddle(line, lineCap) : line));
  const selection = createSelection(shown, budget, markerCost);

  selection.extendTail(Math.floor(budget * TAIL_SHARE));
  lines.forEach((line, index) => {
    if (matchesAny(SUMMARY_LINE, line)) selection.add(index);
  });
  lines.forEach((line, index) => {
    if (PASSING_LINE.test(line) || !matchesAny(FAILURE_LINE, line) || !selection.add(index)) return;
    for (let after = 1; after <= CONTEXT_AFTER; after += 1) selection.add(index + after);
  });
  selection.extendTail(budget);
  selection.fillSmallGaps();
  return renderSelection(lines, shown, selection.kept);
}

function cleanTerminalOutput(output: string): string {
  return output
    .replace(TERMINAL_ESCAPE, "")
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map(keepLastRedraw)
    .join("\n");
}

/** Progress bars redraw a line after `\r`; only the last drawing is what the user saw. */
function keepLastRedraw(line: string): string {
  const trimmed = trimTrailing(line, "\r");
  return trimmed.slice(trimmed.lastIndexOf("\r") + 1);
}

/** Longest prefix of a line the patterns look at: several of them are quadratic in line length. */
const CLASSIFY_CHARS = 1_000;

function matchesAny(patterns: readonly RegExp[], line: string): boolean {
  const head = line.length > CLASSIFY_CHARS ? line.slice(0, CLASSIFY_CHARS) : line;
  return patterns.some((pattern) => pattern.test(head));
}

/**
 * The set of kept lines and an upper bound of their rendered length: each kept line costs
 * its length plus a newline, each run of dropped lines one marker line of the largest size.
 */
function createSelection(shown: readonly string[], budget: number, markerCost: number) {
  const kept = shown.map(() => false);
  let cost = markerCost;
  let tailStart = shown.length;

  function costOfAdding(index: number): number {
    const openBefore = index > 0 && !kept[index - 1];
    const openAfter = index < shown.length - 1 && !kept[index + 1];
    const gapChange = openBefore && openAfter ? 1 : !openBefore && !openAfter ? -1 : 0;
    return shown[index].length + 1 + gapChange * markerCost;
  }

  function add(index: number): boolean {
    if (index < 0 || index >= shown.length) return false;
    if (kept[index]) return true;
    const delta = costOfAdding(index);
    if (cost + delta > budget) return false;
    kept[index] = true;
    cost += delta;
    return true;
  }

  /** Keep lines from the end backwards while the total stays within `limit`. */
  function extendTail(limit: number): void {
    while (tailStart > 0 && (kept[tailStart - 1] || cost + costOfAdding(tailStart - 1) <= Math.min(limit, budget))) {
      tailStart -= 1;
      add(tailStart);
    }
  }

  /** Keep dropped runs that cost no more than the marker replacing them, budget allowing. */
  function fillSmallGaps(): void {
    let start = 0;
    while (start < shown.length) {
      if (kept[start]) {
        start += 1;
        continue;
      }
      let end = start;
      while (end < shown.length && !kept[end]) end += 1;
      const linesCost = shown.slice(start, end).reduce((sum, line) => sum + line.length + 1, 0);
      if (cost + linesCost - markerCost <= budget) {
        for (let index = start; index < end; index += 1) kept[index] = true;
        cost += linesCost - markerCost;
      }
      start = end;
    }
  }

  return { kept, add, extendTail, fillSmallGaps };
}

function renderSelection(lines: readonly string[], shown: readonly string[], kept: readonly boolean[]): string {
  const parts: string[] = [];
  let index = 0;
  while (index < lines.length) {
    if (kept[index]) {
      parts.push(shown[index]);
      index += 1;
      continue;
    }
    let removed = -1; // the dropped lines' own characters plus the newlines between them
    while (index < lines.length && !kept[index]) {
      removed += lines[index].length + 1;
      index += 1;
    }
    parts.push(truncationMarker(removed));
  }
  return parts.join("\n");
}
