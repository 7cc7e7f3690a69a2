import { z } from "zod";
import { joinLines } from "../context/trim-trailing.ts";

/**
 * The plan agent's answer. Models drift from the format they were given, so the schema is
 * lenient about shape (a step may be a bare string; `name`/`description` stand in for
 * `title`/`detail`) and strict about size: over-long text is cut with an ellipsis and
 * extra steps and files are dropped rather than rejected, since a re-prompt costs more
 * than a shortened plan. Cut text always ends in "…", so a cut is visible.
 */

/** Steps beyond this are dropped. */
export const MAX_PLAN_STEPS = 30;
/** Characters of the summary and of each step's detail. */
export const MAX_PLAN_TEXT_CHARS = 2_000;
/** Characters of a step's title (one line). */
export const MAX_STEP_TITLE_CHARS = 200;
/** Files listed per step; longer lists are cut. */
export const MAX_STEP_FILES = 20;
/** A longer "path" is not a path: it is dropped. */
export const MAX_FILE_PATH_CHARS = 300;

const stepSchema = z.union([
  z.string().transform((title) => ({ title, detail: "", files: [] as unknown[] })),
  z
    .object({
      title: z.string().optional(),
      name: z.string().optional(),
      detail: z.string().optional(),
      description: z.string().optional(),
      files: z.array(z.unknown()).optional(),
    })
    .transform((step) => ({ title: step.title ?? step.name ?? "", detail: step.detail ?? step.description ?? "", files: step.files ?? [] })),
]);

export const planSchema = z
  .object({
    summary: z.string().nullish(),
    steps: z.array(stepSchema),
  })
  .transform((plan) => ({
    summary: capText(plan.summary?.trim() ?? "", MAX_PLAN_TEXT_CHARS),
    steps: plan.steps
      .map(cleanStep)
      .filter((step) => step !== null)
      .slice(0, MAX_PLAN_STEPS),
  }));

function cleanStep(step: { title: string; detail: string; files: unknown[] }) {
  const detail = capText(step.detail.trim(), MAX_PLAN_TEXT_CHARS);
  // A step with only a detail is titled by its first line.
  const title = capText(oneLine(step.title) || oneLine(detail.split("\n")[0]), MAX_STEP_TITLE_CHARS);
  if (title === "") return null;
  return { title, detail, files: cleanFiles(step.files) };
}

/** Strings that can be paths: trimmed, one word, no backticks (they are rendered in code spans). */
function cleanFiles(files: readonly unknown[]): string[] {
  const paths = files
    .filter((file) => typeof file === "string")
    .map((file) => file.trim())
    .filter((file) => file !== "" && file.length <= MAX_FILE_PATH_CHARS && !/[\s`]/.test(file));
  return [...new Set(paths)].slice(0, MAX_STEP_FILES);
}

function oneLine(text: string): string {
  return joinLines(text).trim();
}

/** At most `max` characters; a cut ends in "…" and never splits a surrogate pair. */
function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}
