import type { z } from "zod";

/**
 * A suite folder or a report file the user gave is not usable. Running again will not help;
 * the problems, one line each naming the file, say what to fix (the CLI exits with 2).
 */
export class EvalInputError extends Error {
  override name = "EvalInputError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.problems = problems;
  }
}

/** Zod issues as `file: path.to.field: message` lines; an unknown key is named at its own path. */
export function describeIssues(file: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : issue.path;
    const where = path.map(String).join(".") || "(top level)";
    return `${file}: ${where}: ${issue.message}`;
  });
}

/** The JSON in `text`, or the problem naming `file` and what JSON.parse said (it gives the position). */
export function readJsonText(text: string, file: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: `${file}: not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}
