/**
 * Markdown link reference definitions (`[label]: destination "title"`, CommonMark §4.7).
 * GitHub displays no part of one, which makes `[//]: # (…)`, `[//]: # "…"`,
 * `[comment]: <> (…)` and their like comments that only a model would read. Pure.
 *
 * Every definition goes, whatever its destination: an attacker can hide text in a real
 * URL's title or label as well as after `#`. Definitions are also taken out of block
 * quotes and list items, and wherever else a line reads as one, even where GitHub would
 * show it (in a code block, after a paragraph line) and in code (`[key]: value,`), as
 * `<!--` is: telling those apart means parsing containers as GitHub does, and a mistake
 * there lets hidden text through. Removing visible text loses the agent a little;
 * keeping hidden text is the hazard.
 *
 * Linear in the text's length: a failed attempt stops at the first unescaped bracket or
 * closing quote, and a later attempt's opening one could not lie before that point, so no
 * character is scanned twice by attempts of the same kind.
 */

const MAX_LABEL = 999;
const MAX_PAREN_DEPTH = 32;

/** The text without its link reference definitions (each removed with its line end). */
export function removeLinkDefinitions(text: string): string {
  if (!text.includes("]:")) return text;
  let result = "";
  let kept = 0;
  let lineStart = 0;
  while (lineStart < text.length) {
    const end = definitionEnd(text, lineStart);
    if (end !== -1) {
      result += text.slice(kept, lineStart);
      kept = end;
      lineStart = end;
      continue;
    }
    const newline = text.indexOf("\n", lineStart);
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return kept === 0 ? text : result + text.slice(kept);
}

/** Where the definition starting on the line at `start` ends (past its last line end), or -1. */
function definitionEnd(text: string, start: number): number {
  const labelEnd = skipLabel(text, skipContainerMarkers(text, start));
  if (labelEnd === -1 || text[labelEnd] !== ":") return -1;
  let position = skipSpaces(text, labelEnd + 1);
  if (text[position] === "\n") {
    position = skipContinuation(text, position + 1);
    if (isLineEnd(text, position)) return -1;
  }
  const destinationEnd = skipDestination(text, position);
  if (destinationEnd === -1) return -1;
  const afterDestination = skipSpaces(text, destinationEnd);
  if (isLineEnd(text, afterDestination)) {
    const lineEnd = pastLineEnd(text, afterDestination);
    // A title may start on the next line; if it is no title, that line is ordinary text.
    const titleEnd = lineEnd < text.length ? titleLineEnd(text, skipContinuation(text, lineEnd)) : -1;
    return titleEnd === -1 ? lineEnd : titleEnd;
  }
  // A title on the destination's line needs a space before it, and the whole line must fit.
  if (afterDestination === destinationEnd) return -1;
  return titleLineEnd(text, afterDestination);
}

/** `>` of block quotes and the markers of list items, with their spaces. */
function skipContainerMarkers(text: string, from: number): number {
  let position = from;
  for (;;) {
    position = skipSpaces(text, position);
    if (text[position] === ">") {
      position += 1;
      continue;
    }
    let marker = position;
    if (text[marker] === "-" || text[marker] === "*" || text[marker] === "+") marker += 1;
    else {
      while (marker - position < 9 && isDigit(text[marker])) marker += 1;
      if (marker === position || (text[marker] !== "." && text[marker] !== ")")) return position;
      marker += 1;
    }
    if (text[marker] !== " " && text[marker] !== "\t") return position;
    position = marker;
  }
}

/** Past the `]` of a link label at `from` (`[`…`]`, at most 999 characters, not blank), or -1. */
function skipLabel(text: string, from: number): number {
  if (text[from] !== "[") return -1;
  let blank = true;
  let position = from + 1;
  while (position < text.length && position - from - 1 <= MAX_LABEL) {
    const char = text[position];
    if (char === "]") return blank ? -1 : position + 1;
    if (char === "[") return -1;
    if (char === "\n") {
      position = skipContinuation(text, position + 1);
      if (isLineEnd(text, position)) return -1;
      continue;
    }
    if (char !== " " && char !== "\t") blank = false;
    position += escapedLength(text, position);
  }
  return -1;
}

/** Past a link destination at `from`: `<…>` on one line, or a run without spaces whose parentheses balance. -1 when there is none. */
function skipDestination(text: string, from: number): number {
  if (text[from] === "<") {
    for (let position = from + 1; position < text.length; position += escapedLength(text, position)) {
      const char = text[position];
      if (char === ">") return position + 1;
      if (char === "<" || char === "\n") return -1;
    }
    return -1;
  }
  let depth = 0;
  let position = from;
  while (position < text.length && text.charCodeAt(position) > 0x20) {
    const char = text[position];
    if (char === "(") depth += 1;
    if (char === ")") depth -= 1;
    if (depth < 0 || depth > MAX_PAREN_DEPTH) return -1;
    position += escapedLength(text, position);
  }
  return position === from || depth !== 0 ? -1 : position;
}

/** Past the line end after a title at `from` ("…", '…' or (…), lines but no blank one), or -1. */
function titleLineEnd(text: string, from: number): number {
  const opening = text[from];
  const closing = opening === "(" ? ")" : opening;
  if (opening !== '"' && opening !== "'" && opening !== "(") return -1;
  let position = from + 1;
  while (position < text.length) {
    const char = text[position];
    if (char === closing) {
      const after = skipSpaces(text, position + 1);
      return isLineEnd(text, after) ? pastLineEnd(text, after) : -1;
    }
    if (opening === "(" && char === "(") return -1;
    if (char === "\n") {
      position = skipContinuation(text, position + 1);
      if (isLineEnd(text, position)) return -1;
      continue;
    }
    position += escapedLength(text, position);
  }
  return -1;
}

/** A backslash takes the character after it along (a line end stays: it still ends the line). */
function escapedLength(text: string, position: number): number {
  return text[position] === "\\" && position + 1 < text.length && text[position + 1] !== "\n" ? 2 : 1;
}

/** The start of a continuation line's content: past its spaces and block-quote markers. */
function skipContinuation(text: string, from: number): number {
  let position = from;
  while (text[position] === " " || text[position] === "\t" || text[position] === ">") position += 1;
  return position;
}

function skipSpaces(text: string, from: number): number {
  let position = from;
  while (text[position] === " " || text[position] === "\t") position += 1;
  return position;
}

function isLineEnd(text: string, position: number): boolean {
  return position >= text.length || text[position] === "\n";
}

function pastLineEnd(text: string, position: number): number {
  return position >= text.length ? text.length : position + 1;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}
