/**
 * Cutting text to a character budget without hiding that it was cut: every cut leaves a
 * marker saying how many characters went, so neither the model nor a human mistakes a
 * shortened log for the whole story.
 *
 * Length contract: the result is at most `maxChars` long, except when `maxChars` is too small
 * to hold even one marker; then the result is `truncationMarker(text.length)` alone. In
 * short: `result.length <= Math.max(maxChars, truncationMarker(text.length).length)`.
 */

/** The marker put where `removed` characters were cut out. */
export function truncationMarker(removed: number): string {
  return `[… ${removed} characters truncated …]`;
}

/** The text itself when it fits, else its start and end around a marker line. */
export function truncateMiddle(text: string, maxChars: number): string {
  const budget = budgetOf(maxChars);
  if (text.length <= budget) return text;
  // Sized for the most digits the count can have, so the real marker never overruns.
  const markerLine = `\n${truncationMarker(text.length)}\n`;
  const kept = budget - markerLine.length;
  if (kept < 0) return truncationMarker(text.length);
  const headEnd = backOffSurrogate(text, Math.floor(kept / 2));
  const tailStart = forwardOverSurrogate(text, text.length - (kept - Math.floor(kept / 2)));
  return `${text.slice(0, headEnd)}\n${truncationMarker(tailStart - headEnd)}\n${text.slice(tailStart)}`;
}

/** A usable character budget: NaN and negatives count as zero. */
export function budgetOf(maxChars: number): number {
  return Number.isFinite(maxChars) ? Math.max(0, Math.floor(maxChars)) : maxChars > 0 ? Number.MAX_SAFE_INTEGER : 0;
}

/** A cut at `index` must not split a surrogate pair: move it before the pair. */
function backOffSurrogate(text: string, index: number): number {
  return index > 0 && isHighSurrogate(text.charCodeAt(index - 1)) ? index - 1 : index;
}

/** A cut at `index` must not split a surrogate pair: move it after the pair. */
function forwardOverSurrogate(text: string, index: number): number {
  return index < text.length && index > 0 && isHighSurrogate(text.charCodeAt(index - 1)) ? index + 1 : index;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
