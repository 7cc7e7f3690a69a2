/**
 * Stopping the app the ways an operator does: Ctrl-C in a terminal (SIGINT to the whole
 * foreground process group), SIGTERM from a deploy, and a crash (SIGKILL) followed by the
 * next start. A clean stop exits 0 with no error-level log line and leaves no Postgres
 * running; a stop while GitHub is down does not wait on GitHub.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LAST_CALLS_MS } from "../../src/github/calls-at-stop.ts";
import { startFakeGitHub, type FakeGitHub, type Outage } from "../fakes/fake-github.ts";
import { isProcessAlive, livingGroupMembers } from "../sandbox/processes.ts";
import { startAppProcess, type AppProcess, type AppProcessOptions } from "../support/app-process.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { startProcessEnvironment, type OwnedProcessEnvironment } from "../support/process-environment.ts";
import { agentScript, requestsOf } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  // Last started, first disposed: a later app may share an earlier one's DATA_DIR.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startApp(github: FakeGitHub, options: AppProcessOptions = {}): Promise<AppProcess> {
  const app = await startAppProcess({ ...options, env: { GHE_HOST: github.host, ...options.env } });
  cleanups.push(() => app.dispose());
  // The web server answers before the worker has started; a stop is what these tests are about, not a start cut short.
  if (options.waitForReady !== false) await app.waitForOutput(/"msg":"Running Agent started"/);
  return app;
}

async function startGitHub(): Promise<FakeGitHub> {
  const github = await startFakeGitHub();
  cleanups.push(() => github.close());
  return github;
}

describe("a clean stop with the embedded Postgres", () => {
  it("Ctrl-C (SIGINT to the whole process group) exits 0, logs no error and leaves no Postgres running", async () => {
    const github = await startGitHub();
    const app = await startApp(github, { processGroup: true });
    const postmaster = postmasterPidOf(app.dataDir);
    expect(isProcessAlive(postmaster)).toBe(true);

    // What a terminal does on Ctrl-C: the signal goes to every process of the foreground group.
    process.kill(-app.pid, "SIGINT");
    expect(await app.waitForExit(), app.output()).toEqual({ code: 0, signal: null });

    expect(errorLinesOf(app.output())).toEqual([]);
    expect(isProcessAlive(postmaster)).toBe(false);
    expect(livingGroupMembers(app.pid)).toEqual([]);
    expect(existsSync(path.join(app.dataDir, "postgres", "postmaster.pid"))).toBe(false);
  });

  it("SIGTERM exits 0, logs no error and leaves no Postgres running", async () => {
    const github = await startGitHub();
    const app = await startApp(github);
    const postmaster = postmasterPidOf(app.dataDir);

    expect(await app.stop("SIGTERM"), app.output()).toBe(0);

    expect(errorLinesOf(app.output())).toEqual([]);
    expect(isProcessAlive(postmaster)).toBe(false);
  });
});

describe("the embedded Postgres of an app that crashed", () => {
  it("is gone after a crash (SIGKILL), and the next start on the same DATA_DIR serves at once", async () => {
    const github = await startGitHub();
    const crashed = await startApp(github);
    const postmaster = postmasterPidOf(crashed.dataDir);
    // However the test ends, it must not leave a Postgres behind.
    cleanups.push(async () => killIfAlive(postmaster));

    process.kill(crashed.pid, "SIGKILL");
    await crashed.exited;
    // Restarted at once, as a supervisor does: the old Postgres may still be shutting down.
    const next = await startApp(github, { env: { DATA_DIR: crashed.dataDir } });

    expect(isProcessAlive(postmaster)).toBe(false);
    // next.dataDir is a directory of its own that DATA_DIR overrode.
    expect(postmasterPidOf(crashed.dataDir)).not.toBe(postmaster);
    expect(errorLinesOf(next.output())).toEqual([]);
    expect(await next.stop("SIGTERM")).toBe(0);
    expect(errorLinesOf(next.output())).toEqual([]);
  });

  it("is left alone while the app that started it runs: a second app on the same DATA_DIR refuses, naming it", async () => {
    const github = await startGitHub();
    const first = await startApp(github);
    const postmaster = postmasterPidOf(first.dataDir);

    const second = await startApp(github, { env: { DATA_DIR: first.dataDir }, waitForReady: false });
    const exit = await second.waitForExit();

    expect(exit.code).not.toBe(0);
    expect(second.output()).toContain(`process ${first.pid} is using the embedded Postgres in ${path.join(first.dataDir, "postgres")}`);
    expect(isProcessAlive(postmaster)).toBe(true);
    expect(await fetch(`${first.url}/ping`).then((response) => response.text())).toBe("PONG");
    expect(await first.stop("SIGTERM")).toBe(0);
  });
});

describe("SIGTERM while GitHub is down", () => {
  // Explore and plan answer; the build agent's model never does: the job is mid-build when the signal comes.
  const script = () => agentScript({ build: [[{ hang: true }]] });

  it("does not wait on GitHub: a failed call is not retried, an unanswered one is cut", async () => {
    const env = await startProcessEnvironment(script());
    cleanups.push(() => env.dispose());
    const repo = testRepo({ cloneUrl: env.remote.url });

    // The same job is taken three times, by three processes in turn; each stop hands it back.
    const clean = await stopMidBuild(env, null, async (app) => {
      const response = await postWebhook(app.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
      expect(response.status).toBe(200);
    });
    const failing = await stopMidBuild(env, { status: 502 });
    const hanging = await stopMidBuild(env, "hang");

    // Before, a 502 cost Octokit's retries (1 + 4 + 9 s per write) and an unanswered call
    // held the stop until pg-boss gave up on the handler (20 s). Now both cost about what a
    // stop with GitHub up costs (plus, unanswered, the last calls' deadline): a ratio to
    // that stop scales with the machine's load, a fixed limit would not.
    const timings = `stop with GitHub up: ${clean.stopMs} ms; answering 502: ${failing.stopMs} ms; not answering: ${hanging.stopMs} ms`;
    expect(failing.stopMs, timings).toBeLessThan(3 * clean.stopMs);
    expect(hanging.stopMs, timings).toBeLessThan(3 * clean.stopMs + LAST_CALLS_MS);
    // GitHub was still asked to show the hand-back (tried, not waited on). Not each time: a
    // write still waiting for Probot's pacing when the last calls are cut is never sent,
    // and the next worker shows the state instead.
    expect([clean, failing, hanging].flatMap((stop) => stop.afterSignal).filter(isCheckRunWrite), timings).not.toEqual([]);
    for (const stop of [clean, failing, hanging]) expect(stop.code).toBe(0);
    // Handed back each time, never failed: the next worker shows its state.
    const { rows } = await env.database.pool.query<{ status: string }>("select status from jobs");
    expect(rows).toEqual([{ status: "queued" }]);
  });
});

interface Stop {
  code: number | null;
  stopMs: number;
  /** GitHub requests that arrived after the signal. */
  afterSignal: Array<{ method: string; path: string }>;
}

/**
 * Start an all-in-one process, let it take the job (`begin` posts it the first time), wait until
 * the build agent asks the model, start `outage` and SIGTERM it. The job is handed back to
 * the queue; its retry delay is backdated so the next process takes it at once.
 */
async function stopMidBuild(env: OwnedProcessEnvironment, outage: Outage | null, begin?: (app: AppProcess) => Promise<void>): Promise<Stop> {
  env.github.setOutage(null);
  const asked = requestsOf(env.model, "build").length;
  const app = await env.start("all");
  await begin?.(app);
  await waitUntil(() => requestsOf(env.model, "build").length > asked, { what: "the build agent to ask the model" });
  env.github.setOutage(outage);
  const seen = env.github.requests.length;
  const signalled = Date.now();
  const code = await app.stop("SIGTERM");
  const stopMs = Date.now() - signalled;
  await env.database.pool.query("update pgboss.job set start_after = now() where state = 'retry'");
  return { code, stopMs, afterSignal: env.github.requests.slice(seen).map(({ method, path }) => ({ method, path })) };
}

function isCheckRunWrite(request: { method: string; path: string }): boolean {
  return request.method === "PATCH" && /\/check-runs\/\d+$/.test(request.path);
}

/** Log lines at error level or above (pino's 50), and anything printed that is not a log line. */
function errorLinesOf(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => {
      try {
        return (JSON.parse(line) as { level?: number }).level! >= 50;
      } catch {
        return true;
      }
    });
}

function postmasterPidOf(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
