/**
 * Webhook → the agent's first model request, and where the time goes. The whole app in
 * this process (web + worker), the real opencode in the local sandbox, the scripted model
 * answering at once, GitHub faked in-process: one job at a time on one repository, the
 * first on a cold worker (no mirror, nothing warm), the next ones warm. Every sandbox call
 * the job makes is timed (the sandbox provider is wrapped), so each run is a waterfall:
 * job started, sandbox made, checkout, opencode started and listening, explore entered,
 * the model's first request (any: a title request counts) and the agent's first (with its
 * tools). The median warm run's waterfall is printed whole. Jobs come BENCH_SPACING_MS apart
 * (default 8 s, as a real model's minutes would space them): time for a warm agent taken to
 * be replaced.
 *
 * Two passes, each on a fresh worker: without warm agents (each job starts its own opencode),
 * then with them (src/jobs/warm-agents.ts).
 *
 * BENCH_FILES adds that many small source files (100 directories) to the repository, for the
 * cost of a larger checkout.
 *
 *   npm run bench:first-request        (BENCH_RUNS per pass, default 8; BENCH_WARM_AGENTS, default "0,1";
 *                                       BENCH_FILES, default 0; DATABASE_URL, else an embedded Postgres)
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { RunningApp } from "../src/app.ts";
import { createLocalSandboxProvider } from "../src/sandbox/local-sandbox.ts";
import type { Sandbox, SandboxProcess, SandboxProvider } from "../src/sandbox/sandbox.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { startModelServer, type ModelServer } from "../test/fakes/model-server.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, type GitRemote } from "../test/support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../test/support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../test/support/probot.ts";
import { agentScript, scriptedModelEnv } from "../test/support/scripted-model.ts";
import { waitUntil } from "../test/support/wait-until.ts";
import { createScratchDatabase } from "../test/support/scratch-database.ts";
import type { GitHubTimeline } from "./fake-github.ts";
import { fakeGitHubInProcess, finishedJob, machineBusySeconds, startBenchApp } from "./job-bench.ts";
import { benchDatabaseServer, loadAverage, percentile } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 8);
/** Between jobs (BENCH_SPACING_MS): a warm agent taken is replaced 5 s after, and warm about 2 s later. */
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 8_000);
const EXTRA_FILES = Number(process.env.BENCH_FILES ?? 0);
/** The passes, by AGENT_WARM_AGENTS: without warm agents (before), then with (after). */
const WARM_AGENTS = (process.env.BENCH_WARM_AGENTS ?? "0,1").split(",").map(Number);
const JOB_TIMEOUT_MS = 180_000;

/** Milliseconds since the epoch, finer than Date.now(). */
const clock = () => performance.timeOrigin + performance.now();

/** A sandbox call: which sandbox, what, from when to when (clock()). */
interface Span {
  sandbox: string;
  label: string;
  start: number;
  end: number;
}

/** One job's milestones, in milliseconds after its webhook was sent. */
const MILESTONES = ["job started", "sandbox made", "checkout done", "opencode spawned", "opencode listening", "explore entered", "first model request", "first agent request", "pull request"] as const;
type Milestone = (typeof MILESTONES)[number];

interface RunResult {
  milestones: Partial<Record<Milestone, number>>;
  spans: Span[];
  postedAt: number;
  cpu: { ours: number; machine: number };
}

const spans: Span[] = [];
/** Every model request: when, and whether it carried the agent's tools (a title request does not). */
const modelRequests: Array<{ at: number; agent: boolean }> = [];

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 2) throw new Error(`BENCH_RUNS must be an integer of at least 2 (one cold run, then warm ones), got ${process.env.BENCH_RUNS}`);
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const server = await benchDatabaseServer();
    cleanups.push(() => server.stop());
    const script = agentScript({ build: [[{ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] }, { text: "Added greet() in greet.js." }]] });
    const model = await startModelServer((request) => {
      modelRequests.push({ at: clock(), agent: request.tools.length > 0 });
      return script(request);
    });
    cleanups.push(() => model.close());
    const { github, restore } = fakeGitHubInProcess();
    cleanups.push(restore);
    for (const warmAgents of WARM_AGENTS) {
      // A fresh worker each time: its first job is cold (no mirror; for the second, its warm agent made as the worker started).
      const what = warmAgents === 0 ? "AGENT_WARM_AGENTS=0: each job starts its own opencode (before)" : `AGENT_WARM_AGENTS=${warmAgents}: warm agents (after)`;
      await measure(what, { serverUrl: server.url, model, github, warmAgents });
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
    }
  }
}

async function measure(what: string, input: { serverUrl: string; model: ModelServer; github: GitHubTimeline; warmAgents: number }): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const database = await createScratchDatabase(input.serverUrl, "ra_bench");
    cleanups.push(() => database.drop());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "ra-bench-data-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await chmod(dataDir, 0o755);
    // The provider the worker would make (worker-role.ts), every call timed.
    const sandboxes = timed(createLocalSandboxProvider({ rootDir: path.join(dataDir, "sandboxes"), dataDir, secretFiles: [] }));
    const app = await startBenchApp({ databaseUrl: database.url, dataDir, modelEnv: { ...scriptedModelEnv(input.model), AGENT_WARM_AGENTS: String(input.warmAgents) }, sandboxes });
    cleanups.push(() => app.stop());
    const remote = await createGitRemote({ ...GREETING_PROJECT, ...sourceFiles(EXTRA_FILES) });
    cleanups.push(() => remote.cleanup());
    // As a worker would be when the first webhook comes: its warm agent (if any) is up.
    await sleep(input.warmAgents > 0 ? SPACING_MS : 0);

    const results: RunResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // Jobs come some seconds apart, as they would with a real model's minutes in each: the
      // next warm agent is warmed by then. The same spacing in both passes.
      if (run > 1) await sleep(SPACING_MS);
      const result = await runOneJob(app, input.github, remote, nextIssue++);
      results.push(result);
      const line = MILESTONES.map((milestone) => `${milestone} ${format(result.milestones[milestone])}`).join(", ");
      console.error(`run ${run}/${RUNS} (${run === 1 ? "cold" : "warm"}): ${line}; CPU ${result.cpu.ours.toFixed(2)} s ours / ${result.cpu.machine.toFixed(2)} s machine`);
    }

    const cold = results[0]!;
    const warm = results.slice(1);
    console.log(`\n${what}\nwebhook → first model request, ${RUNS} jobs one at a time (1 cold, ${warm.length} warm), scripted model, real opencode in the local sandbox, ${Object.keys(GREETING_PROJECT).length + EXTRA_FILES} files, ${os.availableParallelism()} cores, load ${loadAverage()}`);
    console.log("| milestone (ms after the webhook) | cold | warm p50 | warm p90 |");
    console.log("|---|---|---|---|");
    for (const milestone of MILESTONES) {
      const samples = warm.map((result) => result.milestones[milestone] ?? Number.NaN).sort((a, b) => a - b);
      console.log(`| ${milestone} | ${format(cold.milestones[milestone])} | ${format(percentile(samples, 50))} | ${format(percentile(samples, 90))} |`);
    }
    const cpu = (pick: (result: RunResult) => number) => percentile(warm.map(pick).sort((a, b) => a - b), 50).toFixed(2);
    console.log(`CPU-seconds per warm job (p50): ours (web + worker) ${cpu((result) => result.cpu.ours)}, the whole machine (opencode, git, Postgres too) ${cpu((result) => result.cpu.machine)}`);
    const median = [...warm].sort((a, b) => (a.milestones["first agent request"] ?? 0) - (b.milestones["first agent request"] ?? 0))[Math.floor((warm.length - 1) / 2)]!;
    console.log(`the median warm run: its sandbox's every call until its pull request (ms after the webhook):`);
    const until = median.milestones["pull request"] ?? Number.POSITIVE_INFINITY;
    for (const span of median.spans.filter((span) => span.start - median.postedAt <= until)) {
      console.log(`  ${format(span.start - median.postedAt).padStart(6)} → ${format(span.end - median.postedAt).padStart(6)}  ${span.label.replaceAll(/\/tmp\/ra-bench-data-[^ ]*\/sandboxes\/[^/ ]+/g, "…")}`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
    }
  }
}

let nextIssue = 201;
/** The script that makes the job's checkout: a fresh clone, or a warm agent's checkout adopted. */
const CHECKOUT = /^sh (clone|adopt)/;

async function runOneJob(app: RunningApp, github: GitHubTimeline, remote: GitRemote, issueNumber: number): Promise<RunResult> {
  const repo = testRepo({ cloneUrl: remote.url });
  github.baseSha = remote.headSha;
  const commentId = 900_000 + issueNumber;
  const payload = issueCommentPayload({ body: "/agent add a greet(name) function in greet.js", repo, issueNumber, commentId });
  const spansBefore = spans.length;
  const requestsBefore = modelRequests.length;
  const cpuBefore = { ours: process.cpuUsage(), machine: machineBusySeconds() };
  const postedAt = clock();
  const response = await postWebhook(app.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload });
  if (response.status !== 200) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
  const job = await waitUntil(() => finishedJob(app, github, commentId, issueNumber), { timeoutMs: JOB_TIMEOUT_MS, what: `job for issue #${issueNumber} to finish reporting` });
  if (github.unmatched.length > 0) throw new Error(`GitHub calls no interceptor matched: ${github.unmatched.join(", ")}`);
  if (job.status !== "completed") throw new Error(`the job for issue #${issueNumber} ended ${job.status}: ${job.failure_kind}: ${job.failure_message}`);
  const ours = process.cpuUsage(cpuBefore.ours);
  const cpu = { ours: (ours.user + ours.system) / 1e6, machine: machineBusySeconds() - cpuBefore.machine };

  // The job's sandbox is the one it cloned into, or whose checkout it adopted: a warm agent's was made, and its opencode
  // started (and for a checkout of the repository, the checkout made and opencode booted there), before the webhook.
  const jobSandbox = spans.slice(spansBefore).find((span) => CHECKOUT.test(span.label))?.sandbox;
  const mine = spans.filter((span) => span.sandbox === jobSandbox);
  const requests = modelRequests.slice(requestsBefore);
  const { rows: events } = await app.database.pool.query<{ at: Date }>("select at from job_events where job_id = $1 and kind = 'phase' and data->>'phase' = 'explore' order by id limit 1", [job.id]);
  const after = (at: number | undefined) => (at === undefined ? undefined : at - postedAt);
  const firstSpan = (pattern: RegExp, end: "start" | "end") => mine.find((span) => pattern.test(span.label))?.[end];
  const pullRequestAt = github.pullRequestAt.get(issueNumber);
  return {
    postedAt,
    spans: mine,
    cpu,
    milestones: {
      "job started": after(job.started_at?.getTime()),
      "sandbox made": after(firstSpan(/sandbox create/, "end")),
      // One script makes the checkout, on the job's branch, or brings a warm agent's to it (git-workspace.ts).
      "checkout done": after(mine.findLast((span) => CHECKOUT.test(span.label))?.end),
      "opencode spawned": after(firstSpan(/^spawn opencode/, "start")),
      "opencode listening": after(firstSpan(/^opencode listening/, "end")),
      "explore entered": after(events[0]?.at.getTime()),
      "first model request": after(requests[0]?.at),
      "first agent request": after(requests.find((request) => request.agent)?.at),
      // The timeline is in performance.now(); the rest in clock().
      "pull request": pullRequestAt === undefined ? undefined : pullRequestAt + performance.timeOrigin - postedAt,
    },
  };
}

/** The provider, its sandboxes' every call recorded in `spans`. */
function timed(provider: SandboxProvider): SandboxProvider {
  const made = (label: string) => async (make: () => Promise<Sandbox>) => {
    const start = clock();
    const sandbox = await make();
    spans.push({ sandbox: sandbox.id, label, start, end: clock() });
    return timedSandbox(sandbox);
  };
  return {
    name: provider.name,
    create: (options) => made("sandbox create")(() => provider.create(options)),
    ...(provider.createSpare ? { createSpare: (options) => made("spare sandbox create")(() => provider.createSpare!(options)) } : {}),
    ...(provider.resume ? { resume: async (id, options) => provider.resume!(id, options).then((sandbox) => sandbox && timedSandbox(sandbox)) } : {}),
  };
}

function timedSandbox(sandbox: Sandbox): Sandbox {
  return new Proxy(sandbox, {
    get(target, key) {
      if (key === "exec") {
        return async (command: readonly string[], options?: Parameters<Sandbox["exec"]>[1]) => {
          const start = clock();
          try {
            return await target.exec(command, options);
          } finally {
            spans.push({ sandbox: target.id, label: labelOf(command), start, end: clock() });
          }
        };
      }
      if (key === "spawn") {
        return (command: readonly string[], options?: Parameters<Sandbox["spawn"]>[1]) => {
          const start = clock();
          const process = target.spawn(command, options);
          spans.push({ sandbox: target.id, label: `spawn ${labelOf(command)}`, start, end: clock() });
          return timedProcess(process, target.id, labelOf(command).split(" ")[0]!, start);
        };
      }
      for (const name of ["writeFile", "readFile", "readBytes"] as const) {
        if (key === name) {
          return async (...args: unknown[]) => {
            const start = clock();
            try {
              return await (target[name] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } finally {
              spans.push({ sandbox: target.id, label: `${name} ${String(args[0])}`, start, end: clock() });
            }
          };
        }
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function timedProcess(process: SandboxProcess, sandbox: string, name: string, spawnedAt: number): SandboxProcess {
  return {
    output: () => process.output(),
    exited: process.exited,
    kill: () => process.kill(),
    async waitForOutput(pattern, timeoutMs) {
      const match = await process.waitForOutput(pattern, timeoutMs);
      spans.push({ sandbox, label: `${name} listening`, start: spawnedAt, end: clock() });
      return match;
    },
  };
}

/** `git checkout`, `opencode serve`, `sh npm test`: the program and its first two words (git's `-c name=value` left out). */
function labelOf(command: readonly string[]): string {
  const [program = "", ...rest] = command;
  const words = rest.filter((word, index) => !word.startsWith("-") && !/^-[cC]$/.test(rest[index - 1] ?? "")).slice(0, 2);
  return [path.basename(program), ...words].join(" ").slice(0, 80);
}

/** `count` small modules, none of them a test, spread over 100 directories. */
function sourceFiles(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`src/part-${i % 100}/module-${i}.js`] = `exports.value${i} = function value${i}(input) {\n  return input + ${i};\n};\n`;
  return files;
}

function format(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? "—" : value.toFixed(0);
}

await main();
