import { readFile } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JobReporter } from "../../src/jobs/job-host.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { LocalRunError, openLocalEngine, type LocalEngine } from "../../src/local/run-local.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { startModelServer, type ModelServer, type Script, type Turn } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { createLocalRepository, writeFiles, type LocalRepository } from "../support/local-repo.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";

const write = (content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content } }] });
const WRONG_GREET = 'exports.greet = (name) => `Hi, ${name}`;\n';

let database: TestDatabase;
let model: ModelServer;
let engine: LocalEngine;
let script: Script = [];
let repo: LocalRepository;

/** Progress as the CLI would get it: every state the job went through. */
function recordingProgress(): JobReporter & { states: Job[] } {
  const states: Job[] = [];
  return {
    states,
    update: (job) => void states.push(job),
    flush: async () => {},
    finish: async (job) => {
      states.push(job);
      return true;
    },
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  model = await startModelServer((request) => (typeof script === "function" ? script(request) : { text: "no script" }));
  engine = await openLocalEngine({ config: loadConfig({ ...scriptedModelEnv(model), DATABASE_URL: database.url, AGENT_MAX_ITERATIONS: "2" }), log: pino({ level: "silent" }) });
});

afterAll(async () => {
  await engine?.close();
  await model?.close();
  await database?.drop();
});

beforeEach(async () => {
  repo = await createLocalRepository(GREETING_PROJECT);
});

afterEach(async () => {
  await repo.cleanup();
});

describe("a job on a repository on this machine", () => {
  it("leaves the work on a new branch of the repository, and the working tree, index and current branch as they were", async () => {
    // The user has work in progress: a change, a staged file and an untracked one.
    await writeFiles(repo.dir, { "README.md": "# hello, edited\n", "staged.txt": "staged\n", "notes.txt": "mine\n" });
    repo.git("add", "staged.txt");
    const statusBefore = repo.git("status", "--porcelain");
    const headBefore = repo.git("rev-parse", "HEAD");
    script = agentScript({ build: [[write(GREET_SOURCE), { text: "Added greet()." }]] });
    const progress = recordingProgress();

    const result = await engine.run({ repo: repo.dir, task: "Add greet(name) in greet.js" }, { progress });

    expect(result.job).toMatchObject({ status: "completed", testsPassed: true, iterations: 1, trigger: "local", shownStatus: "completed" });
    expect(result.branch).toBe("agent/add-greet-name-in-greet-js");
    expect(result.files).toEqual(["greet.js"]);
    expect(repo.git("show", `${result.branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(repo.git("log", "-1", "--format=%s", result.branch!)).toBe("Add greet(name) in greet.js");
    expect(repo.git("rev-parse", `${result.branch}~1`)).toBe(headBefore);
    expect(repo.git("status", "--porcelain")).toBe(statusBefore);
    expect(repo.git("symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(repo.git("rev-parse", "HEAD")).toBe(headBefore);
    expect(await readFile(path.join(repo.dir, "README.md"), "utf8")).toBe("# hello, edited\n");
    // Progress saw every phase, and the final state last.
    expect(new Set(progress.states.map((state) => state.phase).filter((phase) => phase !== null))).toEqual(new Set(["prepare", "explore", "plan", "build", "verify", "deliver"]));
    expect(progress.states.at(-1)).toMatchObject({ status: "completed" });
    expect(result.events.some((event) => event.kind === "push")).toBe(true);
  });

  it("never overwrites a branch the repository has: a second run takes the next name", async () => {
    repo.git("branch", "agent/add-greet-name-in-greet-js");
    script = agentScript({ build: [[write(GREET_SOURCE), { text: "Added greet()." }]] });

    const result = await engine.run({ repo: repo.dir, task: "Add greet(name) in greet.js" }, { progress: recordingProgress() });

    expect(result.branch).toBe("agent/add-greet-name-in-greet-js-2");
    expect(repo.git("rev-parse", "agent/add-greet-name-in-greet-js")).toBe(repo.git("rev-parse", "main"));
  });

  it("builds on --base, and keeps the work on its branch when the checks never pass", async () => {
    repo.git("checkout", "--quiet", "-b", "feature");
    await writeFiles(repo.dir, { "feature.txt": "on feature\n" });
    repo.git("add", "feature.txt");
    repo.git("commit", "--quiet", "-m", "Feature work");
    repo.git("checkout", "--quiet", "main");
    script = agentScript({ build: [[write(WRONG_GREET), { text: "Added greet()." }], [write(WRONG_GREET), { text: "Tried again." }]] });

    const result = await engine.run({ repo: repo.dir, task: "Add greet(name) in greet.js", base: "feature" }, { progress: recordingProgress() });

    expect(result.job).toMatchObject({ status: "completed", testsPassed: false, iterations: 2 });
    expect(repo.git("rev-parse", `${result.branch}~1`)).toBe(repo.git("rev-parse", "feature"));
    expect(repo.git("show", `${result.branch}:greet.js`)).toBe(WRONG_GREET.trim());
  });

  it("refuses a path outside any repository and an unknown base, before any job runs", async () => {
    await expect(engine.run({ repo: path.dirname(repo.dir), task: "anything" }, { progress: recordingProgress() })).rejects.toThrow(LocalRunError);
    await expect(engine.run({ repo: repo.dir, task: "anything", base: "no-such-ref" }, { progress: recordingProgress() })).rejects.toThrow("no-such-ref is not a branch, tag or commit");
    expect(repo.git("branch", "--list", "agent/*")).toBe("");
  });

  it("is cancelled when its signal aborts: nothing is pushed", async () => {
    const hang: Turn = { hang: true };
    script = agentScript({ build: [[hang]] });
    const controller = new AbortController();
    const progress = recordingProgress();
    progress.update = (job) => {
      progress.states.push(job);
      if (job.phase === "build") controller.abort();
    };

    const result = await engine.run({ repo: repo.dir, task: "Add greet(name) in greet.js" }, { progress, signal: controller.signal });

    expect(result.job).toMatchObject({ status: "cancelled", failureKind: "cancelled" });
    expect(result.branch).toBeNull();
    expect(repo.git("branch", "--list", "agent/*")).toBe("");
  });
});
