/**
 * Token budgets without a tokenizer. Models bill and limit in tokens, but shipping each
 * provider's tokenizer is heavy and they disagree anyway, so we estimate:
 *
 * - a run of whitespace counts as one character (indentation and blank lines are cheap);
 * - every other character counts as a quarter of a token (English prose and code
 *   average about four characters a token);
 * - a CJK ideograph, kana, hangul syllable or full-width form counts as one token each
 *   (tokenizers rarely merge them).
 *
 * So `estimateTokens(text) = wide + ceil(narrow / 4)`. It never exceeds `text.length`,
 * which is what lets `fitToTokens` search character budgets safely.
 *
 * Cuts go through `truncateMiddle`, so they always leave its marker.
 */
import { budgetOf, truncateMiddle, truncationMarker } from "./truncate.ts";

/** The most tokens one truncation marker can cost (its count has at most 16 digits). */
export const TRUNCATION_MARKER_TOKENS = estimateTokens(truncationMarker(Number.MAX_SAFE_INTEGER));

/** A cheap estimate of the tokens `text` costs (see the rules at the top of this file). */
export function estimateTokens(text: string): number {
  let wide = 0;
  let narrow = 0;
  let inWhitespace = false;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (isWhitespace(code)) {
      if (!inWhitespace) narrow += 1;
      inWhitespace = true;
      continue;
    }
    inWhitespace = false;
    if (isWide(code)) wide += 1;
    else narrow += 1;
  }
  return wide + Math.ceil(narrow / 4);
}

/**
 * The text itself when its estimate fits `maxTokens`, else its start and end around a
 * truncation marker. Contract: `estimateTokens(result) <= Math.max(maxTokens,
 * estimateTokens(truncationMarker(text.length)))`; the second term only matters when the
 * budget cannot hold even the marker, and then the result is the bare marker.
 */
export function fitToTokens(text: string, maxTokens: number): string {
  const budget = budgetOf(maxTokens);
  if (estimateTokens(text) <= budget) return text;
  // Binary search for the largest character budget whose cut fits. `low` always fits
  // (an estimate never exceeds the length) unless it only leaves room for the bare
  // marker; `high` never fits (it keeps the whole text, which does not).
  let low = budget;
  let high = text.length;
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (estimateTokens(truncateMiddle(text, middle)) <= budget) low = middle;
    else high = middle;
  }
  return truncateMiddle(text, low);
}

export interface BudgetPart {
  /** Key of this part in the result; names are expected to be unique. */
  name: string;
  text: string;
  /** Tokens this part gets before the rest is shared, when the total allows (default 0). */
  min?: number;
  /**
   * Its share of what is left after the minimums (default 1; NaN, negative and infinite
   * count as 1). Weight 0 gets only its minimum plus what nobody else needs.
   */
  weight?: number;
}

/**
 * Cut parts so that together they fit `totalTokens`. Parts that fit already are returned
 * unchanged. Otherwise each part first gets `min(min, its size)` (scaled down when the
 * minimums alone exceed the total), and the rest is shared by weight, water-filling: a
 * part needing less than its share keeps all of its text and leaves the surplus to the
 * others. In particular a part whose estimate is at most
 * `floor + (total − Σ floors) × weight / Σ weights` is never cut.
 *
 * Contract: `Σ estimateTokens(result[name]) <= totalTokens + cutParts × TRUNCATION_MARKER_TOKENS`,
 * where a cut part overshoots its share only when the share cannot hold its marker.
 */
export function allocateBudget(totalTokens: number, parts: readonly BudgetPart[]): Record<string, string> {
  const total = budgetOf(totalTokens);
  const demands = parts.map((part) => estimateTokens(part.text));
  const shares = sharesOf(
    total,
    parts.map((part, index) => ({ demand: demands[index], min: budgetOf(part.min ?? 0), weight: weightOf(part.weight) })),
  );
  // fromEntries defines own properties, so a part named `__proto__` is just a key.
  return Object.fromEntries(parts.map((part, index) => [part.name, demands[index] <= shares[index] ? part.text : fitToTokens(part.text, shares[index])]));
}

interface Claim {
  demand: number;
  min: number;
  weight: number;
}

/** Integer token shares whose sum is at most `total`; see allocateBudget for the rules. */
function sharesOf(total: number, claims: readonly Claim[]): number[] {
  const floors = claims.map((claim) => Math.min(claim.min, claim.demand));
  const floorSum = floors.reduce((sum, floor) => sum + floor, 0);
  const shares = floorSum <= total ? floors : floors.map((floor) => Math.floor((floor * total) / floorSum));
  let remaining = total - shares.reduce((sum, share) => sum + share, 0);
  let open = claims.map((_, index) => index).filter((index) => claims[index].demand > shares[index]);
  while (open.length > 0 && remaining > 0) {
    // When only weight-0 parts are left, they share the surplus equally rather than waste it.
    const onlyZero = open.every((index) => claims[index].weight === 0);
    const weight = (index: number) => (onlyZero ? 1 : claims[index].weight);
    const level = remaining / open.reduce((sum, index) => sum + weight(index), 0);
    const satisfied = open.filter((index) => claims[index].demand - shares[index] <= level * weight(index));
    if (satisfied.length === 0) {
      // Nobody's need is below the level: everyone still open is cut at it.
      for (const index of open) shares[index] += Math.floor(level * weight(index));
      break;
    }
    for (const index of satisfied) {
      remaining -= claims[index].demand - shares[index];
      shares[index] = claims[index].demand;
    }
    open = open.filter((index) => shares[index] < claims[index].demand);
  }
  return shares;
}

function weightOf(weight: number | undefined): number {
  return weight !== undefined && Number.isFinite(weight) && weight >= 0 ? weight : 1;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200a);
}

/** CJK ideographs, kana, hangul and full-width forms: about one token each. */
function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x11ff) || // hangul jamo
    (code >= 0x3001 && code <= 0x30ff) || // CJK punctuation, hiragana, katakana
    (code >= 0x3400 && code <= 0x4dbf) || // CJK extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK unified ideographs
    (code >= 0xac00 && code <= 0xd7af) || // hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK compatibility ideographs
    (code >= 0xff01 && code <= 0xff60) || // full-width forms
    (code >= 0x20000 && code <= 0x3134f) // CJK extensions B–H
  );
}
