import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { z } from "zod";
import { pipelineSchema } from "../pipelines/pipeline.schema.ts";
import { validatePipeline } from "../pipelines/validate-pipeline.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";
import { repoConfigSchema, type RepoConfig } from "./repo-config.schema.ts";

export const REPO_CONFIG_PATH = ".github/agent.yml";

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; errors: string[] };

/** A problem at `path`; one with `key` is shown on the line of that key, not of a value. */
type Problem = { path: readonly PropertyKey[]; message: string; key?: readonly PropertyKey[] };

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
    return { ok: false, errors: document.errors.map((error) => `line ${lineCounter.linePos(error.pos[0]).line}: ${error.message.split("\n")[0]}`) };
  }
  const value: unknown = document.toJS() ?? {};
  const parsed = repoConfigSchema.safeParse(value);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map(problemOf)), ...pipelineProblemsOf(value)];
  if (parsed.success && problems.length === 0) return { ok: true, config: parsed.data };
  const located = problems.map((problem) => ({ problem, offset: offsetOf(document, problem) }));
  located.sort((a, b) => (a.offset ?? Infinity) - (b.offset ?? Infinity));
  return {
    ok: false,
    errors: located.map(({ problem, offset }) => {
      const where = offset === undefined ? "" : `line ${lineCounter.linePos(offset).line}: `;
      return `${where}${problem.path.map(String).join(".") || "(top level)"}: ${problem.message}`;
    }),
  };
}

/** Apply the file's command overrides to what detection found. Pure. */
export function applyCommandOverrides(project: ProjectInfo, config: RepoConfig): ProjectInfo {
  const overrides = config.commands ?? {};
  const result = { ...project };
  for (const key of ["install", "test", "build", "lint", "typecheck"] as const) {
    const value = overrides[key];
    if (value === undefined) continue;
    result[key] = value === false ? null : typeof value === "string" ? ["sh", "-c", value] : value;
  }
  return result;
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
