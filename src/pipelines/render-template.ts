import { fenceUntrusted } from "../context/sanitize.ts";
import { parseTemplate } from "../config/parse-template.ts";
import { trimTrailing } from "../context/trim-trailing.ts";

/** What a step's task can refer to: the run's inputs and the outputs of finished steps. */
export type TemplateValues = {
  /** From `/agent run <pipeline> key=value…` or the REST API. */
  inputs: Readonly<Record<string, unknown>>;
  /** Step name → the JSON object the step returned. */
  outputs: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
};

/**
 * The rendered task, or every reason it cannot be rendered. A missing input or output is
 * an ordinary event of a run (an upstream step did not return that key, a run was started
 * without an input), not a bug, so it is a value: the caller fails the step with `errors`
 * as they are, one line each, naming the expression.
 */
export type RenderedTask = { ok: true; task: string } | { ok: false; errors: string[] };

/**
 * Replace the task's expressions with their values, as data. Each value goes in its own
 * `fenceUntrusted` block (sanitized, in a fence longer than any backtick run in it, under a
 * note saying it is data, not instructions): step outputs are written by an agent that may
 * have read hostile text, and inputs come from outside the repository. The block stands on
 * its own lines, since a Markdown fence only opens and closes at the start of a line.
 *
 * One pass over the parsed template: text inside a value is never read as an expression.
 * Strings go in as they are; anything else as JSON (objects indented).
 */
export function renderTask(task: string, values: TemplateValues): RenderedTask {
  let rendered = "";
  let afterBlock = false;
  const errors: string[] = [];
  for (const part of parseTemplate(task)) {
    if (part.kind === "text") {
      rendered += afterBlock ? onNewLine(part.text) : part.text;
      afterBlock = false;
      continue;
    }
    if (part.kind === "malformed") {
      errors.push(`malformed expression ${part.source}: ${part.reason}`);
      continue;
    }
    const found = part.kind === "input" ? lookUp(values.inputs, part.key) : lookUp(outputOf(values, part.step), part.key);
    if (!found.present) {
      errors.push(part.kind === "input" ? `${part.source}: the run has no input "${part.key}"` : missingOutput(part.source, part.step, part.key, values));
      continue;
    }
    const label = part.kind === "input" ? `Input "${part.key}"` : `Output "${part.key}" of step "${part.step}"`;
    rendered = `${endLine(rendered)}${fenceUntrusted(label, textOf(found.value))}`;
    afterBlock = true;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, task: rendered };
}

type Lookup = { present: true; value: unknown } | { present: false };

/** Own keys only: `{{inputs.constructor}}` must not find Object's. */
function lookUp(record: unknown, key: string): Lookup {
  if (record === null || typeof record !== "object" || !Object.hasOwn(record, key)) return { present: false };
  const value: unknown = (record as Record<string, unknown>)[key];
  return value === undefined ? { present: false } : { present: true, value };
}

/** A step's output object, if it returned one (a step may be named "constructor"). */
function outputOf(values: TemplateValues, step: string): Readonly<Record<string, unknown>> | undefined {
  const output = Object.hasOwn(values.outputs, step) ? values.outputs[step] : undefined;
  return output !== null && typeof output === "object" ? output : undefined;
}

function missingOutput(source: string, step: string, key: string, values: TemplateValues): string {
  const output = outputOf(values, step);
  if (output === undefined) return `${source}: step "${step}" returned no output`;
  const keys = Object.keys(output);
  return `${source}: step "${step}" returned no "${key}" (it returned ${keys.length === 0 ? "an empty object" : keys.map((name) => `"${name}"`).join(", ")})`;
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value, null, 2) ?? String(value));
}

/** Text before a block ends its line (trailing spaces dropped): the note must start a line. */
function endLine(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${trimTrailing(text, " \t")}\n`;
}

/** Text after a block starts a new line: the closing fence must be alone on its line. */
function onNewLine(text: string): string {
  if (text.startsWith("\n")) return text;
  const trimmed = text.replace(/^[ \t]+/, "");
  return trimmed === "" || trimmed.startsWith("\n") ? trimmed : `\n${trimmed}`;
}
