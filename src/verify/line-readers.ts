/**
 * Lines of test runners' and compilers' output that extractErrors once read with one
 * pattern each, read here in time linear in the line with the same result. Each of those
 * patterns could split a run of blanks between several quantifiers (`\s*(.*?)\s*`,
 * `\s+…\s*(.*)`, `.*\^+\s+`) or rescanned the rest of the line from every position, and a
 * line that then failed to match took a time cubic or quadratic in its length: seconds
 * for one 2,000-character line, and the output is untrusted. A short unambiguous pattern
 * reads each head; the rest is taken apart by hand. Each function names the pattern whose
 * result it gives, and the tests compare them on random lines.
 */

// File paths as tools print them: no spaces, ending in an extension.
export const FILE = String.raw`(?:[A-Za-z]:)?[^\s:()'"<>|*?\[\]]*\.[A-Za-z0-9]{1,10}`;

const TAP_HEAD = /^(\s*)not ok \d+(?: -)?\s*/i;
/** Characters `.` does not match: a pattern's `(.*)$` fails on a line that has one. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
const WHITESPACE = /\s/;

export interface TapFailure {
  indent: number;
  /** The test's name, blanks around it removed; "" when the line has none. */
  name: string;
  /** `# SKIP …` or `# TODO …`: a failure that does not count. */
  directive: string | undefined;
}

/** `not ok 2 - name [# SKIP|TODO …]`, as `/^(\s*)not ok \d+(?: -)?\s*(.*?)\s*(#\s*(?:SKIP|TODO)\b.*)?$/i` read it. */
export function tapFailureOf(line: string): TapFailure | null {
  const head = TAP_HEAD.exec(line);
  if (!head) return null;
  const rest = line.slice(head[0].length);
  // The name ends where only blanks, or blanks and a directive, are left; it cannot span a line terminator.
  const directive = directiveIn(rest);
  const nameEnd = directive === -1 ? rest.trimEnd().length : directive - blanksBefore(rest, directive);
  const terminator = rest.search(LINE_TERMINATOR);
  if (terminator !== -1 && terminator < nameEnd) return null;
  return { indent: head[1].length, name: rest.slice(0, nameEnd), directive: directive === -1 ? undefined : rest.slice(directive) };
}

/** Where the first `#` that starts a SKIP or TODO directive running to the end of `text` is, or -1. */
function directiveIn(text: string): number {
  const terminator = lastLineTerminatorIn(text);
  for (let hash = text.indexOf("#"); hash !== -1; hash = text.indexOf("#", hash + 1)) {
    let word = hash + 1;
    while (word < text.length && WHITESPACE.test(text[word])) word += 1;
    const keyword = text.slice(word, word + 4).replace(/[A-Z]/g, (letter) => letter.toLowerCase());
    if ((keyword === "skip" || keyword === "todo") && !/\w/.test(text[word + 4] ?? "") && terminator < word + 4) return hash;
  }
  return -1;
}

function lastLineTerminatorIn(text: string): number {
  for (let at = text.length - 1; at >= 0; at -= 1) if (LINE_TERMINATOR.test(text[at])) return at;
  return -1;
}

function blanksBefore(text: string, end: number): number {
  let start = end;
  while (start > 0 && WHITESPACE.test(text[start - 1])) start -= 1;
  return end - start;
}

const COMPILER_HEAD = new RegExp(String.raw`^(${FILE}):(\d+)(?::(\d+))?:`);
const SEVERITY = /^(fatal error|error|warning|note|info|hint|remark)(?:\[[^\]]*\])?:/;

export interface CompilerDiagnostic {
  file: string;
  line: string;
  column: string | undefined;
  severity: string | undefined;
  message: string;
}

/**
 * `file:line[:col]:[ [severity[code]:] message]`, as
 * `^(FILE):(\d+)(?::(\d+))?:(?:\s+(?:(severity)(?:\[[^\]]*\])?:)?\s*(.*))?$` read it.
 */
export function compilerDiagnosticOf(line: string): CompilerDiagnostic | null {
  const head = COMPILER_HEAD.exec(line);
  if (!head) return null;
  const [, file, lineNumber, column] = head;
  const tail = line.slice(head[0].length);
  const text = tail.trimStart();
  if (tail !== "" && text.length === tail.length) return null;
  const severity = SEVERITY.exec(text);
  const afterSeverity = severity ? text.slice(severity[0].length).trimStart() : "";
  if (severity && !LINE_TERMINATOR.test(afterSeverity)) return { file, line: lineNumber, column, severity: severity[1], message: afterSeverity };
  if (LINE_TERMINATOR.test(text)) return null;
  return { file, line: lineNumber, column, severity: undefined, message: text };
}

/** A Jest/Vitest file name without its `[ project ]` label, as `.replace(/\s+\[ .* \]$/, "")` left it. */
export function withoutProjectLabel(name: string): string {
  if (!name.endsWith(" ]")) return name;
  const terminator = lastLineTerminatorIn(name);
  for (let start = 0; start < name.length; start += 1) {
    if (!WHITESPACE.test(name[start]) || (start > 0 && WHITESPACE.test(name[start - 1]))) continue;
    let end = start;
    while (end < name.length && WHITESPACE.test(name[end])) end += 1;
    // `[ ` and ` ]` apart, and nothing `.` cannot match between them.
    if (name.startsWith("[ ", end) && name.length - end >= 4 && terminator < end) return name.slice(0, start);
    start = end - 1;
  }
  return name;
}

/** `file:line:col[:]` at the end of `text`, as `/(\S+?):(\d+):(\d+):?$/` found it. */
export function locationAtEndOf(text: string): { file: string; line: string; column: string } | null {
  // Its colons are counted from the end, so there is one place it can start: the file is the non-blank run before it.
  const tail = /:(\d+):(\d+):?$/.exec(text);
  if (!tail) return null;
  let start = tail.index;
  while (start > 0 && !WHITESPACE.test(text[start - 1])) start -= 1;
  return start === tail.index ? null : { file: text.slice(start, tail.index), line: tail[1], column: tail[2] };
}

const ESLINT_PROBLEM_HEAD = /^\s+(\d+):(\d+)\s+(error|warning)(\s+)/;

/** ESLint's `  12:5  error  message  rule-id`, as `/^\s+(\d+):(\d+)\s+(error|warning)\s+(.+)$/` read it. */
export function eslintProblemOf(line: string): { lineNumber: string; column: string; severity: string; rest: string } | null {
  const head = ESLINT_PROBLEM_HEAD.exec(line);
  if (!head) return null;
  const [whole, lineNumber, column, severity, blanks] = head;
  let rest = line.slice(whole.length);
  // Nothing after the blanks: the pattern's `(.+)` took the last blank, unless `.` could not match it.
  if (rest === "" && blanks.length >= 2 && !LINE_TERMINATOR.test(blanks.at(-1)!)) rest = blanks.at(-1)!;
  return rest === "" || LINE_TERMINATOR.test(rest) ? null : { lineNumber, column, severity, rest };
}

const TAP_LOCATION_HEAD = /^\s*location:/;

/** A TAP block's `location: 'file:line:col'`, as `/^\s*location:\s*'?(.+?):(\d+):(\d+)'?\s*$/` read it. */
export function tapLocationOf(entry: string): { file: string; line: string; column: string } | null {
  const head = TAP_LOCATION_HEAD.exec(entry);
  if (!head) return null;
  const text = entry.slice(head[0].length);
  // `:line:col'` is read from the end: there is one place it can start.
  let end = text.trimEnd().length;
  if (text[end - 1] === "'") end -= 1;
  const column = digitsBefore(text, end);
  const line = digitsBefore(text, column - 1);
  if (column === end || text[column - 1] !== ":" || line === column - 1 || text[line - 1] !== ":") return null;
  const suffix = line - 1;
  // The file starts after the blanks and a quote, or as far back as it must to have a character.
  const blanks = text.length - text.trimStart().length;
  const quoted = text[blanks] === "'" ? blanks + 1 : blanks;
  const start = quoted < suffix ? quoted : blanks < suffix ? blanks : suffix - 1;
  if (start < 0 || lastLineTerminatorIn(text.slice(start, suffix)) !== -1) return null;
  return { file: text.slice(start, suffix), line: text.slice(line, column - 1), column: text.slice(column, end) };
}

/** Where the run of digits that ends at `end` starts. */
function digitsBefore(text: string, end: number): number {
  let start = end;
  while (start > 0 && text[start - 1] >= "0" && text[start - 1] <= "9") start -= 1;
  return start;
}

const CARET_LABEL_HEAD = /^\s*(?:\d+\s*)?\|/;

/** The message of a rustc caret line `  |     ^^^ message`, as `/^\s*(?:\d+\s*)?\|.*\^+\s+(\S.*)$/` read it: after the last carets that fit. */
export function caretLabelOf(line: string): string | null {
  const head = CARET_LABEL_HEAD.exec(line);
  if (!head) return null;
  // `.*` cannot pass a line terminator, so the carets are before the first one.
  const terminator = line.slice(head[0].length).search(LINE_TERMINATOR);
  const reach = terminator === -1 ? line.length : head[0].length + terminator;
  const lastTerminator = lastLineTerminatorIn(line);
  let label: string | null = null;
  for (let caret = line.indexOf("^", head[0].length); caret !== -1 && caret < reach; caret = line.indexOf("^", caret)) {
    while (line[caret] === "^") caret += 1;
    let text = caret;
    while (text < line.length && WHITESPACE.test(line[text])) text += 1;
    if (text > caret && text < line.length && text > lastTerminator) label = line.slice(text);
  }
  return label;
}

/** A JUnit name without the `[--] Time elapsed: …` after it, as `.replace(/\s+(?:-{1,2}\s+)?Time elapsed:.*$/, "")` left it. */
export function withoutTimeElapsed(line: string): string {
  const terminator = lastLineTerminatorIn(line);
  for (let at = line.indexOf("Time elapsed:", terminator + 1); at !== -1; at = line.indexOf("Time elapsed:", at + 1)) {
    let start = at - blanksBefore(line, at);
    if (start === at) continue;
    // With one or two dashes and blanks before them, the match starts there.
    const dashes = line[start - 1] === "-" ? (line[start - 2] === "-" ? 2 : 1) : 0;
    const beforeDashes = start - dashes;
    if (dashes > 0 && line[beforeDashes - 1] !== "-" && blanksBefore(line, beforeDashes) > 0) start = beforeDashes - blanksBefore(line, beforeDashes);
    return line.slice(0, start);
  }
  return line;
}
