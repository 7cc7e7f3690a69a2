/**
 * `text` without the run of `chars` it ends with: what `/[…]+$/` says, in linear time. That
 * pattern is tried from every position of a long run that is not at the end (a line of a
 * million `\r` and one `x`), which is quadratic on text an agent or a test can shape.
 */
export function trimTrailing(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1]!)) end -= 1;
  return text.slice(0, end);
}

/**
 * Every run of whitespace that holds a line break, as one space, in linear time: the
 * pattern it replaces (blanks, then line breaks, then blanks) backtracks quadratically over
 * a long run of blanks with no line break.
 */
export function joinLines(text: string): string {
  return text.replace(/\s+/g, (run) => (run.includes("\n") || run.includes("\r") ? " " : run));
}
