/**
 * The issues and pull requests of the same repository a text points to, by `#N` or by URL.
 * Pure. Another repository's issues are not followed: the job's token reads only its own.
 */

export interface ReferencePlace {
  /** `https://github.com`, or a GitHub Enterprise host's origin. */
  webOrigin: string;
  owner: string;
  repo: string;
}

// `#12`, not `&#12;` (an HTML entity), `a#12` (an anchor) or `/#12` (part of a path). Linear:
// one fixed character, then a bounded run of digits.
const SHORT_REFERENCE = /(?<![\w&/#])#(\d{1,7})(?![\w-])/g;

/** Numbers in order of first appearance, each once, never `self`, at most `max`. */
export function referencedNumbers(texts: readonly string[], place: ReferencePlace, self: number, max: number): number[] {
  const url = new RegExp(`${escapeRegExp(`${place.webOrigin}/${place.owner}/${place.repo}/`)}(?:issues|pull)/(\\d{1,7})(?!\\d)`, "gi");
  const found: number[] = [];
  for (const text of texts) {
    const matches = [...text.matchAll(SHORT_REFERENCE), ...text.matchAll(url)].sort((a, b) => a.index - b.index);
    for (const match of matches) {
      const number = Number(match[1]);
      if (number === self || number === 0 || found.includes(number)) continue;
      found.push(number);
      if (found.length >= max) return found;
    }
  }
  return found;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
