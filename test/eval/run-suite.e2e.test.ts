/**
 * Running a suite: first with a stand-in engine that commits what a task says (fast, and
 * it shows exactly what the runner grades), then `running-agent eval` for real on a
 * two-task suite with the opencode binary and the scripted model.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import type { LocalRunResult } from "../../src/local/run-local.ts";
import { readReport, summarize } from "../../src/eval/report.ts";
import { runEvalTask, runSuite, type EvalEngine } from "../../src/eval/run-suite.ts";
import { loadSuite, type EvalTask } from "../../src/eval/suite.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { loadScriptedTasks, suiteModelScript } from "../support/eval-scripts.ts";
import { GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { jobFixture } from "../support/job-fixture.ts";
import { writeFiles } from "../support/local-repo.ts";
import { scriptedModelEnv } from "../support/scripted-model.ts";

const WRONG_GREET = 'exports.greet = (name) => `Hi, ${name}`;\n';
const HIDDEN_TEST = 'const test = require("node:test");\nconst assert = require("node:assert");\ntest("greets anyone", () => assert.strictEqual(require("./greet.js").greet("Bob"), "Hello, Bob!"));\n';

let temp: string;

beforeAll(async () => {
  temp = await mkdtemp(path.join(os.tmpdir(), "ra-run-suite-"));
});

afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

/** A task folder of the suite at `suite`: the greeting project, a hidden test, and what the model (or the stand-in) writes. */
async function writeTask(suite: string, id: string, task: { task: string; greet: string; check?: string; timeoutSeconds?: number }): Promise<void> {
  const dir = path.join(suite, id);
  await writeFiles(path.join(dir, "repo"), GREETING_PROJECT);
  await writeFiles(path.join(dir, "hidden"), { "greet-hidden.test.js": HIDDEN_TEST });
  const file = { title: id, task: task.task, check: task.check ?? "node --test", tags: ["node"], ...(task.timeoutSeconds ? { timeoutSeconds: task.timeoutSeconds } : {}) };
  await writeFile(path.join(dir, "task.json"), JSON.stringify(file));
  const write = { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: task.greet } }] };
  await writeFile(path.join(dir, "model-script.json"), JSON.stringify({ build: [[write, { text: "Wrote greet.js." }]] }));
}

/** An engine that does what the task's model script would, without an agent: commits greet.js on a branch. */
function standInEngine(): EvalEngine & { running: number; mostAtOnce: number; repos: string[] } {
  const engine = {
    running: 0,
    mostAtOnce: 0,
    repos: [] as string[],
    async run(request: { repo: string; task: string }): Promise<LocalRunResult> {
      engine.running++;
      engine.mostAtOnce = Math.max(engine.mostAtOnce, engine.running);
      engine.repos.push(request.repo);
      try {
        const git = (...args: string[]) => execFileSync("git", ["-C", request.repo, ...args], { encoding: "utf8" }).trim();
        const baseSha = git("rev-parse", "HEAD");
        if (request.task.includes("throw")) throw new Error("the database went away");
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (request.task.includes("nothing")) return { job: jobFixture({ status: "failed", failureKind: "no_changes", baseSha }), events: [], branch: null, files: [] };
        git("checkout", "--quiet", "-b", "agent/work");
        await writeFile(path.join(request.repo, "greet.js"), request.task.includes("wrong") ? WRONG_GREET : GREET_SOURCE);
        git("add", "greet.js");
        git("-c", "user.name=Agent", "-c", "user.email=agent@localhost", "commit", "--quiet", "-m", "work");
        git("checkout", "--quiet", "main");
        const job = jobFixture({ status: "completed", testsPassed: true, iterations: 1, totalTokensIn: 300, totalTokensOut: 30, totalCost: 0.0004, timings: { prepare: 20, build: 50, total: 90 }, baseSha });
        return { job, events: [], branch: "agent/work", files: ["greet.js"] };
      } finally {
        engine.running--;
      }
    },
  };
  return engine;
}

describe("runSuite", () => {
  it("runs the tasks `concurrency` at a time and grades the branch each left, hidden tests included", async () => {
    const suite = path.join(temp, "stand-in");
    await writeTask(suite, "a-right", { task: "greet right", greet: GREET_SOURCE });
    await writeTask(suite, "b-wrong", { task: "greet wrong", greet: WRONG_GREET });
    await writeTask(suite, "c-nothing", { task: "do nothing", greet: GREET_SOURCE });
    await writeTask(suite, "d-throw", { task: "throw", greet: GREET_SOURCE });
    const tasks = await loadSuite(suite);
    const engine = standInEngine();
    const done: string[] = [];

    const results = await runSuite(engine, tasks, { concurrency: 2, onTaskDone: (result) => done.push(result.id) });

    expect(engine.mostAtOnce).toBe(2);
    expect(results.map((result) => [result.id, result.success, result.jobStatus])).toEqual([
      ["a-right", true, "completed"],
      ["b-wrong", false, "completed"],
      ["c-nothing", false, "failed"],
      ["d-throw", false, "error"],
    ]);
    expect(done.sort()).toEqual(["a-right", "b-wrong", "c-nothing", "d-throw"]);
    expect(results[0]).toMatchObject({ iterations: 1, tokensIn: 300, tokensOut: 30, costUsd: 0.0004, phaseMs: { prepare: 20, build: 50 }, slowestPhase: "build" });
    expect(results[0]!.wallMs).toBeGreaterThanOrEqual(100);
    expect(results[1]!.checkOutput).toMatch(/Hi, Ada|Hi, Bob/);
    // Nothing pushed: graded on the base, where greet.js does not exist.
    expect(results[2]).toMatchObject({ failureKind: "no_changes", checkOutput: expect.stringContaining("greet.js") });
    expect(results[3]).toMatchObject({ failureKind: "internal", iterations: 0, checkOutput: "the task did not run: the database went away" });
    // Each task had a repository of its own, seeded by the suite, and it is gone now.
    expect(new Set(engine.repos).size).toBe(4);
    for (const repo of engine.repos) await expect(readFile(path.join(repo, "package.json"))).rejects.toThrow(/ENOENT/);
  });

  it("takes a task's repository from repo.bundle, and stops a check at the task's timeout", async () => {
    const suite = path.join(temp, "bundle");
    await writeTask(suite, "slow", { task: "greet right", greet: GREET_SOURCE, check: "sleep 30", timeoutSeconds: 1 });
    const seed = path.join(temp, "seed");
    await writeFiles(seed, { ...GREETING_PROJECT, "greet.js": "exports.greet = () => 'old';\n" });
    const git = (...args: string[]) => execFileSync("git", ["-C", seed, ...args], { encoding: "utf8" });
    git("init", "--quiet", "-b", "main");
    git("add", "--all");
    git("-c", "user.name=Seed", "-c", "user.email=seed@localhost", "commit", "--quiet", "-m", "seed");
    await rm(path.join(suite, "slow", "repo"), { recursive: true });
    git("bundle", "create", "--quiet", path.join(suite, "slow", "repo.bundle"), "--all");
    const [task] = await loadSuite(suite);
    const engine = standInEngine();

    const result = await runEvalTask(engine, task!);

    expect(result).toMatchObject({ success: false, checkOutput: expect.stringContaining("[the check was stopped after 1 s]") });
    expect(result.jobStatus).toBe("completed");
  });
});

describe("running-agent eval, for real", () => {
  let database: TestDatabase;
  let model: ModelServer;
  let suite: string;
  let tasks: EvalTask[];

  beforeAll(async () => {
    suite = path.join(temp, "real");
    await writeTask(suite, "greet-right", { task: "Add greet(name) in greet.js", greet: GREET_SOURCE });
    await writeTask(suite, "greet-wrong", { task: "Write a friendly greeting function in greet.js", greet: WRONG_GREET });
    tasks = await loadSuite(suite);
    database = await createTestDatabase();
    model = await startModelServer(suiteModelScript(await loadScriptedTasks(tasks)));
  });

  afterAll(async () => {
    await model?.close();
    await database?.drop();
  });

  const evalCli = async (args: string[]) => {
    const output = { stdout: "", stderr: "" };
    const io = {
      stdout: { write: (text: string) => void (output.stdout += text) },
      stderr: { write: (text: string) => void (output.stderr += text) },
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...scriptedModelEnv(model), DATABASE_URL: database.url },
      cwd: temp,
    };
    const code = await main(["eval", suite, "--max-iterations", "1", ...args], io);
    return { code, ...output };
  };

  it("runs the suite on one engine, writes report.json and report.md, and exits 0 though a task failed", async () => {
    const out = path.join(temp, "out-first");

    const run = await evalCli(["--concurrency", "2", "--out", out]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^✅ greet-right · 1 iteration · /m);
    expect(run.stdout).toMatch(/^❌ greet-wrong \(check failed\) · /m);
    expect(run.stdout).toContain("Success rate: 1/2 (50%)");
    const report = await readReport(path.join(out, "report.json"));
    expect(report.tasks.map((task) => [task.id, task.success, task.jobStatus])).toEqual([
      ["greet-right", true, "completed"],
      ["greet-wrong", false, "completed"],
    ]);
    expect(report.totals).toMatchObject({ tasks: 2, succeeded: 1, successRate: 0.5 });
    expect(report.tasks[0]!.tokensIn).toBeGreaterThan(0);
    expect(report.models).toEqual({ explore: "scripted/explore", plan: "scripted/plan", build: "scripted/build" });
    const markdown = await readFile(path.join(out, "report.md"), "utf8");
    expect(markdown).toContain("**1 of 2 tasks succeeded (50%)**");
    expect(markdown).toMatch(/^\| greet-right \| ✅ \| 1 \| /m);
    expect(markdown).toContain("### greet-wrong: greet-wrong");
    // The table printed at the end is the report's.
    expect(run.stdout).toContain(markdown.slice(0, markdown.indexOf("\n## ")).trimEnd());
  });

  it("--compare marks a task that succeeded before and fails now as a regression, and exits 1", async () => {
    const old = path.join(temp, "old.json");
    const before = summarize({
      suite: "real",
      startedAt: new Date("2026-11-01T10:00:00Z"),
      finishedAt: new Date("2026-11-01T10:05:00Z"),
      models: { explore: "scripted/explore", plan: "scripted/plan", build: "scripted/build" },
      tasks: ["greet-right", "greet-wrong"].map((id) => ({ id, title: id, tags: ["node"], success: true, checkOutput: "", jobStatus: "completed", failureKind: null, iterations: 1, tokensIn: 1, tokensOut: 1, costUsd: 0, wallMs: 1_000, phaseMs: {}, slowestPhase: null })),
    });
    await writeFile(old, JSON.stringify(before));
    const out = path.join(temp, "out-compare");
    await mkdir(out);

    const run = await evalCli(["--only", "greet-wrong", "--out", out, "--compare", old]);

    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^\| greet-wrong \| \*\*⚠️ regressed\*\* ✅ → ❌ \|/m);
    expect(run.stdout).toContain("| greet-right | removed (was ✅) |");
    expect(run.stderr).toContain("1 task regressed since the compared report.");
    expect(await readFile(path.join(out, "report.md"), "utf8")).toContain("## Compared with 2026-11-01T10:00:00.000Z\n");
  });

  it("refuses a report to compare with that is not one, before running anything (exit 2)", async () => {
    const bad = path.join(temp, "bad.json");
    await writeFile(bad, "{}");
    const requestsBefore = model.requests.length;

    const run = await evalCli(["--compare", bad]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}: not an eval report`);
    expect(model.requests).toHaveLength(requestsBefore);
  });
});
