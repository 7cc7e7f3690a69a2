/**
 * How `running-agent run` ends when the job does not succeed, as a user sees it in a
 * terminal: a failure, a Ctrl-C, a cancel from the REST API of a web process sharing the
 * database, and a process killed outright (the job it leaves is ended at the next start).
 * Each run is `node bin/running-agent.js` in a process of its own, with the real opencode
 * binary and the scripted model, and a TMPDIR of its own (where its log file and its
 * scratch folder go).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findJob, listJobs } from "../../src/store/job-queries.ts";
import { startModelServer, type ModelServer, type Script } from "../fakes/model-server.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { GREETING_PROJECT } from "../support/git-remote.ts";
import { createLocalRepository, type LocalRepository } from "../support/local-repo.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/running-agent.js");
const TASK = "Add greet(name) in greet.js";
/** The model refuses the first request for good (a 4xx is not retried): the job fails in explore. */
const MODEL_REFUSES = agentScript({ explore: [[{ status: 400, body: { error: { message: "no such model: scripted/explore" } } }]], build: [] });

let database: TestDatabase;
let model: ModelServer;
let script: Script = [];
let repo: LocalRepository;
let tmp: string;
/** Commands still running: a test that fails mid-way must not leave one behind. */
const running = new Set<ChildProcess>();

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The command as a process; `onStderr` sees stderr as it grows (to act at the right moment). */
function runCli(args: string[], options: { onStderr?: (stderr: string, child: ChildProcess) => void } = {}): Promise<CliRun> {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.homedir(), TMPDIR: tmp, ...scriptedModelEnv(model), DATABASE_URL: database.url };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: repo.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    options.onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Acts once, when stderr first shows the job building (the scripted build hangs there). */
function whenBuilding(act: (child: ChildProcess) => void): (stderr: string, child: ChildProcess) => void {
  let done = false;
  return (stderr, child) => {
    if (done || !/^build /m.test(stderr)) return;
    done = true;
    act(child);
  };
}

function expectNoGitHubWords(run: CliRun): void {
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/(?<!\w)\/agent\b|comment|pull request/i);
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
  // The sandbox's and the job's folders go under it: other users (`postgres`, bubblewrap's) must reach them.
  await chmod(tmp, 0o755);
});

afterEach(async () => {
  for (const child of running) child.kill("SIGKILL");
  await repo.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe("running-agent run, when the job does not succeed", () => {
  it("keeps the log out of the terminal: it goes to a file the summary names, and the summary says what failed and what to do", async () => {
    script = MODEL_REFUSES;

    const run = await runCli(["run", TASK]);

    expect(run.code, run.stderr).toBe(1);
    // No JSON log lines or stacks on the terminal: progress lines only.
    expect(run.stderr).not.toMatch(/^\{"level"/m);
    expect(run.stderr).not.toContain("    at ");
    expect(run.stdout).toContain("Result:     failed: the model or its API failed");
    expect(run.stdout).toMatch(/^Reason:\n {2}.*no such model: scripted\/explore/m);
    expect(run.stdout).toContain("Next step: check the model ids and the provider's API key, then run again.");
    expectNoGitHubWords(run);
    const logFile = /^Log: {8}(\S+)$/m.exec(run.stdout)?.[1];
    expect(logFile, run.stdout).toBeDefined();
    expect(path.dirname(logFile!)).toBe(tmp);
    const log = await readFile(logFile!, "utf8");
    expect(log).toMatch(/"msg":"job failed"/);
    expect(log).toContain("no such model: scripted/explore");
  });

  it("says how to start again in its own words after Ctrl-C", async () => {
    script = agentScript({ build: [[{ hang: true }]] });

    const run = await runCli(["run", TASK], { onStderr: whenBuilding((child) => child.kill("SIGINT")) });

    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toContain("Result:     cancelled");
    expect(run.stdout).toContain("Next step: run the same command again to start over.");
    expectNoGitHubWords(run);
  });

  it("stops when a web process sharing the database cancels the job through the REST API", async () => {
    script = agentScript({ build: [[{ hang: true }]] });
    const api: ApiServer = await startApiServer(database);
    let cancel: Promise<Response> | undefined;

    const run = await runCli(["run", TASK], {
      onStderr: whenBuilding(() => {
        cancel = listJobs(database.db, { limit: 1 }).then(([job]) => api.call("POST", `/api/jobs/${job!.id}/cancel`));
      }),
    }).finally(() => api.close());

    expect((await cancel!).status).toBe(202);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain("Result:     cancelled");
    expect(run.stdout).toContain("cancelled by an API client");
    const [job] = await listJobs(database.db, { limit: 1 });
    expect(job).toMatchObject({ status: "cancelled", failureMessage: "cancelled by an API client" });
    expect(repo.git("branch", "--list", "agent/*")).toBe("");
  });

  it("leaves no job running for good when its process is killed: the next start ends it as cancelled, saying why", async () => {
    script = agentScript({ build: [[{ hang: true }]] });
    const killed = await runCli(["run", TASK], { onStderr: whenBuilding((child) => child.kill("SIGKILL")) });
    expect(killed.signal).toBe("SIGKILL");
    const [left] = await listJobs(database.db, { limit: 1 });
    expect(left).toMatchObject({ status: "running", trigger: "local" });
    script = MODEL_REFUSES;

    const next = await runCli(["run", TASK]);

    expect(next.code, next.stderr).toBe(1);
    expect(next.stderr).toContain(`job ${left!.id}`);
    expect(next.stderr).toMatch(/left running by a running-agent process that is gone: it is now cancelled/);
    const ended = await waitUntil(async () => {
      const job = await findJob(database.db, left!.id);
      return job && job.status !== "running" ? job : undefined;
    });
    expect(ended).toMatchObject({ status: "cancelled", failureKind: "cancelled", finishedAt: expect.any(Date) });
    expect(ended.failureMessage).toMatch(/the running-agent process running it stopped/);
  });
});
