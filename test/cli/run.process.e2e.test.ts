/**
 * `running-agent run` as a user runs it: `node bin/running-agent.js` in a process of its
 * own, against a repository on disk, with the real opencode binary and the scripted model.
 * Full runs are few (each takes seconds); bad input is checked without a job.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobToJson } from "../../src/api/job-json.ts";
import { findJob, listJobEvents } from "../../src/store/job-queries.ts";
import { startModelServer, type ModelServer, type Script, type Turn } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { createLocalRepository, writeFiles, type LocalRepository } from "../support/local-repo.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/running-agent.js");
const TASK = "Add greet(name) in greet.js";
const BRANCH = "agent/add-greet-name-in-greet-js";
const write = (content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content } }] });

let database: TestDatabase;
let model: ModelServer;
let script: Script = [];
let repo: LocalRepository;
/** The command's TMPDIR: its scratch folder and its log file go there. */
let tmp: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command as a process; `onStderr` sees stderr as it grows (to interrupt at the right moment). */
function runCli(args: string[], options: { env?: Record<string, string>; onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<CliRun> {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.homedir(), TMPDIR: tmp, ...scriptedModelEnv(model), DATABASE_URL: database.url, ...options.env };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repo.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    options.onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  model = await startModelServer((request) => (typeof script === "function" ? script(request) : { text: "no script" }));
});

afterAll(async () => {
  await model?.close();
  await database?.drop();
});

beforeEach(async () => {
  repo = await createLocalRepository(GREETING_PROJECT);
  tmp = await mkdtemp(path.join(os.tmpdir(), "ra-cli-tmp-"));
  await chmod(tmp, 0o755);
});

afterEach(async () => {
  await repo.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe("running-agent run", () => {
  it("leaves the work on agent/<slug>, the working tree, index and HEAD as they were, and prints the summary", async () => {
    await writeFiles(repo.dir, { "README.md": "# hello, edited\n", "staged.txt": "staged\n", "notes.txt": "mine\n" });
    repo.git("add", "staged.txt");
    const statusBefore = repo.git("status", "--porcelain");
    const headBefore = repo.git("rev-parse", "HEAD");
    script = agentScript({ build: [[write(GREET_SOURCE), { text: "Added greet()." }]] });

    const run = await runCli(["run", "--repo", repo.dir, TASK]);

    expect(run.code, run.stderr).toBe(0);
    expect(repo.git("show", `${BRANCH}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(repo.git("rev-parse", `${BRANCH}~1`)).toBe(headBefore);
    expect(repo.git("status", "--porcelain")).toBe(statusBefore);
    expect(repo.git("rev-parse", "HEAD")).toBe(headBefore);
    expect(repo.git("symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(run.stdout).toContain("Result:     done");
    expect(run.stdout).toContain(`Branch:     ${BRANCH}`);
    expect(run.stdout).toContain("  greet.js");
    expect(run.stdout).toContain("Checks:     passed");
    // A run that did what was asked leaves no log behind, and names none.
    expect(run.stdout).not.toMatch(/^Log:/m);
    expect((await readdir(tmp)).filter((name) => name.endsWith(".log"))).toEqual([]);
    // Progress went to stderr, a line per change (not a TTY), with the notable events as they happened.
    expect(run.stderr).toMatch(/^build · round 1 · /m);
    expect(run.stderr).toMatch(/^\[[^\]]+\] push: /m);
    expect(run.stderr.search(/^\[[^\]]+\] round: round 1: checks passed/m)).toBeLessThan(run.stderr.search(/^deliver · /m));
  });

  it("exits 1 when the checks never pass, and --json prints exactly the job as the REST API shows it", async () => {
    script = agentScript({ build: [[write('exports.greet = (name) => `Hi, ${name}`;\n'), { text: "Added greet()." }]] });

    const run = await runCli(["run", "--json", "--max-iterations", "1", TASK]);

    expect(run.code, run.stderr).toBe(1);
    const printed = JSON.parse(run.stdout) as { id: string };
    const job = (await findJob(database.db, printed.id))!;
    expect(printed).toEqual(JSON.parse(JSON.stringify(jobToJson(job, await listJobEvents(database.db, job.id)))));
    expect(printed).toMatchObject({ status: "completed", tests_passed: false, iterations: 1, branch: BRANCH, logs: expect.arrayContaining([expect.objectContaining({ kind: "push" })]) });
    // The summary is on stderr with --json, so that stdout is only the JSON.
    expect(run.stderr).toContain("Result:     finished, but the checks still fail");
    expect(repo.git("branch", "--list", BRANCH)).toContain(BRANCH);
  });

  it.each(["SIGINT", "SIGTERM"] as const)("cancels the job on %s (Ctrl-C, kill): exit 130, nothing pushed (task from --task-file)", async (signal) => {
    script = agentScript({ build: [[{ hang: true }]] });
    const dir = await mkdtemp(path.join(os.tmpdir(), "ra-task-"));
    const taskFile = path.join(dir, "task.md");
    await writeFile(taskFile, `${TASK}\n\nKeep it small.\n`);
    let interrupted = false;

    const run = await runCli(["run", "--task-file", taskFile], {
      onStderr: (stderr, child) => {
        if (interrupted || !/^build /m.test(stderr)) return;
        interrupted = true;
        child.kill(signal);
      },
    }).finally(() => rm(dir, { recursive: true, force: true }));

    expect(interrupted).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toContain("Result:     cancelled");
    expect(repo.git("branch", "--list", "agent/*")).toBe("");
  });

  describe("refuses bad input with one line on stderr and exit code 2, before any job", () => {
    const cases: Array<[string, () => Promise<{ args: string[]; env?: Record<string, string> }>, RegExp]> = [
      ["an unknown option", async () => ({ args: ["run", "--frobnicate", TASK] }), /unknown option --frobnicate/],
      ["no task", async () => ({ args: ["run", "--repo", repo.dir] }), /no task given/],
      // Without DATABASE_URL, too: the path and the ref are checked before a Postgres is started (which would say so on stderr).
      ["a folder outside any repository", async () => ({ args: ["run", "--repo", path.dirname(repo.dir), TASK], env: { DATABASE_URL: "" } }), /is not inside a git repository/],
      ["an unknown --base", async () => ({ args: ["run", "--base", "no-such-ref", TASK], env: { DATABASE_URL: "" } }), /no-such-ref is not a branch, tag or commit/],
      [
        "an empty --task-file",
        async () => {
          await writeFile(path.join(repo.dir, "empty.md"), "  \n");
          return { args: ["run", "--task-file", "empty.md"] };
        },
        /the task file .*empty\.md is empty/,
      ],
      ["a bad AGENT_* variable", async () => ({ args: ["run", TASK], env: { AGENT_MAX_ITERATIONS: "lots" } }), /^running-agent: Invalid configuration: AGENT_MAX_ITERATIONS: /],
      [
        "a machine without bubblewrap",
        async () => {
          // git and nothing else of the host's on PATH: no bwrap, so the sandbox could not be confined.
          const bin = path.join(tmp, "bin-without-bwrap");
          await mkdir(bin, { recursive: true });
          await symlink(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), path.join(bin, "git")).catch(() => undefined);
          return { args: ["run", TASK], env: { PATH: bin, DATABASE_URL: "" } };
        },
        /^running-agent: The local sandbox cannot confine the agent: bubblewrap \(`bwrap`\) is not installed.*ALLOW_UNCONFINED_SANDBOX=true/,
      ],
    ];

    it.each(cases)("%s", async (_name, setUp, message) => {
      const { args, env } = await setUp();

      const run = await runCli(args, env ? { env } : {});

      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trimEnd().split("\n"), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(message);
      expect(repo.git("branch", "--list", "agent/*")).toBe("");
    });
  });
});
