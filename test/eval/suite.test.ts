import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EvalInputError } from "../../src/eval/eval-input-error.ts";
import { loadSuite } from "../../src/eval/suite.ts";

let suite: string;

beforeEach(async () => {
  suite = await mkdtemp(path.join(os.tmpdir(), "eval-suite-"));
});

afterEach(async () => {
  await rm(suite, { recursive: true, force: true });
});

const validTask = { title: "Add greet()", task: "Add a greet(name) function to src/greet.js", check: "node --test hidden.test.js", tags: ["feature"] };

/** A task folder: `task.json` (an object, or raw text), and the repository as asked. */
async function addTask(id: string, options: { taskJson?: unknown; repo?: "folder" | "bundle" | "both" | "none"; hidden?: boolean; modelScript?: boolean } = {}) {
  const dir = path.join(suite, id);
  await mkdir(dir, { recursive: true });
  const json = options.taskJson ?? validTask;
  await writeFile(path.join(dir, "task.json"), typeof json === "string" ? json : JSON.stringify(json));
  const repo = options.repo ?? "folder";
  if (repo === "folder" || repo === "both") {
    await mkdir(path.join(dir, "repo"));
    await writeFile(path.join(dir, "repo", "README.md"), "hello\n");
  }
  if (repo === "bundle" || repo === "both") await writeFile(path.join(dir, "repo.bundle"), "# v2 git bundle\n");
  if (options.hidden) await mkdir(path.join(dir, "hidden"));
  if (options.modelScript) await writeFile(path.join(dir, "model-script.json"), "[]");
  return dir;
}

async function problemsOf(promise: Promise<unknown>): Promise<readonly string[]> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EvalInputError);
  return (error as EvalInputError).problems;
}

describe("loadSuite", () => {
  it("returns the tasks sorted by id with absolute paths, skipping folders without task.json", async () => {
    await addTask("b-bundle", { repo: "bundle", taskJson: { ...validTask, timeoutSeconds: 300 } });
    await addTask("a-folder", { hidden: true, modelScript: true });
    await mkdir(path.join(suite, "fixtures"));
    await mkdir(path.join(suite, ".git"));
    const tasks = await loadSuite(suite);
    expect(tasks).toEqual([
      {
        id: "a-folder",
        dir: path.join(suite, "a-folder"),
        ...validTask,
        timeoutSeconds: null,
        repo: { kind: "folder", path: path.join(suite, "a-folder", "repo") },
        hiddenDir: path.join(suite, "a-folder", "hidden"),
        modelScript: path.join(suite, "a-folder", "model-script.json"),
      },
      {
        id: "b-bundle",
        dir: path.join(suite, "b-bundle"),
        ...validTask,
        timeoutSeconds: 300,
        repo: { kind: "bundle", path: path.join(suite, "b-bundle", "repo.bundle") },
        hiddenDir: null,
        modelScript: null,
      },
    ]);
  });

  it("resolves a relative suite path", async () => {
    await addTask("one");
    const tasks = await loadSuite(path.relative(process.cwd(), suite));
    expect(tasks[0]!.dir).toBe(path.join(suite, "one"));
  });

  it("names the file of a task.json that is not JSON", async () => {
    await addTask("broken", { taskJson: "{ title: " });
    const [problem] = await problemsOf(loadSuite(suite));
    expect(problem).toMatch(new RegExp(`^${escape(path.join(suite, "broken", "task.json"))}: not valid JSON: `));
  });

  it("names an unknown key, and each wrong field by its path", async () => {
    await addTask("typo", { taskJson: { ...validTask, timeoutSecond: 60 } });
    await addTask("wrong", { taskJson: { title: "", task: "x", check: "true", tags: ["a", 3] } });
    const problems = await problemsOf(loadSuite(suite));
    const typo = path.join(suite, "typo", "task.json");
    const wrong = path.join(suite, "wrong", "task.json");
    expect(problems).toEqual([`${typo}: timeoutSecond: Unrecognized key: "timeoutSecond"`, `${wrong}: title: must not be empty`, expect.stringMatching(new RegExp(`^${escape(wrong)}: tags\\.1: `))]);
  });

  it("requires a repository, and only one of repo/ and repo.bundle", async () => {
    await addTask("both", { repo: "both" });
    await addTask("none", { repo: "none" });
    const problems = await problemsOf(loadSuite(suite));
    expect(problems).toEqual([`${path.join(suite, "both")}: has both repo/ and repo.bundle; keep one`, `${path.join(suite, "none")}: no repository: add a repo/ folder or a repo.bundle (git bundle create repo.bundle --all)`]);
  });

  it("refuses a repo that is a file", async () => {
    const dir = await addTask("file-repo", { repo: "none" });
    await writeFile(path.join(dir, "repo"), "not a folder");
    expect(await problemsOf(loadSuite(suite))).toContain(`${path.join(dir, "repo")}: must be a folder`);
  });

  it("calls a suite without tasks an error, and a missing folder too", async () => {
    await mkdir(path.join(suite, "not-a-task"));
    expect(await problemsOf(loadSuite(suite))).toEqual([`${suite}: no tasks: a task is a subfolder with a task.json`]);
    expect(await problemsOf(loadSuite(path.join(suite, "missing")))).toEqual([`${path.join(suite, "missing")}: no such folder`]);
  });
});

describe("--only", () => {
  it("loads only the tasks asked for, so a broken task elsewhere does not stop them", async () => {
    await addTask("a");
    await addTask("b");
    await addTask("c", { taskJson: "nope" });
    const tasks = await loadSuite(suite, { only: ["b", "a"] });
    expect(tasks.map((task) => task.id)).toEqual(["a", "b"]);
  });

  it("names an unknown id and the ids there are", async () => {
    await addTask("a");
    await addTask("b");
    expect(await problemsOf(loadSuite(suite, { only: ["a", "zz"] }))).toEqual(['--only: no task "zz" in the suite; it has a, b']);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
