/**
 * Loading an eval suite: a folder whose subfolders holding a `task.json` are its tasks
 * (other subfolders, shared fixtures say, are left alone). A task's repository is `repo/`
 * (a folder, copied and committed as it is) or `repo.bundle` (a git bundle, for history
 * and branches); `hidden/` is copied over the checkout only before `check`, so the agent
 * never sees the tests that judge it.
 *
 * Every problem of every selected task is reported at once, each naming its file.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describeIssues, EvalInputError, readJsonText } from "./eval-input-error.ts";
import { evalTaskFileSchema } from "./task.schema.ts";

export interface EvalTask {
  /** The task's folder name. */
  id: string;
  /** Absolute path of the task's folder. */
  dir: string;
  title: string;
  task: string;
  check: string;
  tags: string[];
  timeoutSeconds: number | null;
  repo: { kind: "folder" | "bundle"; path: string };
  /** Files copied over the checkout before `check`, or null. */
  hiddenDir: string | null;
  /** A scripted model's rounds for this task (used by the suite's own tests), or null. */
  modelScript: string | null;
}

const TASK_FILE = "task.json";

/** The suite's tasks sorted by id, only those in `only` when given. Throws EvalInputError. */
export async function loadSuite(suiteDir: string, options: { only?: readonly string[] | null } = {}): Promise<EvalTask[]> {
  const root = path.resolve(suiteDir);
  const ids = await listTaskIds(root);
  if (ids.length === 0) throw new EvalInputError([`${root}: no tasks: a task is a subfolder with a ${TASK_FILE}`]);
  const selected = options.only ? selectIds(ids, options.only) : ids;
  const loaded = await Promise.all(selected.map((id) => loadTask(root, id)));
  const problems = loaded.flatMap((result) => (Array.isArray(result) ? result : []));
  if (problems.length > 0) throw new EvalInputError(problems);
  return loaded.filter((result): result is EvalTask => !Array.isArray(result));
}

function selectIds(ids: readonly string[], only: readonly string[]): string[] {
  const unknown = only.filter((id) => !ids.includes(id));
  if (unknown.length > 0) throw new EvalInputError([`--only: no task ${unknown.map((id) => JSON.stringify(id)).join(", ")} in the suite; it has ${ids.join(", ")}`]);
  return ids.filter((id) => only.includes(id));
}

async function listTaskIds(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    throw new EvalInputError([`${root}: ${codeOf(error) === "ENOENT" ? "no such folder" : codeOf(error) === "ENOTDIR" ? "not a folder" : String(error)}`]);
  }
  const tasks = await Promise.all(names.map(async (name) => (!name.startsWith(".") && (await kindOf(path.join(root, name, TASK_FILE))) === "file" ? name : null)));
  // Plain code-unit order, the same on every machine and locale.
  return tasks.filter((name) => name !== null).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The task, or its problems. */
async function loadTask(root: string, id: string): Promise<EvalTask | string[]> {
  const dir = path.join(root, id);
  const file = path.join(dir, TASK_FILE);
  const json = readJsonText(await readFile(file, "utf8"), file);
  const parsed = evalTaskFileSchema.safeParse("value" in json ? json.value : undefined);
  const problems = "problem" in json ? [json.problem] : parsed.success ? [] : describeIssues(file, parsed.error.issues);
  const [folder, bundle, hidden, modelScript] = await Promise.all(["repo", "repo.bundle", "hidden", "model-script.json"].map((name) => kindOf(path.join(dir, name))));
  if (folder === "folder" && bundle !== null) problems.push(`${dir}: has both repo/ and repo.bundle; keep one`);
  else if (folder === null && bundle === null) problems.push(`${dir}: no repository: add a repo/ folder or a repo.bundle (git bundle create repo.bundle --all)`);
  if (folder === "file") problems.push(`${path.join(dir, "repo")}: must be a folder`);
  if (bundle === "folder") problems.push(`${path.join(dir, "repo.bundle")}: must be a git bundle file, not a folder`);
  if (hidden === "file") problems.push(`${path.join(dir, "hidden")}: must be a folder`);
  if (problems.length > 0 || !parsed.success) return problems;
  const { title, task, check, tags, timeoutSeconds } = parsed.data;
  return {
    id,
    dir,
    title,
    task,
    check,
    tags,
    timeoutSeconds: timeoutSeconds ?? null,
    repo: folder === "folder" ? { kind: "folder", path: path.join(dir, "repo") } : { kind: "bundle", path: path.join(dir, "repo.bundle") },
    hiddenDir: hidden === "folder" ? path.join(dir, "hidden") : null,
    modelScript: modelScript === "file" ? path.join(dir, "model-script.json") : null,
  };
}

async function kindOf(file: string): Promise<"file" | "folder" | null> {
  try {
    const stats = await stat(file);
    return stats.isDirectory() ? "folder" : "file";
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return null;
    throw error;
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}
