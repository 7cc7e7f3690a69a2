/**
 * End to end: a signed `/agent` delivery to the whole app (web + worker in this process),
 * the real opencode binary in the local sandbox, the scripted model answering at once.
 * Per job, sequentially: webhook → 👀 reaction, webhook → first model request (the first
 * job on a cold worker apart from the next ones, whose repository mirror is warm),
 * webhook → pull request creation, the phase timings the job recorded, and the CPU-seconds
 * the job cost: this process's (web and worker) and the whole machine's (opencode, git,
 * Postgres…), so that the figures mean something on a busy machine. GitHub is nock, in this
 * process; Postgres is real. With an instant model, a job's wall time is all overhead.
 *
 *   npm run bench:e2e                  (BENCH_RUNS, default 5; DATABASE_URL, else an embedded Postgres;
 *                                      AGENT_WARM_AGENTS=0 for jobs without warm agents, as before them)
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { RunningApp } from "../src/app.ts";
import { PHASES } from "../src/jobs/phases.ts";
import { startModelServer } from "../test/fakes/model-server.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, type GitRemote } from "../test/support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../test/support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../test/support/probot.ts";
import { agentScript, scriptedModelEnv } from "../test/support/scripted-model.ts";
import { waitUntil } from "../test/support/wait-until.ts";
import { createScratchDatabase } from "../test/support/scratch-database.ts";
import type { GitHubTimeline } from "./fake-github.ts";
import { fakeGitHubInProcess, finishedJob, machineBusySeconds, startBenchApp } from "./job-bench.ts";
import { benchDatabaseServer, percentile, summarize } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** A job that takes longer than this with an instant model is stuck, not slow. */
const JOB_TIMEOUT_MS = 180_000;

/** One job as measured: milliseconds from the webhook, the job's own phase timings, and CPU-seconds. */
interface RunResult {
  toReaction: number;
  toFirstModelRequest: number;
  toPullRequest: number;
  timings: Record<string, number>;
  cpu: { ours: number; machine: number };
}

/** When the scripted model last received a request, in `performance.now()` time. */
const modelRequests: number[] = [];

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    // 1. Postgres, the scripted model, GitHub (nock), and the app on top of them.
    const server = await benchDatabaseServer();
    cleanups.push(() => server.stop());
    const database = await createScratchDatabase(server.url, "ra_bench");
    cleanups.push(() => database.drop());
    const script = agentScript({
      build: [
        [
          { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }], usage: { prompt_tokens: 1_000, completion_tokens: 50 } },
          { text: "Added greet() in greet.js, which greets a person by name.", usage: { prompt_tokens: 1_200, completion_tokens: 20 } },
        ],
      ],
    });
    const model = await startModelServer((request) => {
      modelRequests.push(performance.now());
      return script(request);
    });
    cleanups.push(() => model.close());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "ra-bench-data-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await chmod(dataDir, 0o755);
    const { github, restore } = fakeGitHubInProcess();
    cleanups.push(restore);
    const app = await startBenchApp({ databaseUrl: database.url, dataDir, modelEnv: scriptedModelEnv(model) });
    cleanups.push(() => app.stop());

    // 2. The jobs, one at a time, on one repository as in production (each on its own issue,
    // so branches never collide): from the second job on, the worker's mirror of it is warm.
    const remote = await createGitRemote(GREETING_PROJECT);
    cleanups.push(() => remote.cleanup());
    const results: RunResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const result = await runOneJob(app, github, remote, 100 + run);
      results.push(result);
      console.error(
        `run ${run}/${RUNS}: 👀 ${result.toReaction.toFixed(0)} ms, first model request ${result.toFirstModelRequest.toFixed(0)} ms, pull request ${result.toPullRequest.toFixed(0)} ms, job total ${result.timings.total} ms, CPU ${result.cpu.ours.toFixed(1)} s ours / ${result.cpu.machine.toFixed(1)} s machine`,
      );
    }

    // 3. The report.
    console.log(`end to end, ${RUNS} jobs: one job at a time, scripted model (instant answers), real opencode in the local sandbox, GitHub faked in-process, ${os.availableParallelism()}-core machine`);
    console.log(summarize("webhook → 👀 reaction", results.map((result) => result.toReaction)));
    console.log(summarize("webhook → first model request, cold worker (job 1)", results.slice(0, 1).map((result) => result.toFirstModelRequest)));
    if (results.length > 1) console.log(summarize("webhook → first model request, warm (jobs 2+)", results.slice(1).map((result) => result.toFirstModelRequest)));
    console.log(summarize("webhook → pull request created", results.map((result) => result.toPullRequest)));
    const phaseP50 = [...PHASES, "total"].map((phase) => {
      const samples = results.map((result) => result.timings[phase] ?? Number.NaN).sort((a, b) => a - b);
      return `${phase}=${percentile(samples, 50).toFixed(0)} ms`;
    });
    console.log(`job phases (jobs.timings, p50): ${phaseP50.join(" ")}`);
    const cpuP50 = (pick: (result: RunResult) => number) => percentile(results.map(pick).sort((a, b) => a - b), 50).toFixed(2);
    console.log(`CPU-seconds per job (p50): ours (web + worker) ${cpuP50((result) => result.cpu.ours)}, the whole machine ${cpuP50((result) => result.cpu.machine)}`);
  } finally {
    // Reverse order: the app before its database, the database before its server.
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
    }
  }
}

/** Deliver `/agent` on issue `issueNumber` of the bench repository, wait until the job has finished reporting, and time it. */
async function runOneJob(app: RunningApp, github: GitHubTimeline, remote: GitRemote, issueNumber: number): Promise<RunResult> {
  const repo = testRepo({ cloneUrl: remote.url });
  github.baseSha = remote.headSha;
  const commentId = 900_000 + issueNumber;
  const payload = issueCommentPayload({ body: "/agent add a greet(name) function in greet.js", repo, issueNumber, commentId });

  const cpuBefore = { ours: process.cpuUsage(), machine: machineBusySeconds() };
  const requestsBefore = modelRequests.length;
  const postedAt = performance.now();
  const response = await postWebhook(app.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload });
  if (response.status !== 200) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
  const job = await waitUntil(() => finishedJob(app, github, commentId, issueNumber), { timeoutMs: JOB_TIMEOUT_MS, what: `job for issue #${issueNumber} to finish reporting` });

  if (github.unmatched.length > 0) throw new Error(`GitHub calls no interceptor matched: ${github.unmatched.join(", ")}`);
  if (job.status !== "completed") throw new Error(`the job for issue #${issueNumber} ended ${job.status}: ${job.failure_kind}: ${job.failure_message}`);
  const reactedAt = github.reactedAt.get(commentId);
  const pullRequestAt = github.pullRequestAt.get(issueNumber);
  if (reactedAt === undefined || pullRequestAt === undefined) throw new Error(`issue #${issueNumber}: the job succeeded without a 👀 reaction or a pull request`);
  const ours = process.cpuUsage(cpuBefore.ours);
  const cpu = { ours: (ours.user + ours.system) / 1e6, machine: machineBusySeconds() - cpuBefore.machine };
  const firstRequestAt = modelRequests[requestsBefore];
  if (firstRequestAt === undefined) throw new Error(`issue #${issueNumber}: the job succeeded without asking the model`);
  return { toReaction: reactedAt - postedAt, toFirstModelRequest: firstRequestAt - postedAt, toPullRequest: pullRequestAt - postedAt, timings: job.timings, cpu };
}

await main();
