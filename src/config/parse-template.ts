import type { PipelineDefinition } from "./pipeline.schema.ts";

/**
 * The template language of a step's task, the one place its grammar lives (validation and
 * rendering both read tasks through `parseTemplate`). Two expressions exist:
 * `{{inputs.<key>}}` and `{{steps.<step>.output.<key>}}`, with optional spaces inside the
 * braces. Every other `{{…}}` is malformed; `\{{` writes a literal `{{`.
 *
 * A key follows the `/agent run` command's rule (`src/github/webhook/command.ts`): a letter or `_`,
 * then letters, digits, `_`, `.` or `-`. A dot is part of the key, not a path into an
 * object: `{{steps.test.output.a.b}}` is the output key `"a.b"`.
 */
export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "input"; key: string; source: string }
  | { kind: "output"; step: string; key: string; source: string }
  | { kind: "malformed"; source: string; reason: string };

const OPEN = "{{";
const CLOSE = "}}";
const KEY = "[A-Za-z_][A-Za-z0-9_.-]*";
const STEP = "[A-Za-z0-9][A-Za-z0-9_-]{0,62}";
const INPUT = new RegExp(`^[ \\t]*inputs\\.(${KEY})[ \\t]*$`);
const OUTPUT = new RegExp(`^[ \\t]*steps\\.(${STEP})\\.output\\.(${KEY})[ \\t]*$`);
const GRAMMAR = "the only expressions are {{inputs.<key>}} and {{steps.<step>.output.<key>}}";
const SHOWN_SOURCE = 60;

/** The task split into literal text and expressions, in order. Adjacent text is merged. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = "";
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf(OPEN, position);
    if (open === -1) break;
    if (template[open - 1] === "\\") {
      text += template.slice(position, open - 1) + OPEN;
      position = open + OPEN.length;
      continue;
    }
    text += template.slice(position, open);
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
    const close = template.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) {
      parts.push({ kind: "malformed", source: shortened(template.slice(open)), reason: `"{{" is never closed with "}}" (write \\{{ for a literal "{{")` });
      return parts;
    }
    parts.push(expressionOf(template.slice(open, close + CLOSE.length)));
    position = close + CLOSE.length;
  }
  text += template.slice(position);
  if (text !== "") parts.push({ kind: "text", text });
  return parts;
}

/** Every input key the pipeline's tasks use, sorted: what a run must be given. */
export function inputKeysOf(definition: PipelineDefinition): string[] {
  const keys = new Set<string>();
  for (const step of definition.steps) {
    for (const part of parseTemplate(step.task)) if (part.kind === "input") keys.add(part.key);
  }
  return [...keys].sort();
}

function expressionOf(source: string): TemplatePart {
  const inner = source.slice(OPEN.length, -CLOSE.length);
  const input = INPUT.exec(inner);
  if (input) return { kind: "input", key: input[1], source };
  const output = OUTPUT.exec(inner);
  if (output) return { kind: "output", step: output[1], key: output[2], source };
  return { kind: "malformed", source: shortened(source), reason: `${GRAMMAR} (write \\{{ for a literal "{{")` };
}

/** A malformed expression as shown in a message: whole when short. */
function shortened(source: string): string {
  return source.length > SHOWN_SOURCE ? `${source.slice(0, SHOWN_SOURCE)}…` : source;
}
