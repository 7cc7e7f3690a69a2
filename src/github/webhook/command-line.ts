/**
 * Which line of a comment holds its `/agent` command, read as GitHub renders Markdown.
 * Pure, and linear in the comment's length.
 *
 * A command counts only where GitHub shows it as a line of prose: never inside a fenced
 * or indented code block, a block quote (lazy continuation lines included), an HTML
 * comment, or a `<pre>` (or `<script>`, `<style>`, `<textarea>`) element. People quote and
 * paste each other's commands, and templates carry hidden text; none of that should start
 * a job. Where the rendering is unclear, the line does not count: a command missed is
 * written again, a command run by mistake is not undone.
 */

const COMMAND_LINE = /^\/agent(?=\s|$)/;
const FENCE_OPENING = /^(`{3,}|~{3,})/;
const ATX_HEADING = /^#{1,6}(?:[ \t]|$)/;
// Thematic breaks and setext underlines end a paragraph. Linear: each `[ \t]*` is followed by a fixed character.
const BREAK_LINE = /^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){2,}|(?:_[ \t]*){3,}|=+[ \t]*)$/;
const LIST_ITEM = /^(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
// Elements whose content is never a command: `pre` shows it as code; browsers or GitHub hide the others.
const RAW_ELEMENT = /<(pre|script|style|textarea)(?=[\s>]|$)/iy;
const RAW_BLOCK_START = /^<(?:pre|script|style|textarea)(?:[\s>]|$)/i;
const RAW_ELEMENT_END: Record<string, RegExp> = { pre: /<\/pre\s*>/iy, script: /<\/script\s*>/iy, style: /<\/style\s*>/iy, textarea: /<\/textarea\s*>/iy };

/** What the lines before this one leave open. */
type Paragraph = "none" | "prose" | "quote";
/** An HTML comment, and an element whose content does not count, as open after a line. */
interface Html {
  comment: boolean;
  element: string | null;
}

/** The index of the command's line, or -1. */
export function findCommandLine(lines: readonly string[]): number {
  let fence: string | null = null;
  let html: Html = { comment: false, element: null };
  let paragraph: Paragraph = "none";
  for (const [index, line] of lines.entries()) {
    const text = line.trimStart();
    if (fence !== null) {
      if (closesFence(text, fence)) fence = null;
      continue;
    }
    if (html.comment || html.element !== null) {
      html = htmlAfter(line, html);
      if (!html.comment && html.element === null) paragraph = "none";
      continue;
    }
    if (text === "") {
      paragraph = "none";
      continue;
    }
    // Four columns of indentation outside a paragraph: an indented code block.
    if (paragraph === "none" && indentationOf(line) >= 4) continue;
    const opening = FENCE_OPENING.exec(text);
    if (opening) {
      fence = opening[1];
      paragraph = "none";
      continue;
    }
    // A quoted line starts with `>`, so it never matches; a paragraph it opens swallows
    // the unquoted lines after it (CommonMark's lazy continuation), so they never match.
    if (text.startsWith(">")) paragraph = quotedParagraph(text);
    else if (paragraph === "quote" && !interruptsParagraph(text)) paragraph = "quote";
    else if (COMMAND_LINE.test(text)) return index;
    else paragraph = ATX_HEADING.test(text) || BREAK_LINE.test(text) ? "none" : "prose";
    html = htmlAfter(line, html);
    if (html.comment || html.element !== null) paragraph = "none";
  }
  return -1;
}

/** What a `>` line leaves open: a paragraph inside the quote, or nothing when its content is blank or a block of its own. */
function quotedParagraph(text: string): Paragraph {
  const content = text.replace(/^[>\s]*/, "");
  if (content === "" || FENCE_OPENING.test(content) || ATX_HEADING.test(content) || BREAK_LINE.test(content)) return "none";
  return "quote";
}

/** A line that starts a block of its own, ending a quote's paragraph instead of continuing it lazily. */
function interruptsParagraph(text: string): boolean {
  return ATX_HEADING.test(text) || BREAK_LINE.test(text) || LIST_ITEM.test(text) || text.startsWith("<!--") || RAW_BLOCK_START.test(text);
}

/** Columns of leading whitespace, a tab reaching the next multiple of four (CommonMark). */
function indentationOf(line: string): number {
  let columns = 0;
  for (const char of line) {
    if (char === " ") columns += 1;
    else if (char === "\t") columns += 4 - (columns % 4);
    else break;
  }
  return columns;
}

/** CommonMark: a fence closes with the same character, at least as long, and nothing after it. */
function closesFence(text: string, fence: string): boolean {
  const closing = /^(`+|~+)\s*$/.exec(text);
  return closing !== null && closing[1][0] === fence[0] && closing[1].length >= fence.length;
}

/**
 * The HTML comment and raw element still open after `line`. Code spans are left out
 * first: "`<pre>`" in a sentence opens nothing.
 */
function htmlAfter(line: string, open: Html): Html {
  const text = open.comment || open.element !== null ? line : withoutCodeSpans(line);
  let { comment, element } = open;
  for (let position = 0; position < text.length; position += 1) {
    if (comment) {
      if (text.startsWith("-->", position)) {
        comment = false;
        position += 2;
      }
      continue;
    }
    if (text[position] !== "<") continue;
    // Inside `<pre>` comments still count; script, style and textarea hold raw text.
    if ((element === null || element === "pre") && text.startsWith("<!--", position)) {
      comment = true;
      position += 3;
      continue;
    }
    const tag = element === null ? RAW_ELEMENT : RAW_ELEMENT_END[element];
    tag.lastIndex = position;
    const match = tag.exec(text);
    if (!match) continue;
    element = element === null ? match[1].toLowerCase() : null;
    position += match[0].length - 1;
  }
  return { comment, element };
}

/**
 * The line with its code spans (a run of n backticks up to the next run of exactly n)
 * blanked out. Linear: the next run of each length is found from a table built backwards.
 */
function withoutCodeSpans(line: string): string {
  if (!line.includes("`")) return line;
  const runs = [...line.matchAll(/`+/g)].map((match) => ({ start: match.index, length: match[0].length }));
  const nextOfLength = new Array<number>(runs.length).fill(-1);
  const latest = new Map<number, number>();
  for (let index = runs.length - 1; index >= 0; index -= 1) {
    nextOfLength[index] = latest.get(runs[index].length) ?? -1;
    latest.set(runs[index].length, index);
  }
  let result = "";
  let copied = 0;
  for (let index = 0; index < runs.length; index += 1) {
    const closing = nextOfLength[index];
    if (closing === -1 || runs[index].start < copied) continue;
    result += line.slice(copied, runs[index].start);
    copied = runs[closing].start + runs[closing].length;
    index = closing;
  }
  return result + line.slice(copied);
}
