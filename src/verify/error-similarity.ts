/**
 * Are two failures "the same failure again"? The build loop switches to debug mode when
 * consecutive verify rounds fail alike. Two runs of one failing test differ in what does
 * not matter (durations, addresses, temp dirs, line numbers that shifted by an edit), so
 * we normalize those away and compare what is left.
 *
 * Similarity is the Jaccard index of the sets of word bigrams (pairs of consecutive
 * tokens; a text of one token is its own set). Bigrams rather than single words because
 * error text shares most of its vocabulary ("error", "expected", "<path>", "<num>"):
 * single words make unrelated failures look alike, while pairs keep some of the order
 * that tells "expected <num> to be <num>" from "cannot find module".
 */

const PLACEHOLDER_OR_WORD = /<\w+>|[\p{L}\p{N}_]+/gu;

// Order matters: paths first (they contain dates, hex and numbers), numbers last.
const PATH_SEGMENT = String.raw`[^\s\\/:'"()[\]<>,;\x60]+`;
// Absolute (`/a/b`, `c:\a`, `file:///a`) and relative (`src/a.ts`, `./a`, `~/a`): anything with a separator.
const PATH = new RegExp(String.raw`(?:file://)?(?:[a-z]:)?(?:${PATH_SEGMENT})?(?:[\\/]${PATH_SEGMENT})+[\\/]?`, "g");
const TEMP_NAME = /\b(?:tmp|temp)(?:[-_.][a-z0-9]+)+\b|\btmp[a-z0-9]*\d[a-z0-9]*\b|\bpytest-(?:of-[\w-]+|\d+)\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?\b/g;
const CLOCK_TIME = /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g;
const ADDRESS = /\b0x[0-9a-f]+\b/g;
// Hex of 7+ characters is an id (a hash, an object id) if it has a digit, or 12+ characters
// (no English word is that long in a–f alone; a few 7–11 letter ones exist, like "defaced").
// All digits is left to NUMBER, which also takes a decimal part: the placeholder is the same.
const HEX_ID = /\b[0-9a-f]{7,}\b/g;
const DURATION = /\b\d+(?:\.\d+)?\s?(?:ns|µs|μs|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?)\b/g;
const NUMBER = /\d+(?:\.\d+)*/g;

/**
 * Error text with the incidental parts replaced by placeholders: `<path>` (absolute and
 * relative paths, file URLs), `<tmp>` (temp dir names), `<uuid>`, `<time>` (ISO dates and
 * clock times), `<addr>` (0x addresses), `<duration>` (`12ms`, `1.2s`), `<num>` (numbers
 * and hex ids, one placeholder so that an id made only of digits reads like any other);
 * lowercased, whitespace collapsed.
 */
export function normalizeErrorText(text: string): string {
  return text
    .toLowerCase()
    .replace(PATH, " <path> ")
    .replace(TEMP_NAME, " <tmp> ")
    .replace(UUID, " <uuid> ")
    .replace(ISO_TIME, " <time> ")
    .replace(CLOCK_TIME, " <time> ")
    .replace(ADDRESS, " <addr> ")
    .replace(HEX_ID, (hex) => (/[a-f]/.test(hex) && (/\d/.test(hex) || hex.length >= 12) ? " <num> " : hex))
    .replace(DURATION, " <duration> ")
    .replace(NUMBER, "<num>")
    .replace(/\s+/g, " ")
    .trim();
}

/** Jaccard similarity of the normalized texts' word bigrams, in [0, 1]; 1 when they normalize alike. */
export function errorSimilarity(a: string, b: string): number {
  const left = shinglesOf(normalizeErrorText(a));
  const right = shinglesOf(normalizeErrorText(b));
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const shingle of left) if (right.has(shingle)) shared += 1;
  return shared / (left.size + right.size - shared);
}

/** Whether the last two failures are alike: similarity at least `threshold`. */
export function isRepeatedFailure(history: readonly string[], threshold: number): boolean {
  if (history.length < 2) return false;
  return errorSimilarity(history[history.length - 2], history[history.length - 1]) >= threshold;
}

function shinglesOf(normalized: string): Set<string> {
  const tokens = normalized.match(PLACEHOLDER_OR_WORD) ?? [];
  if (tokens.length === 1) return new Set(tokens);
  const shingles = new Set<string>();
  for (let index = 1; index < tokens.length; index += 1) shingles.add(`${tokens[index - 1]} ${tokens[index]}`);
  return shingles;
}
