import { isRecord, parseJson } from "../json.ts";

/**
 * The structured output a step ends with: the last JSON object in its agent's final
 * reply, fenced (```json … ```) or bare at the end. Pure; null when there is none, which
 * is fine: later steps that name an output then fail with a clear error instead.
 */
export function stepOutputOf(reply: string): Record<string, unknown> | null {
  for (const candidate of fencedBlocksOf(reply).reverse()) {
    const object = parseObject(candidate);
    if (object) return object;
  }
  const start = reply.lastIndexOf("\n{") + 1 || (reply.trimStart().startsWith("{") ? reply.indexOf("{") : -1);
  return start >= 0 ? parseObject(reply.slice(start)) : null;
}

function parseObject(text: string): Record<string, unknown> | null {
  const value = parseJson(text.trim());
  return isRecord(value) ? value : null;
}

const FENCE = "```";
const WHITESPACE = /\s/;

/**
 * The bodies of the fenced blocks in `text`, as `/```(?:json)?\s*\n([\s\S]*?)\n\s*```/g`
 * finds them, in time linear in the text. That pattern took seconds on a reply an agent
 * can write (```json and a few KB of blank lines): its three ways of splitting blanks
 * multiply, and each opening fence scanned the rest of the reply for a closing one. Here
 * every position where a block may end is found once, and each fence looks it up.
 */
export function fencedBlocksOf(text: string): string[] {
  const ends = blockEndsOf(text);
  const blocks: string[] = [];
  let next = 0; // the first block end not before the current opening
  let from = 0;
  for (let open = text.indexOf(FENCE, from); open >= 0; open = text.indexOf(FENCE, from)) {
    const afterTag = text.startsWith("json", open + 3) ? open + 7 : open + 3;
    // The body starts after the last newline of the blanks that follow the tag…
    let blanksEnd = afterTag;
    let lastNewline = -1;
    let newlineBefore = -1;
    for (; blanksEnd < text.length && WHITESPACE.test(text[blanksEnd]!); blanksEnd += 1) {
      if (text[blanksEnd] !== "\n") continue;
      newlineBefore = lastNewline;
      lastNewline = blanksEnd;
    }
    while (next < ends.length && ends[next]! <= lastNewline) next += 1;
    if (lastNewline >= 0 && next < ends.length) {
      // …and ends at the first newline after it that only blanks separate from a fence.
      const end = ends[next]!;
      blocks.push(text.slice(lastNewline + 1, end));
      from = fenceAfter(text, end) + 3;
    } else if (newlineBefore >= 0 && text.startsWith(FENCE, blanksEnd)) {
      // No end after the blanks: an empty block closed by the fence right after them.
      blocks.push(text.slice(newlineBefore + 1, lastNewline));
      from = blanksEnd + 3;
    } else {
      from = open + 1;
    }
  }
  return blocks;
}

/** Ascending positions of the newlines after which only blanks come before a fence. */
function blockEndsOf(text: string): number[] {
  const ends: number[] = [];
  let fenceAhead = false;
  for (let at = text.length - 1; at >= 0; at -= 1) {
    const char = text[at]!;
    if (char === "\n" && fenceAhead) ends.push(at);
    else if (!WHITESPACE.test(char)) fenceAhead = text.startsWith(FENCE, at);
  }
  return ends.reverse();
}

function fenceAfter(text: string, newline: number): number {
  let at = newline + 1;
  while (at < text.length && WHITESPACE.test(text[at]!)) at += 1;
  return at;
}
