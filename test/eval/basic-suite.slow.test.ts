/**
 * The whole of eval/suites/basic through `running-agent eval`, as `npm run eval:offline`
 * runs it: the real opencode binary, each task answered by its own model-script.json.
 * Every task solves except the one tagged `expected-failure`, and the report adds up.
 * Slow (real installs and checks in Node, Python and Rust, two at a time).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { readReport } from "../../src/eval/report.ts";
import { loadSuite, type EvalTask } from "../../src/eval/suite.ts";
import { startModelServer, type ModelRequest, type ModelServer } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { loadScriptedTasks, suiteModelScript } from "../support/eval-scripts.ts";
import { scriptedModelEnv } from "../support/scripted-model.ts";
import { missingToolchain, TOOL_OF_LANGUAGE } from "../support/toolchains.ts";

const SUITE = path.resolve(import.meta.dirname, "../../eval/suites/basic");
const EXPECTED_FAILURE = "expected-failure";

let database: TestDatabase;
let model: ModelServer;
let tasks: EvalTask[];
/** The tasks whose toolchain is on PATH: a Rust task needs cargo, a Python one python3. */
let runnable: EvalTask[];
let out: string;
const unanswered: string[] = [];

beforeAll(async () => {
  tasks = await loadSuite(SUITE);
  runnable = tasks.filter((task) => missingToolchain(task.tags[0]!) === null);
  const script = suiteModelScript(await loadScriptedTasks(tasks));
  model = await startModelServer((request: ModelRequest) => {
    const turn = typeof script === "function" ? script(request) : { text: "no script" };
    if ("text" in turn && turn.text === "unknown task") unanswered.push(request.lastUserText.slice(0, 200));
    return turn;
  });
  database = await createTestDatabase();
  out = await mkdtemp(path.join(os.tmpdir(), "ra-basic-suite-"));
});

afterAll(async () => {
  await model?.close();
  await database?.drop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe("eval/suites/basic with the scripted model", () => {
  it("solves every task but the expected failure, and writes a consistent report", async () => {
    const output = { stdout: "", stderr: "" };
    const io = {
      stdout: { write: (text: string) => void (output.stdout += text) },
      stderr: { write: (text: string) => void (output.stderr += text) },
      // No AGENT_MAX_ITERATIONS: the expected failure scripts the default's three rounds.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...scriptedModelEnv(model), DATABASE_URL: database.url },
      cwd: path.resolve(SUITE, "../../.."),
    };

    const only = runnable.length < tasks.length ? ["--only", runnable.map((task) => task.id).join(",")] : [];
    const code = await main(["eval", SUITE, "--concurrency", "2", "--out", out, ...only], io);

    expect(code, output.stderr).toBe(0);
    expect(unanswered).toEqual([]);
    const report = await readReport(path.join(out, "report.json"));
    expect(report.suite).toBe("eval/suites/basic");
    expect(report.tasks.map((task) => task.id)).toEqual(runnable.map((task) => task.id));
    for (const task of runnable) {
      const result = report.tasks.find((candidate) => candidate.id === task.id)!;
      const expected = !task.tags.includes(EXPECTED_FAILURE);
      expect(result.success, `${task.id}:\n${result.checkOutput}`).toBe(expected);
      expect(result.jobStatus, task.id).toBe("completed");
      expect(result.iterations, task.id).toBeGreaterThanOrEqual(1);
      expect(output.stdout).toMatch(new RegExp(`^${expected ? "✅" : "❌"} ${task.id}${expected ? "" : " \\(check failed\\)"} · `, "m"));
    }
    const expectedFailures = runnable.filter((task) => task.tags.includes(EXPECTED_FAILURE)).map(() => 3);
    expect(report.tasks.filter((task) => task.tags.includes(EXPECTED_FAILURE)).map((task) => task.iterations)).toEqual(expectedFailures);

    const { totals } = report;
    const sum = (of: (task: (typeof report.tasks)[number]) => number) => report.tasks.reduce((total, task) => total + of(task), 0);
    expect(totals.tasks).toBe(runnable.length);
    expect(totals.succeeded).toBe(runnable.filter((task) => !task.tags.includes(EXPECTED_FAILURE)).length);
    expect(totals.successRate).toBeCloseTo(totals.succeeded / totals.tasks);
    expect(totals.iterations).toBe(sum((task) => task.iterations));
    expect(totals.tokensIn).toBe(sum((task) => task.tokensIn));
    expect(totals.tokensOut).toBe(sum((task) => task.tokensOut));
    expect(totals.wallMs).toBe(sum((task) => task.wallMs));
    expect(totals.tokensIn).toBeGreaterThan(0);
    expect(totals.costUsd).toBeGreaterThan(0);

    const markdown = await readFile(path.join(out, "report.md"), "utf8");
    expect(markdown).toContain(`**${totals.succeeded} of ${totals.tasks} tasks succeeded`);
    for (const task of report.tasks) expect(markdown).toMatch(new RegExp(`^\\| ${task.id} \\| ${task.success ? "✅" : "❌"}`, "m"));
    expect(markdown).toMatch(new RegExp(`^\\| \\*\\*total\\*\\* \\| ${totals.succeeded}/${totals.tasks} `, "m"));
    expect(output.stdout).toContain(`Success rate: ${totals.succeeded}/${totals.tasks}`);
  });

  // One skipped test per language whose toolchain is missing, so that the run says so.
  for (const language of Object.keys(TOOL_OF_LANGUAGE)) {
    it(`runs the ${language} tasks`, (context) => {
      const missing = missingToolchain(language);
      if (missing) context.skip(missing);
      expect(runnable.some((task) => task.tags[0] === language)).toBe(true);
    });
  }
});
