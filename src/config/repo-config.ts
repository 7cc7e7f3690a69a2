import { isMap, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { z } from "zod";
import { pipelineSchema } from "./pipeline.schema.ts";
import { validatePipeline } from "./validate-pipeline.ts";
import { repoConfigSchema, type RepoConfig } from "./repo-config.schema.ts";

export const REPO_CONFIG_PATH = ".github/agent.yml";

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; errors: string[] };

/** A problem at `path`; one with `key` is shown on the line of that key, not of a value. */
type Problem = { path: readonly PropertyKey[]; message: string; key?: readonly PropertyKey[] };

/** How many alias expansions a file may make (`yaml`'s default): plenty for a pipeline file, far from a bomb. */
const MAX_ALIAS_COUNT = 100;
/** How many problems a report lists. */
const MAX_REPORTED = 20;

/**
 * Parse `.github/agent.yml`. Pure. Every problem comes back with its line number and a
 * plain explanation, so it can be shown on the thread as it is, in file order. Each
 * pipeline that passes its schema is also checked by `validatePipeline` (cycles, unknown
 * steps, templates), even when another part of the file is wrong.
 */
export function parseRepoConfig(text: string): RepoConfigResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return failed(document.errors.map((error) => `line ${lineCounter.linePos(error.pos[0]).line}: ${error.message.split("\n")[0]}`));
  }
  const value = valueOf(document);
  if (!value.ok) {
    const offset = firstAliasOffset(document);
    return failed([`${offset === undefined ? "" : `line ${lineCounter.linePos(offset).line}: `}${value.message}`]);
  }
  return checkConfig(document, lineCounter, value.value);
}

/** The first problems only: a reply on the thread must fit in a comment, however broken the file. */
function failed(errors: string[]): RepoConfigResult {
  if (errors.length <= MAX_REPORTED) return { ok: false, errors };
  return { ok: false, errors: [...errors.slice(0, MAX_REPORTED), `… and ${errors.length - MAX_REPORTED} more problems`] };
}

/**
 * The document as plain data. Resolving aliases can throw after a clean parse: an alias
 * to no anchor, or too many of them (a "billion laughs" file that would expand to
 * gigabytes; `yaml` stops at 100). Either is the file's problem, to be reported like a
 * syntax error, never an exception that fails the webhook.
 */
function valueOf(document: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {} };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const hint = /alias/i.test(reason) ? ` (an alias such as \`*name\` must follow its anchor \`&name\`, and the file may expand aliases at most ${MAX_ALIAS_COUNT} times: write the values out instead)` : "";
    return { ok: false, message: `the file cannot be read: ${reason}${hint}` };
  }
}

/** Where the first alias is, to point the report at. */
function firstAliasOffset(document: Document): number | undefined {
  let offset: number | undefined;
  visit(document, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

function checkConfig(document: Document, lineCounter: LineCounter, value: unknown): RepoConfigResult {
  const parsed = repoConfigSchema.safeParse(value);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map(problemOf)), ...pipelineProblemsOf(value)];
  if (parsed.success && problems.length === 0) return { ok: true, config: parsed.data };
  const located = problems.map((problem) => ({ problem, offset: offsetOf(document, problem) }));
  located.sort((a, b) => (a.offset ?? Infinity) - (b.offset ?? Infinity));
  return failed(
    located.map(({ problem, offset }) => {
      const where = offset === undefined ? "" : `line ${lineCounter.linePos(offset).line}: `;
      return `${where}${problem.path.map(String).join(".") || "(top level)"}: ${problem.message}`;
    }),
  );
}

function problemOf(issue: z.core.$ZodIssue): Problem {
  // An unknown key is reported on its parent; point at the key itself.
  if (issue.code === "unrecognized_keys" && issue.keys[0] !== undefined) return { path: issue.path, message: issue.message, key: [...issue.path, issue.keys[0]] };
  // A bad record key ("Invalid key in record"): say what is wrong with it.
  if (issue.code === "invalid_key") return { path: issue.path, message: issue.issues[0]?.message ?? issue.message, key: issue.path };
  return { path: issue.path, message: issue.message };
}

/** The graph and template problems of each pipeline that passes its own schema. */
function pipelineProblemsOf(value: unknown): Problem[] {
  const pipelines = (value as { pipelines?: unknown } | null)?.pipelines;
  if (pipelines === null || typeof pipelines !== "object" || Array.isArray(pipelines)) return [];
  return Object.entries(pipelines).flatMap(([name, definition]) => {
    const parsed = pipelineSchema.safeParse(definition);
    if (!parsed.success) return [];
    return validatePipeline(parsed.data).map((problem) => ({ path: ["pipelines", name, ...problem.path], message: problem.message }));
  });
}

function offsetOf(document: Document, problem: Problem): number | undefined {
  const path = problem.key ?? problem.path;
  const node = ((problem.key ? undefined : document.getIn(path, true)) ?? keyNodeOf(document.contents, path)) as Node | undefined;
  return node?.range?.[0] ?? nearestKeyOffset(document.contents, problem.path);
}

/** The item at `segment` of a map or sequence: its key node (maps only) and its value. */
function childOf(node: unknown, segment: PropertyKey): { key?: Node; value: unknown } | undefined {
  if (isSeq(node)) return typeof segment === "number" ? { value: node.items[segment] } : undefined;
  if (!isMap(node)) return undefined;
  const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
  return pair === undefined ? undefined : { key: pair.key as Node, value: pair.value };
}

/** The key node at `path` (its value may be empty). */
function keyNodeOf(contents: unknown, path: readonly PropertyKey[]): Node | undefined {
  let node = contents;
  let key: Node | undefined;
  for (const segment of path) {
    const child = childOf(node, segment);
    if (child === undefined) return undefined;
    key = child.key;
    node = child.value;
  }
  return key;
}

/** Fallback: the first key of the map at `path`. */
function nearestKeyOffset(contents: unknown, path: readonly PropertyKey[]): number | undefined {
  let node = contents;
  for (const segment of path) {
    const child = childOf(node, segment);
    if (child === undefined) break;
    node = child.value;
  }
  return isMap(node) ? (node.items[0]?.key as Node | undefined)?.range?.[0] : undefined;
}
