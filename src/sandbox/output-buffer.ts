/**
 * The tail of a process's output. Commands such as a test suite or a chatty server can
 * print without end; keeping everything would grow the worker's memory with them, and
 * the end of the output is where the errors are.
 */

/** Default bound: the last 1 MiB (counted in UTF-16 code units, close enough for logs). */
export const defaultOutputLimit = 1024 * 1024;

export interface OutputBuffer {
  append(chunk: string): void;
  text(): string;
  /** Whether anything was dropped from the start. */
  truncated(): boolean;
}

export function createOutputBuffer(limit = defaultOutputLimit): OutputBuffer {
  let chunks: string[] = [];
  let length = 0;
  let dropped = false;
  return {
    append(chunk) {
      chunks.push(chunk);
      length += chunk.length;
      if (length > limit) dropped = true;
      // Compact only at twice the bound, so that a chatty process costs amortized O(1) per byte.
      if (length <= 2 * limit) return;
      const kept = chunks.join("").slice(-limit);
      chunks = [kept];
      length = kept.length;
    },
    text() {
      const all = chunks.join("");
      return all.length > limit ? all.slice(-limit) : all;
    },
    truncated: () => dropped,
  };
}
