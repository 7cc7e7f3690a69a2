/**
 * The tasks of `eval/suites/basic` hold what they promise, without opencode: each check
 * fails on the untouched repository, and the scripted build rounds' `write`/`edit` calls,
 * replayed on a copy, make it pass (all rounds but the last leave the agent's own checks
 * red, so the loop really runs them). The one task tagged `expected-failure` fails in
 * every round. Commands run for real (node, python3, cargo), so the cases are slow.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parsePlan } from "../../src/agent/plan.ts";
import { buildLocalEnv } from "../../src/sandbox/local-env.ts";
import type { ExecResult, Sandbox } from "../../src/sandbox/sandbox.ts";
import { detectProjectIn } from "../../src/verify/detect-project-in.ts";
import type { ProjectInfo } from "../../src/verify/detect-project.ts";
import { checksOf, judgeChecks, type Check, type CheckName, type CheckResult } from "../../src/verify/run-checks.ts";
import { HANG_MS } from "../support/patience.ts";
import { missingToolchain } from "../support/toolchains.ts";

const SUITE = fileURLToPath(new URL("../../eval/suites/basic/", import.meta.url));
const LANGUAGES = ["node", "python", "rust"] as const;
/** The loop's default AGENT_MAX_ITERATIONS: the expected failure scripts every round of it. */
const MAX_ITERATIONS = 3;
// A check that hangs is killed; a slow one on a busy machine is not.
const COMMAND_MS = HANG_MS;

const text = z.string().trim().min(1);
const taskFileSchema = z
  .object({
    title: text,
    task: text,
    check: text,
    tags: z
      .array(z.string().regex(/^[a-z0-9-]+$/))
      .min(2)
      .refine((tags) => (LANGUAGES as readonly string[]).includes(tags[0] ?? ""), "the first tag is the language: node, python or rust"),
    timeoutSeconds: z.number().int().positive().optional(),
  })
  .strict();

const usageSchema = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).strict();
const toolCallSchema = z.object({ name: text, arguments: z.record(z.string(), z.unknown()) }).strict();
/** The `Turn`s of test/fakes/model-server.ts that an eval script may use: tool calls and text. */
const turnSchema = z.union([
  z.object({ toolCalls: z.array(toolCallSchema).min(1), text: z.string().optional(), usage: usageSchema.optional() }).strict(),
  z.object({ text, usage: usageSchema.optional() }).strict(),
]);
const roundsSchema = z.array(z.array(turnSchema).min(1)).min(1);
const modelScriptSchema = z.object({ explore: roundsSchema.optional(), plan: roundsSchema.optional(), build: roundsSchema }).strict();

const repoPath = z
  .string()
  .min(1)
  .refine((file) => !path.isAbsolute(file) && !file.split(/[\\/]/).includes(".."), "a path relative to the repository root");
const writeSchema = z.object({ filePath: repoPath, content: z.string() }).strict();
const editSchema = z.object({ filePath: repoPath, oldString: z.string().min(1), newString: z.string(), replaceAll: z.boolean().optional() }).strict();
const readSchema = z.object({ filePath: repoPath, offset: z.number().optional(), limit: z.number().optional() }).strict();
/** Tools that change nothing; replaying them is a no-op (read also marks a file as seen). */
const LOOKING_TOOLS = new Set(["read", "glob", "grep", "list"]);

type TaskFile = z.infer<typeof taskFileSchema>;
type ModelScript = z.infer<typeof modelScriptSchema>;
type Turn = z.infer<typeof turnSchema>;

interface Task {
  id: string;
  file: TaskFile;
  script: ModelScript;
  hiddenDir: string | null;
  expectedFailure: boolean;
}

const taskIds = readdirSync(SUITE, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(SUITE, entry.name, "task.json")))
  .map((entry) => entry.name)
  .sort();

async function loadTask(id: string): Promise<Task> {
  const dir = path.join(SUITE, id);
  const file = taskFileSchema.parse(JSON.parse(await readFile(path.join(dir, "task.json"), "utf8")));
  const script = modelScriptSchema.parse(JSON.parse(await readFile(path.join(dir, "model-script.json"), "utf8")));
  const hiddenDir = existsSync(path.join(dir, "hidden")) ? path.join(dir, "hidden") : null;
  return { id, file, script, hiddenDir, expectedFailure: file.tags.includes("expected-failure") };
}

describe("the basic eval suite", () => {
  it("has the promised mix of tasks", async () => {
    const tasks = await Promise.all(taskIds.map(loadTask));
    expect(tasks.length).toBeGreaterThanOrEqual(8);
    for (const language of LANGUAGES) expect(tasks.filter((task) => task.file.tags[0] === language).length, language).toBeGreaterThanOrEqual(2);
    const tags = new Set(tasks.flatMap((task) => task.file.tags));
    for (const kind of ["bug-fix", "feature", "refactor", "build-fix", "multi-file"]) expect(tags, kind).toContain(kind);
    const failing = tasks.filter((task) => task.expectedFailure);
    expect(failing.map((task) => task.id)).toHaveLength(1);
    expect(failing[0]!.script.build).toHaveLength(MAX_ITERATIONS);
    expect(tasks.some((task) => !task.expectedFailure && task.script.build.length > 1)).toBe(true);
  });

  describe.each(taskIds)("%s", (id) => {
    it("has a well-formed task.json and model-script.json", async () => {
      expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      const task = await loadTask(id);
      expect(existsSync(path.join(SUITE, id, "repo"))).toBe(true);
      for (const round of task.script.explore ?? []) expect(isTextTurn(round.at(-1)!), "an explore round ends with its report").toBe(true);
      for (const round of task.script.plan ?? []) {
        const last = round.at(-1)!;
        expect(isTextTurn(last) ? parsePlan(last.text) : null, "a plan round ends with a plan the loop can read").not.toBeNull();
      }
      for (const round of task.script.build) expect(isTextTurn(round.at(-1)!), "a build round ends with a text turn").toBe(true);
    });

    it(
      "fails its check untouched and passes it after the scripted rounds (or fails throughout when expected to)",
      async (context) => {
        const task = await loadTask(id);
        const missing = missingToolchain(task.file.tags[0]!);
        if (missing) return context.skip(missing);
        await withTempDir(async (temp) => {
          const { run, commitAll, runChecks, untrackedFiles, grade } = await workspaceTools(temp);
          const work = path.join(temp, "work");
          await cp(path.join(SUITE, id, "repo"), work, { recursive: true });
          expectPassed(await run(["git", "init", "-q", "-b", "main"], work));
          await commitAll(work, "initial");

          // Prepare as a job does: detect (with agent.yml), install, run the checks once.
          const project = await detectProject(work, run);
          expect(project.test, "the job must find a test command").not.toBeNull();
          if (project.install) expectPassed(await run(project.install, work));
          const afterInstall = await untrackedFiles(work);
          const checks = checksOf(project);
          const baseline = await runChecks(checks, work);
          const failingAtBaseline = new Set<CheckName>(baseline.filter((result) => !result.passed).map((result) => result.name));
          expect(await untrackedFiles(work), "checks must leave no files the agent's commit would pick up (.gitignore)").toEqual(afterInstall);
          expect((await grade(task, work)).passed, "the check must fail on the untouched repository").toBe(false);

          const seen = new Set<string>();
          for (const [index, round] of task.script.build.entries()) {
            await replayRound(round, work, seen);
            const verdict = judgeChecks(await runChecks(checks, work), failingAtBaseline);
            const last = index === task.script.build.length - 1;
            const failed = verdict.results.map((result) => result.output).join("\n");
            // A round that passed would end the loop: later rounds would never be asked for.
            if (!last || task.expectedFailure) expect(verdict.passed, `round ${index + 1} must leave the agent's checks failing`).toBe(false);
            else expect(verdict.passed, `the agent's checks after the last round:\n${failed}`).toBe(true);
            if (!last) expect((await grade(task, work)).passed, `the check after round ${index + 1}`).toBe(false);
          }
          const final = await grade(task, work);
          expect(final.passed, final.output).toBe(!task.expectedFailure);
        });
      },
    );
  });
});

/** Commands as a job's local sandbox runs them, in a task's temp dir. */
async function workspaceTools(temp: string) {
  const env = await sandboxEnv(temp);
  const run = (command: readonly string[], cwd: string, timeoutMs?: number) => runCommand(command, cwd, env, timeoutMs);
  const git = async (cwd: string, ...args: string[]) => expectPassed(await run(["git", ...args], cwd));
  const commitAll = async (repo: string, message: string) => {
    await git(repo, "add", "-A");
    await git(repo, "-c", "user.name=Eval", "-c", "user.email=eval@example.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message);
  };
  const runChecks = async (checks: readonly Check[], cwd: string): Promise<CheckResult[]> => {
    const results: CheckResult[] = [];
    for (const check of checks) {
      const { passed, output } = await run(check.command, cwd);
      results.push({ ...check, passed, output, durationMs: 0 });
    }
    return results;
  };
  const untrackedFiles = async (repo: string) => (await run(["git", "status", "--porcelain", "--untracked-files=all"], repo)).stdout;
  /** What the runner does after the job: a clean checkout of the work as committed, hidden/ over it, then `check`. */
  const grade = async (task: Task, work: string) => {
    await commitAll(work, "agent work");
    const checkout = await mkdtemp(path.join(temp, "checkout-"));
    try {
      await git(temp, "clone", "-q", work, checkout);
      if (task.hiddenDir) await cp(task.hiddenDir, checkout, { recursive: true });
      return await run(["bash", "-c", task.file.check], checkout, (task.file.timeoutSeconds ?? COMMAND_MS / 1000) * 1000);
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  };
  return { run, commitAll, runChecks, untrackedFiles, grade };
}

function isTextTurn(turn: Turn): turn is { text: string } {
  return !("toolCalls" in turn);
}

/**
 * Replay a build round's tool calls as opencode would run them. An existing file is
 * changed only after the session read it (or wrote it), as a careful agent does; edit
 * needs exactly one match unless `replaceAll`.
 */
async function replayRound(round: readonly Turn[], root: string, seen: Set<string>): Promise<void> {
  for (const turn of round) {
    if (isTextTurn(turn)) continue;
    for (const call of turn.toolCalls) {
      if (LOOKING_TOOLS.has(call.name)) {
        if (call.name === "read") seen.add(path.normalize(readSchema.parse(call.arguments).filePath));
        continue;
      }
      if (call.name !== "write" && call.name !== "edit") throw new Error(`tool ${call.name}: eval scripts may only read, glob, grep, list, write and edit`);
      const relative = path.normalize(String(call.arguments.filePath));
      const file = path.join(root, relative);
      if (existsSync(file) && !seen.has(relative)) throw new Error(`${call.name} ${relative}: the script must read the file in an earlier turn`);
      if (call.name === "write") {
        const { content } = writeSchema.parse(call.arguments);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content);
      } else {
        const { oldString, newString, replaceAll } = editSchema.parse(call.arguments);
        const before = await readFile(file, "utf8");
        const matches = before.split(oldString).length - 1;
        if (matches === 0 || (matches > 1 && !replaceAll)) throw new Error(`edit ${relative}: oldString found ${matches} times, expected exactly once:\n${oldString}`);
        await writeFile(file, replaceAll ? before.replaceAll(oldString, () => newString) : before.replace(oldString, () => newString));
      }
      seen.add(relative);
    }
  }
}

/** Detection exactly as a job runs it, through the sandbox interface, so it lists and reads the same files. */
async function detectProject(workdir: string, run: (command: readonly string[], cwd: string) => Promise<CommandResult>): Promise<ProjectInfo> {
  const exec = async (command: readonly string[]): Promise<ExecResult> => {
    const result = await run(command, workdir);
    return { exitCode: result.passed ? 0 : 1, stdout: result.stdout, stderr: "", timedOut: false, durationMs: 0 };
  };
  // Only these three members are used by detectProjectIn.
  const sandbox: Pick<Sandbox, "workdir" | "exec" | "readFile"> = { workdir, exec, readFile: (file) => readFile(file, "utf8") };
  return detectProjectIn(sandbox as Sandbox);
}

function expectPassed(result: { passed: boolean; output: string }): void {
  expect(result.passed, result.output).toBe(true);
}

interface CommandResult {
  passed: boolean;
  stdout: string;
  output: string;
}

/**
 * A local sandbox's environment (an allow-list with a fresh HOME, so the host's
 * PYTHONDONTWRITEBYTECODE or git config do not hide what a job would see), plus where a
 * rustup-managed toolchain lives: with a fresh HOME the rustup proxy finds no toolchain,
 * so the eval runner has to pass RUSTUP_HOME and CARGO_HOME too.
 */
async function sandboxEnv(temp: string): Promise<Record<string, string>> {
  const home = path.join(temp, "home");
  const tmp = path.join(temp, "tmp");
  await Promise.all([mkdir(home), mkdir(tmp)]);
  const toolchain: Record<string, string> = {};
  for (const [name, fallback] of [["RUSTUP_HOME", ".rustup"], ["CARGO_HOME", ".cargo"]] as const) {
    const dir = process.env[name] ?? path.join(os.homedir(), fallback);
    if (existsSync(dir)) toolchain[name] = dir;
  }
  return buildLocalEnv({ home, tmp, hostPath: process.env.PATH, execPath: process.execPath, extra: toolchain });
}

/** Run a command to completion; never rejects. */
function runCommand(command: readonly string[], cwd: string, env: Record<string, string>, timeoutMs = COMMAND_MS): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command[0]!, command.slice(1), { cwd, env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ending = error ? `\n[failed: ${error.killed ? `killed after ${timeoutMs} ms` : error.message.split("\n")[0]}]` : "";
      resolve({ passed: error === null, stdout, output: `$ ${command.join(" ")} (in ${cwd})\n${stdout}${stderr}${ending}` });
    });
  });
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "eval-suite-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
