import { isMap, LineCounter, parseDocument, type Node } from "yaml";
import type { ProjectInfo } from "../verify/detect-project.ts";
import { repoConfigSchema, type RepoConfig } from "./repo-config.schema.ts";

export const REPO_CONFIG_PATH = ".github/agent.yml";

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; errors: string[] };

/**
 * Parse `.github/agent.yml`. Pure. Every problem comes back with its line number and a
 * plain explanation, so it can be shown on the thread as it is.
 */
export function parseRepoConfig(text: string): RepoConfigResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return { ok: false, errors: document.errors.map((error) => `line ${lineCounter.linePos(error.pos[0]).line}: ${error.message.split("\n")[0]}`) };
  }
  const value: unknown = document.toJS() ?? {};
  const parsed = repoConfigSchema.safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => {
      // An unknown key is reported on its parent; point at the key itself.
      const path = issue.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
      const node = (document.getIn(path, true) ?? keyNodeOf(document.contents, path)) as Node | undefined;
      const offset = node?.range?.[0] ?? nearestKeyOffset(document.contents, issue.path);
      const where = offset === undefined ? "" : `line ${lineCounter.linePos(offset).line}: `;
      return `${where}${issue.path.join(".") || "(top level)"}: ${issue.message}`;
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

/** The key node at `path` (its value may be empty). */
function keyNodeOf(contents: unknown, path: readonly PropertyKey[]): Node | undefined {
  let node = contents;
  let key: Node | undefined;
  for (const segment of path) {
    if (!isMap(node)) return undefined;
    const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
    key = pair?.key as Node | undefined;
    node = pair?.value;
  }
  return key;
}

/** Fallback: the first key of the map at `path`. */
function nearestKeyOffset(contents: unknown, path: readonly PropertyKey[]): number | undefined {
  let node = contents;
  for (const key of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
    node = pair?.value;
  }
  return isMap(node) ? (node.items[0]?.key as Node | undefined)?.range?.[0] : undefined;
}
