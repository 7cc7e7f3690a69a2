/**
 * Rendering chosen files as an indented tree, and choosing how many fit a token budget.
 * Every file that is not listed is counted on a `… and N more files in dir/` line of the
 * nearest directory the tree shows (the root, at worst), and files not mapped at all are
 * counted on the last line, so `listed + Σ more + not mapped` is always the number of files
 * given. Pure.
 */
import { truncateMiddle } from "./truncate.ts";

export interface MapEntry {
  path: string;
  /** Directory without trailing slash; "" at the top level. */
  dir: string;
  name: string;
  /** The file's line without indentation: its name and symbols. */
  line: string;
}

export interface Disclosure {
  /** Mappable files per directory, counting subdirectories. */
  subtreeTotals: ReadonlyMap<string, number>;
  /** Files not mapped at all, by reason, in the order to report them. */
  skipped: ReadonlyMap<string, number>;
  filesTotal: number;
}

/** A tree line longer than this (an absurd file name) is cut in the middle, visibly. */
const MAX_LINE = 240;

/** Per-directory totals, from each mappable file's directory. */
export function subtreeTotalsOf(dirs: Iterable<string>): Map<string, number> {
  const totals = new Map<string, number>([["", 0]]);
  for (const dir of dirs) totals.set(dir, (totals.get(dir) ?? 0) + 1);
  // Deepest first, each directory adds its total to its parent's once: O(directories).
  const byDepth: string[][] = [];
  for (const dir of totals.keys()) (byDepth[depthOf(dir)] ??= []).push(dir);
  for (let depth = byDepth.length - 1; depth > 0; depth -= 1) {
    for (const dir of byDepth[depth] ?? []) {
      const parent = parentOf(dir)!;
      const known = totals.get(parent);
      if (known === undefined) (byDepth[depth - 1] ??= []).push(parent);
      totals.set(parent, (known ?? 0) + totals.get(dir)!);
    }
  }
  return totals;
}

function depthOf(dir: string): number {
  if (dir === "") return 0;
  let depth = 1;
  for (let index = dir.indexOf("/"); index !== -1; index = dir.indexOf("/", index + 1)) depth += 1;
  return depth;
}

/**
 * A longest prefix of `ranked` whose rendering fits `maxTokens`, rendered. The length grows
 * nearly monotonically with the prefix (a new file can also remove a `… more` line), so an
 * exponential then binary search finds a fitting prefix in O(log n) renderings, and a
 * rendering that was measured is what is returned: the budget holds by construction. When
 * not even the counts alone (no file listed) fit, they are returned anyway.
 */
export function renderWithinBudget(
  ranked: readonly MapEntry[],
  disclosure: Disclosure,
  maxTokens: number,
  estimateTokens: (text: string) => number,
): { text: string; listed: number; tokens: number } {
  const attempt = (count: number) => {
    const text = renderTree(ranked.slice(0, count), disclosure);
    return { text, listed: count, tokens: estimateTokens(text) };
  };
  let best = attempt(0);
  if (best.tokens > maxTokens) return best;
  let low = 0;
  let high = 1;
  while (high <= ranked.length) {
    const next = attempt(high);
    if (next.tokens > maxTokens) break;
    best = next;
    low = high;
    high *= 2;
  }
  high = Math.min(high, ranked.length + 1);
  // Invariant: `low` fits (and is `best`), `high` does not or is past the end.
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const next = attempt(middle);
    if (next.tokens <= maxTokens) {
      best = next;
      low = middle;
    } else {
      high = middle;
    }
  }
  return best;
}

export function renderTree(selected: readonly MapEntry[], disclosure: Disclosure): string {
  const filesIn = new Map<string, MapEntry[]>();
  const childrenOf = new Map<string, Set<string>>([["", new Set()]]);
  const selectedIn = new Map<string, number>();
  for (const entry of selected) {
    const files = filesIn.get(entry.dir);
    if (files) files.push(entry);
    else filesIn.set(entry.dir, [entry]);
    for (let dir: string | undefined = entry.dir; dir !== undefined; ) {
      selectedIn.set(dir, (selectedIn.get(dir) ?? 0) + 1);
      const parent = parentOf(dir);
      if (parent !== undefined) {
        const siblings = childrenOf.get(parent);
        if (siblings) siblings.add(dir);
        else childrenOf.set(parent, new Set([dir]));
      }
      dir = parent;
    }
  }
  const unlisted = (dir: string) => (disclosure.subtreeTotals.get(dir) ?? 0) - (selectedIn.get(dir) ?? 0);

  const lines = [`Repository map (${selected.length} of ${disclosure.filesTotal} files, the most relevant; "…" lines count the rest):`];
  // A directory's block: its listed files, its listed subdirectories, then one line counting
  // everything beneath it that no deeper line accounts for.
  const renderDir = (dir: string, label: string, indent: string) => {
    const files = (filesIn.get(dir) ?? []).sort((a, b) => compareText(a.name, b.name));
    for (const file of files) lines.push(capLine(indent + printable(file.line)));
    let more = unlisted(dir);
    for (const start of [...(childrenOf.get(dir) ?? [])].sort(compareText)) {
      // A chain of directories holding no listed file and one listed subdirectory is one
      // line; what is left out along the chain is counted on this directory's line.
      let end = start;
      for (let only = childrenOf.get(end); !filesIn.has(end) && only?.size === 1; only = childrenOf.get(end)) end = only.values().next().value!;
      more -= unlisted(end);
      const childLabel = dir === "" ? end : end.slice(dir.length + 1);
      lines.push(capLine(`${indent}${printable(childLabel)}/`));
      renderDir(end, childLabel, `${indent}  `);
    }
    if (more > 0) lines.push(capLine(`${indent}… and ${more} more ${more === 1 ? "file" : "files"} in ${printable(label)}/`));
  };
  renderDir("", ".", "");
  const skippedTotal = [...disclosure.skipped.values()].reduce((sum, count) => sum + count, 0);
  if (skippedTotal > 0) {
    const reasons = [...disclosure.skipped]
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${reason}: ${count}`)
      .join(", ");
    lines.push(`… and ${skippedTotal} more ${skippedTotal === 1 ? "file" : "files"} not mapped (${reasons})`);
  }
  return `${lines.join("\n")}\n`;
}

export function parentOf(dir: string): string | undefined {
  if (dir === "") return undefined;
  const slash = dir.lastIndexOf("/");
  return slash === -1 ? "" : dir.slice(0, slash);
}

// File names may hold any byte but `/` and NUL: a line break in one must not start a line of its own.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

function printable(text: string): string {
  return text.replace(CONTROL, (char) => JSON.stringify(char).slice(1, -1));
}

function capLine(line: string): string {
  return line.length <= MAX_LINE ? line : truncateMiddle(line, MAX_LINE).replace(/\n/g, " ");
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
