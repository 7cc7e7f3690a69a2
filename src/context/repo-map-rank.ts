/**
 * How relevant a file is to an agent starting on a task, as a number: manifests, READMEs and
 * entry points first, shallow before deep, source before tests, and anything whose path or
 * symbols mention a word of the task well above its neighbours. Generated and vendored files
 * sort after everything else whatever their score (`lowTier`). Pure. (Long for its word
 * lists and the hand-written word splitter, which runs for every path.)
 */
import type { FileClass } from "./repo-map-files.ts";
import type { CodeSymbol } from "./repo-map-symbols.ts";

const MANIFESTS = new Set([
  "package.json",
  "deno.json",
  "tsconfig.json",
  "cargo.toml",
  "go.mod",
  "pyproject.toml",
  "setup.py",
  "setup.cfg",
  "requirements.txt",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "settings.gradle",
  "settings.gradle.kts",
  "gemfile",
  "makefile",
  "cmakelists.txt",
  "dockerfile",
  "docker-compose.yml",
  "compose.yaml",
]);
/** Above anything focus words can add (3 × 35 + 3 × 50 + 3 × 25). */
const TOP = 400;
const ROOT_DOCS = new Set(["agents.md", "claude.md", "contributing.md", "architecture.md", "design.md"]);
const ENTRY_STEMS = new Set(["main", "index", "app", "lib", "mod", "__init__", "__main__", "server", "cli"]);
const DOC_OR_CONFIG = new Set("md mdx rst adoc txt json jsonc yaml yml toml ini cfg conf xml gradle properties sql graphql proto sh".split(" "));
const STOP_WORDS = new Set(
  (
    "the and for with that this from into when then than them they their there these those what which while where " +
    "should would could must can not are was were been being has have had does did done its our your you please " +
    "add fix fixes fixed make use using update change bug issue error support new get set also all any some more"
  ).split(" "),
);

/** Focus words kept: a match is a bit in a 32-bit mask, and a long task's first words say the most. */
const MAX_FOCUS_WORDS = 31;

/** The task's words that can say something about a path: lower case, three letters or more, no stop words. */
export function focusWordsOf(focus: readonly string[] | undefined): string[] {
  const words = new Set<string>();
  for (const phrase of focus ?? []) {
    for (const word of wordsOf(phrase)) if (word.length >= 3 && !STOP_WORDS.has(word)) words.add(word);
  }
  return [...words].slice(0, MAX_FOCUS_WORDS);
}

/** `src/authLogin/token-store.ts` → src, auth, login, token, store, ts. Split by hand: it runs for every path. */
export function wordsOf(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  const flush = (end: number) => {
    if (start !== -1) words.push(text.slice(start, end).toLowerCase());
    start = -1;
  };
  for (let i = 0; i < text.length; i += 1) {
    const kind = charKind(text.charCodeAt(i));
    if (kind === OTHER) {
      flush(i);
      continue;
    }
    if (start !== -1 && kind === UPPER) {
      const previous = charKind(text.charCodeAt(i - 1));
      // authLogin → auth|Login; HTTPServer → HTTP|Server; md5Sum → md5|Sum.
      const nextIsLower = i + 1 < text.length && charKind(text.charCodeAt(i + 1)) === LOWER;
      if (previous !== UPPER || nextIsLower) flush(i);
    }
    if (start === -1) start = i;
  }
  flush(text.length);
  return words;
}

const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
function charKind(code: number): number {
  if (code >= 97 && code <= 122) return LOWER;
  if (code >= 65 && code <= 90) return UPPER;
  return code >= 48 && code <= 57 ? LOWER : OTHER;
}

export interface Scorer {
  /** The score from the path alone; comparable across files. */
  scorePath(file: FileClass): number;
  /** Extra score for symbols that mention the task's words. */
  scoreSymbols(symbols: readonly CodeSymbol[]): number;
}

/** A scorer for one task; it remembers which directories mention the task's words. */
export function createScorer(focusWords: readonly string[]): Scorer {
  // Which focus words a directory mentions, as a bit mask: a directory's is its parent's
  // plus its own last segment's, so each directory costs one segment lookup.
  const segmentMasks = new Map<string, number>();
  const dirMasks = new Map<string, number>([["", 0]]);
  const maskOfDir = (dir: string): number => {
    const known = dirMasks.get(dir);
    if (known !== undefined) return known;
    const slash = dir.lastIndexOf("/");
    const segment = dir.slice(slash + 1);
    let segmentMask = segmentMasks.get(segment);
    if (segmentMask === undefined) segmentMasks.set(segment, (segmentMask = maskOf(focusWords, wordsOf(segment))));
    const mask = maskOfDir(slash === -1 ? "" : dir.slice(0, slash)) | segmentMask;
    dirMasks.set(dir, mask);
    return mask;
  };
  return {
    scorePath(file) {
      const lowerName = file.name.toLowerCase();
      const stemLength = file.extension === "" ? file.name.length : file.name.length - file.extension.length - 1;
      const stem = lowerName.slice(0, stemLength);
      let score = file.language ? 40 : DOC_OR_CONFIG.has(file.extension) ? 20 : 10;
      if (file.test) score -= 25;
      // The top-level manifests and README orient every task: they come before any match.
      if (MANIFESTS.has(lowerName)) score += file.depth === 0 ? TOP : file.depth <= 2 ? 30 : 10;
      else if (stem === "readme") score += file.depth === 0 ? TOP : 20;
      else if (file.depth === 0 && ROOT_DOCS.has(lowerName)) score += 30;
      else if (file.language && ENTRY_STEMS.has(stem)) score += 20;
      score -= 5 * Math.min(file.depth, 8);
      if (focusWords.length > 0) {
        // The name's words count more than the directories': `billing/retry.ts` is about retrying.
        score += 35 * Math.min(3, bitCount(maskOfDir(file.dir))) + 50 * Math.min(3, bitCount(maskOf(focusWords, wordsOf(file.name.slice(0, stemLength)))));
      }
      return score;
    },
    scoreSymbols(symbols) {
      if (focusWords.length === 0 || symbols.length === 0) return 0;
      const words: string[] = [];
      for (const symbol of symbols) words.push(...wordsOf(symbol.name));
      return 25 * Math.min(3, bitCount(maskOf(focusWords, words)));
    },
  };
}

/** Which focus words (bit i for word i) match one of `words`. */
function maskOf(focusWords: readonly string[], words: readonly string[]): number {
  let mask = 0;
  focusWords.forEach((focus, index) => {
    if (words.some((word) => wordsMatch(focus, word))) mask |= 1 << index;
  });
  return mask;
}

function bitCount(mask: number): number {
  let count = 0;
  for (let rest = mask; rest !== 0; rest &= rest - 1) count += 1;
  return count;
}

/** Equal, or one a prefix of the other when both have four letters or more (auth/authentication, login/logins). */
function wordsMatch(focus: string, word: string): boolean {
  if (focus === word) return true;
  if (focus.length < 4 || word.length < 4) return false;
  return focus.length < word.length ? word.startsWith(focus) : focus.startsWith(word);
}
