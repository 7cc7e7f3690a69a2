/**
 * How much load one web process and N workers hold, measured with real processes
 * (`node src/main.ts`, ROLE=web and ROLE=worker) on one Postgres, the fake GitHub over
 * HTTP, the scripted model (answering after BENCH_MODEL_LATENCY_MS, standing in for a real
 * model), the real opencode binary and local sandboxes. Figures are percentiles and ratios
 * from one run on this machine, never a pass or fail on time.
 *
 * 1. Webhooks: BENCH_WEBHOOK_RATE signed deliveries a second for BENCH_WEBHOOK_SECONDS, a
 *    mix of what GitHub sends (`/agent` comments, other comments, the `agent` label, other
 *    labels, reviews, redeliveries of the same id), open-loop, against a bare Probot app that
 *    only verifies signatures, then against the app's web process. Then: every delivery
 *    answered 2xx that asks for work made exactly one job.
 * 2. Jobs: BENCH_JOBS queued jobs over BENCH_REPOS repositories (and BENCH_INSTALLATIONS
 *    installations), drained by one worker and then by two (WORKER_CONCURRENCY=2 each):
 *    jobs a minute, the two-to-one ratio, queue wait, the per-installation cap holding, each
 *    job's orchestration (its wall time minus the model's), memory and Postgres connections.
 * 3. Per job, one at a time, with a model answering at once: webhook → first model request
 *    and webhook → pull request (all of it orchestration), by phase, for a tiny repository
 *    and one of BENCH_BIG_REPOSITORY_FILES files.
 *
 *   npm run bench:load      (DATABASE_URL, else an embedded Postgres; BENCH_* to resize, BENCH_PARTS=1,3 to choose)
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { findFreePort } from "../src/free-port.ts";
import { startFakeGitHub, type FakeGitHub } from "../test/fakes/fake-github.ts";
import { startModelServer, type ModelRequest, type ModelServer, type Turn } from "../test/fakes/model-server.ts";
import { startAppProcess, type AppProcess, type Role } from "../test/support/app-process.ts";
import { branchHeadIn, createGitRemote, type GitRemote } from "../test/support/git-remote.ts";
import { issueCommentPayload, issueLabeledPayload, reviewSubmittedPayload, signPayload, testPrivateKey, testRepo, type RepoFixture } from "../test/support/github-fixtures.ts";
import { APP_ID, WEBHOOK_SECRET } from "../test/support/probot.ts";
import { EXPLORATION_REPORT, GREET_PLAN, scriptedModelEnv } from "../test/support/scripted-model.ts";
import { createScratchDatabase } from "../test/support/scratch-database.ts";
import { benchDatabaseServer, loadAverage, percentile } from "./support.ts";

const RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 30);
const JOBS = Number(process.env.BENCH_JOBS ?? 24);
const REPOS = Number(process.env.BENCH_REPOS ?? 12);
const INSTALLATIONS = Number(process.env.BENCH_INSTALLATIONS ?? 6);
const CAP = Number(process.env.BENCH_INSTALLATION_CAP ?? 1);
const MODEL_LATENCY_MS = Number(process.env.BENCH_MODEL_LATENCY_MS ?? 2_000);
/** Jobs run one after the other on each repository size of part 3. */
const PER_JOB_RUNS = Number(process.env.BENCH_PER_JOB_RUNS ?? 4);
const BIG_REPOSITORY_FILES = Number(process.env.BENCH_BIG_REPOSITORY_FILES ?? 5_000);
/** Which parts run: `BENCH_PARTS=3` for the per-job figures alone. */
const PARTS = new Set((process.env.BENCH_PARTS ?? "1,2,3").split(",").map((part) => part.trim()));
/** Nothing to install and no checks: a job is clone, agent, push and pull request. */
const PROJECT = { "README.md": "# hello\n" };

interface Cluster {
  remote: GitRemote;
  github: FakeGitHub;
  model: ModelServer;
  database: { url: string; drop(): Promise<void> };
  pool: pg.Pool;
  apps: AppProcess[];
  start(role: Role, env?: Record<string, string>): Promise<AppProcess>;
  dispose(): Promise<void>;
}

async function startCluster(serverUrl: string, script: (request: ModelRequest) => Turn | Promise<Turn>, files: Record<string, string> = PROJECT): Promise<Cluster> {
  const remote = await createGitRemote(files);
  const github = await startFakeGitHub({ appId: APP_ID, branchesFrom: (name) => branchHeadIn(remote, name) });
  const model = await startModelServer(script);
  const database = await createScratchDatabase(serverUrl, "ra_bench");
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const apps: AppProcess[] = [];
  return {
    remote,
    github,
    model,
    database,
    pool,
    apps,
    async start(role, env = {}) {
      const app = await startAppProcess({ role, env: { GHE_HOST: github.host, DATABASE_URL: database.url, ...scriptedModelEnv(model), ...env } });
      apps.push(app);
      return app;
    },
    async dispose() {
      await Promise.all(apps.splice(0).map((app) => app.dispose()));
      await pool.end();
      await Promise.all([model.close(), github.close()]);
      await database.drop();
      await remote.cleanup();
    },
  };
}

// ---------------------------------------------------------------------------------------
// 1. Webhooks

type Kind = "agent_comment" | "comment" | "agent_label" | "label" | "review" | "redelivery";
/** Twenty deliveries' worth of what GitHub sends a busy installation, in order. */
const MIX: Kind[] = ["agent_comment", "comment", "review", "comment", "agent_comment", "label", "comment", "agent_label", "redelivery", "comment", "agent_comment", "review", "comment", "agent_comment", "comment", "review", "agent_label", "comment", "redelivery", "agent_comment"];

interface Delivery {
  kind: Kind;
  event: string;
  id: string;
  body: string;
  signature: string;
  /** `repoId#issue` for a delivery that asks for work (a redelivery repeats its original's). */
  asks: string | null;
}

function repoOf(index: number, cloneUrl: string): { repo: RepoFixture; installationId: number } {
  const slot = index % REPOS;
  return { repo: testRepo({ id: 50_000 + slot, name: `repo-${slot}`, cloneUrl }), installationId: 4_242 + (slot % INSTALLATIONS) };
}

function deliveries(count: number, cloneUrl: string, runId: string): Delivery[] {
  const made: Delivery[] = [];
  for (let index = 0; index < count; index++) {
    const kind = MIX[index % MIX.length]!;
    const { repo, installationId } = repoOf(index, cloneUrl);
    const issueNumber = 10_000 + index;
    const id = `${runId}-${index}`;
    if (kind === "redelivery") {
      const original = [...made].reverse().find((delivery) => delivery.kind === "agent_comment")!;
      made.push({ ...original, kind });
      continue;
    }
    let event: string;
    let payload: Record<string, unknown>;
    if (kind === "agent_comment" || kind === "comment") {
      event = "issue_comment";
      payload = issueCommentPayload({ body: kind === "comment" ? "Thanks, looks good to me." : "/agent add a greet(name) function", repo, issueNumber, commentId: 1_000_000 + index });
    } else if (kind === "agent_label" || kind === "label") {
      event = "issues";
      payload = issueLabeledPayload({ label: kind === "label" ? "bug" : "agent", repo, issueNumber });
    } else {
      event = "pull_request_review";
      payload = reviewSubmittedPayload({ body: "Nice work.", repo, reviewId: 2_000_000 + index });
    }
    payload.installation = { ...(payload.installation as object), id: installationId };
    // A label event is known by its issue's id and update time: each delivery here is of an issue of its own.
    if (event === "issues") Object.assign(payload.issue as object, { id: 90_000_000 + index, updated_at: new Date(Date.UTC(2026, 0, 1) + index * 1_000).toISOString() });
    const body = JSON.stringify(payload);
    made.push({ kind, event, id, body, signature: signPayload(WEBHOOK_SECRET, body), asks: kind === "agent_comment" || kind === "agent_label" ? `${repo.id}#${issueNumber}` : null });
  }
  return made;
}

interface Answer {
  status: number;
  ms: number;
}

/** Open-loop: each delivery leaves at its time whatever the server's pace, as GitHub's do. */
async function fire(url: string, list: readonly Delivery[]): Promise<{ answers: Answer[]; seconds: number }> {
  const started = performance.now();
  const answers = await Promise.all(
    list.map(async (delivery, index) => {
      const wait = started + (index * 1_000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      const sent = performance.now();
      try {
        const response = await fetch(`${url}/api/github/webhooks`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-github-event": delivery.event, "x-github-delivery": delivery.id, "x-hub-signature-256": delivery.signature },
          body: delivery.body,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        return { status: response.status, ms: performance.now() - sent };
      } catch {
        return { status: 0, ms: performance.now() - sent };
      }
    }),
  );
  return { answers, seconds: (performance.now() - started) / 1_000 };
}

function answerLine(label: string, result: { answers: Answer[]; seconds: number }): string {
  const times = result.answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const failed = result.answers.filter((answer) => answer.status < 200 || answer.status >= 300).length;
  return `| ${label} | ${result.answers.length} in ${result.seconds.toFixed(1)} s | ${percentile(times, 50).toFixed(1)} ms | ${percentile(times, 99).toFixed(1)} ms | ${times.at(-1)!.toFixed(0)} ms | ${failed} |`;
}

function slowest(list: readonly Delivery[], answers: readonly Answer[]): string {
  return answers
    .map((answer, index) => ({ ...answer, kind: list[index]!.kind, index }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((answer) => `${answer.kind} #${answer.index} ${answer.ms.toFixed(0)} ms`)
    .join(", ");
}

async function startBareProbot(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await findFreePort("127.0.0.1");
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "bare-probot.ts")], {
    env: { PATH: process.env.PATH, APP_ID: String(APP_ID), PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => String(chunk).includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`the bare Probot app exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

async function benchWebhooks(serverUrl: string): Promise<string[]> {
  const cluster = await startCluster(serverUrl, () => ({ text: "unused" }));
  try {
    const count = RATE * SECONDS;
    const bare = await startBareProbot();
    const baseline = await fire(bare.url, deliveries(count, cluster.remote.url, "bare"));
    await bare.stop();
    const web = await cluster.start("web");
    const rssBefore = rssOf(web.pid);
    // A few deliveries first, so that neither side pays its first request's costs in the figures.
    await fire(web.url!, deliveries(20, cluster.remote.url, "warm").filter((delivery) => delivery.asks === null));
    const list = deliveries(count, cluster.remote.url, "app");
    const connections = sampleConnections(cluster.pool);
    const app = await fire(web.url!, list);
    // Every delivery answered 2xx that asked for work made exactly one job: none lost, none twice.
    const asked = new Set(list.filter((delivery, index) => delivery.asks !== null && app.answers[index]!.status < 300).map((delivery) => delivery.asks!));
    const { rows } = await cluster.pool.query<{ thread: string; jobs: string }>("select repo_id || '#' || issue_number as thread, count(*) as jobs from jobs group by 1");
    const twice = rows.filter((row) => Number(row.jobs) > 1).length;
    const lost = [...asked].filter((thread) => !rows.some((row) => row.thread === thread)).length;
    const unasked = rows.filter((row) => !asked.has(row.thread)).length;
    const peak = await connections.stop();
    return [
      `### Webhooks: ${RATE}/s for ${SECONDS} s, open-loop (${count} deliveries: /agent comments, other comments, labels, reviews, redeliveries)`,
      "",
      "| server | sent | p50 | p99 | max | not 2xx |",
      "|---|---|---|---|---|---|",
      answerLine("bare Probot (signature only)", baseline),
      answerLine("the app's web process", app),
      "",
      `Slowest answers of the app: ${slowest(list, app.answers)}.`,
      `Jobs: ${asked.size} deliveries asked for work and were answered 2xx, ${rows.length} jobs made; ${lost} lost, ${twice} threads with two, ${unasked} not asked for.`,
      `Web process memory (RSS): ${mib(rssBefore)} at start, ${mib(rssOf(web.pid))} after; Postgres connections of the database at most ${peak}.`,
    ];
  } finally {
    await cluster.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// 2. Jobs

/** Explore, plan and build answer after the model's latency; build writes one file, then says it is done. */
function latentScript(firstRequestAt: Map<string, number>, modelRequests: Map<string, number>, latencyMs = MODEL_LATENCY_MS) {
  return async (request: ModelRequest): Promise<Turn> => {
    const issue = /#(\d{5})\b/.exec(JSON.stringify(request.body.messages))?.[1];
    if (issue) {
      if (!firstRequestAt.has(issue)) firstRequestAt.set(issue, Date.now());
      modelRequests.set(issue, (modelRequests.get(issue) ?? 0) + 1);
    }
    if (latencyMs > 0) await sleep(latencyMs);
    if (request.agent === "explore") return { text: EXPLORATION_REPORT };
    if (request.agent === "plan") return { text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" };
    if (request.agent !== "build") return { text: "Greeting" };
    return request.turnIndex === 0 ? { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: "exports.greet = (name) => `Hello, ${name}!`;\n" } }] } : { text: "Added greet.js." };
  };
}

interface DrainResult {
  lines: string[];
  jobsPerMinute: number;
}

async function benchDrain(serverUrl: string, workers: number): Promise<DrainResult> {
  const firstRequestAt = new Map<string, number>();
  const modelRequests = new Map<string, number>();
  const cluster = await startCluster(serverUrl, latentScript(firstRequestAt, modelRequests));
  try {
    const env = { WORKER_CONCURRENCY: "2", AGENT_MAX_JOBS_PER_INSTALLATION: String(CAP) };
    const web = await cluster.start("web", env);
    const list = deliveries(JOBS * 4, cluster.remote.url, `drain${workers}`)
      .filter((delivery) => delivery.kind === "agent_comment")
      .slice(0, JOBS);
    const queued = await fire(web.url!, list);
    if (queued.answers.some((answer) => answer.status !== 200)) throw new Error("queueing the jobs failed");
    await waitFor(async () => Number((await cluster.pool.query("select count(*) from jobs")).rows[0].count) === JOBS, "the jobs to be queued");

    const started = Date.now();
    const processes = await Promise.all(Array.from({ length: workers }, () => cluster.start("worker", env)));
    const ready = Date.now();
    const rssAtStart = processes.map((worker) => rssOf(worker.pid));
    const overCap: string[] = [];
    let mostAtOnce = 0;
    const connections = sampleConnections(cluster.pool);
    await waitFor(async () => {
      const { rows } = await cluster.pool.query<{ installation_id: string; running: string; started: Date[] }>(
        "select installation_id, count(*) as running, array_agg(started_at order by started_at) as started from jobs where status = 'running' group by 1",
      );
      for (const row of rows) {
        if (Number(row.running) > CAP) overCap.push(`installation ${row.installation_id}: ${row.running} running, started ${row.started.map((at) => at.getTime() - ready).join(" and ")} ms after the workers`);
      }
      mostAtOnce = Math.max(mostAtOnce, rows.reduce((sum, row) => sum + Number(row.running), 0));
      return Number((await cluster.pool.query("select count(*) from jobs where finished_at is null")).rows[0].count) === 0;
    }, "every job to end", 250);
    const peak = await connections.stop();
    const rssAtEnd = processes.map((worker) => rssOf(worker.pid));

    const { rows: jobs } = await cluster.pool.query<{ issue_number: number; status: string; started_at: Date; finished_at: Date; timings: Record<string, number> }>(
      "select issue_number, status, started_at, finished_at, timings from jobs",
    );
    const last = Math.max(...jobs.map((job) => job.finished_at.getTime()));
    const minutes = (last - ready) / 60_000;
    const waits = jobs.map((job) => job.started_at.getTime() - ready).sort((a, b) => a - b);
    const toFirstRequest = jobs.map((job) => (firstRequestAt.get(String(job.issue_number)) ?? Number.NaN) - job.started_at.getTime()).sort((a, b) => a - b);
    const overhead = jobs.map((job) => job.finished_at.getTime() - job.started_at.getTime() - (modelRequests.get(String(job.issue_number)) ?? 0) * MODEL_LATENCY_MS).sort((a, b) => a - b);
    const statuses = countBy(jobs.map((job) => job.status));
    const pullRequests = countBy(cluster.github.pullRequests.map((pull) => pull.head));
    const twice = Object.values(pullRequests).filter((count) => count > 1).length;
    const phases = ["prepare", "explore", "plan", "build", "verify", "deliver"].map((phase) => {
      const values = jobs.map((job) => job.timings?.[phase] ?? 0).sort((a, b) => a - b);
      return `${phase} ${seconds(percentile(values, 50))}`;
    });
    return {
      jobsPerMinute: JOBS / minutes,
      lines: [
        `| ${workers} worker${workers === 1 ? "" : "s"} × 2 | ${JOBS} in ${seconds(last - ready)} (workers up in ${seconds(ready - started)}) | ${(JOBS / minutes).toFixed(1)} | ${seconds(percentile(waits, 50))} / ${seconds(percentile(waits, 99))} | ${mostAtOnce} | ${overCap.length === 0 ? "held" : `passed ${overCap.length} times`} | ${seconds(percentile(toFirstRequest, 50))} | ${seconds(percentile(overhead, 50))} / ${seconds(percentile(overhead, 90))} | ${phases.join(", ")} |`,
        `  ${workers} worker${workers === 1 ? "" : "s"}: ${overCap.length === 0 ? "" : `the cap passed: ${[...new Set(overCap)].slice(0, 3).join("; ")}; `}${Object.entries(statuses).map(([status, count]) => `${count} ${status}`).join(", ")}; ${cluster.github.pullRequests.length} pull requests (${twice} opened twice); worker memory (RSS) ${rssAtStart.map(mib).join(", ")} at start → ${rssAtEnd.map(mib).join(", ")} at the end, web ${mib(rssOf(web.pid))}; Postgres connections at most ${peak}`,
      ],
    };
  } finally {
    await cluster.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// 3. One job at a time, with a model that answers at once: what a job costs beyond the model

/** A repository of `count` small source files in nested folders, a README and a package.json without tests. */
function sizedProject(count: number): Record<string, string> {
  const files: Record<string, string> = { "README.md": "# big\n", "package.json": JSON.stringify({ name: "big", version: "1.0.0", private: true }) + "\n" };
  for (let index = 0; index < count; index++) {
    files[`src/area-${index % 50}/part-${Math.floor(index / 50) % 10}/module-${index}.js`] = `export function value${index}(input) {\n  return input + ${index};\n}\n`;
  }
  return files;
}

async function benchPerJob(serverUrl: string, label: string, files: Record<string, string>): Promise<string> {
  // One job at a time: a job's first model request is the first one (with tools: an agent's, not a title's) after its webhook.
  const requestTimes: number[] = [];
  const script = latentScript(new Map(), new Map(), 0);
  const cluster = await startCluster(
    serverUrl,
    (request) => {
      if (request.tools.length > 0) requestTimes.push(Date.now());
      return script(request);
    },
    files,
  );
  try {
    const env = { WORKER_CONCURRENCY: "1" };
    const [web] = await Promise.all([cluster.start("web", env), cluster.start("worker", env)]);
    const list = deliveries(PER_JOB_RUNS * 20, cluster.remote.url, `one-${label}`)
      .filter((delivery) => delivery.kind === "agent_comment")
      .slice(0, PER_JOB_RUNS);
    const sentAt = new Map<string, number>();
    for (const delivery of list) {
      const issue = delivery.asks!.split("#")[1]!;
      sentAt.set(issue, Date.now());
      const answer = await fire(web.url!, [delivery]);
      if (answer.answers[0]!.status !== 200) throw new Error(`the delivery was answered ${answer.answers[0]!.status}`);
      await waitFor(async () => Number((await cluster.pool.query("select count(*) from jobs where finished_at is null")).rows[0].count) === 0 && Number((await cluster.pool.query("select count(*) from jobs")).rows[0].count) > 0, "the job to end");
    }
    const { rows: jobs } = await cluster.pool.query<{ issue_number: number; status: string; finished_at: Date; timings: Record<string, number> }>("select issue_number, status, finished_at, timings from jobs");
    const toFirst = jobs
      .map((job) => {
        const sent = sentAt.get(String(job.issue_number))!;
        return (requestTimes.find((at) => at >= sent) ?? Number.NaN) - sent;
      })
      .sort((a, b) => a - b);
    const wall = jobs.map((job) => job.finished_at.getTime() - sentAt.get(String(job.issue_number))!).sort((a, b) => a - b);
    const phases = ["prepare", "explore", "plan", "build", "verify", "deliver"].map((phase) => `${phase} ${seconds(percentile(jobs.map((job) => job.timings?.[phase] ?? 0).sort((a, b) => a - b), 50))}`);
    const statuses = Object.entries(countBy(jobs.map((job) => job.status))).map(([status, count]) => `${count} ${status}`).join(", ");
    return `| ${label} | ${jobs.length} (${statuses}) | ${seconds(percentile(toFirst, 50))} / ${seconds(toFirst.at(-1)!)} | ${seconds(percentile(wall, 50))} / ${seconds(wall.at(-1)!)} | ${phases.join(", ")} |`;
  } finally {
    await cluster.dispose();
  }
}

// ---------------------------------------------------------------------------------------

async function waitFor(check: () => Promise<boolean>, what: string, everyMs = 200, timeoutMs = 20 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The most connections to the cluster's database seen, sampled every 200 ms until `stop`. */
function sampleConnections(pool: pg.Pool): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query<{ count: string }>("select count(*) from pg_stat_activity where datname = current_database()");
      peak = Math.max(peak, Number(rows[0]!.count));
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) * 1024;
  } catch {
    return Number.NaN;
  }
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)} s`;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

async function main(): Promise<void> {
  const server = await benchDatabaseServer();
  const began = Date.now();
  console.log(`node ${process.version}, ${(await import("node:os")).cpus().length} cpus, load average ${loadAverage()}`);
  try {
    if (PARTS.has("1")) {
      for (const line of await benchWebhooks(server.url)) console.log(line);
      console.log("");
    }
    if (PARTS.has("2")) {
      console.log(`### Jobs: ${JOBS} queued over ${REPOS} repositories and ${INSTALLATIONS} installations (at most ${CAP} running per installation), model latency ${MODEL_LATENCY_MS} ms a request`);
      console.log("");
      console.log("| workers | drained | jobs/min | queue wait p50 / p99 | most running at once | cap | start → first model request p50 | orchestration p50 / p90 (wall − model) | phases p50 |");
      console.log("|---|---|---|---|---|---|---|---|---|");
      const one = await benchDrain(server.url, 1);
      console.log(one.lines[0]);
      const two = await benchDrain(server.url, 2);
      console.log(two.lines[0]);
      console.log("");
      console.log(one.lines[1]);
      console.log(two.lines[1]);
      console.log(`Two workers drain ${(two.jobsPerMinute / one.jobsPerMinute).toFixed(2)}× as fast as one.`);
      console.log("");
    }
    if (PARTS.has("3")) {
      console.log(`### One job at a time, the model answering at once (${PER_JOB_RUNS} jobs each, one worker with one slot, the first on a cold worker)`);
      console.log("");
      console.log("| repository | jobs | webhook → first model request p50 / max | webhook → pull request p50 / max (all of it orchestration) | phases p50 |");
      console.log("|---|---|---|---|---|");
      console.log(await benchPerJob(server.url, "tiny (1 file)", PROJECT));
      console.log(await benchPerJob(server.url, `${BIG_REPOSITORY_FILES.toLocaleString("en")} files`, sizedProject(BIG_REPOSITORY_FILES)));
    }
    console.log(`Load average at the end ${loadAverage()}; ${seconds(Date.now() - began)} in all.`);
  } finally {
    await server.stop();
  }
}

await main();
