/**
 * A cluster of real processes (`node src/main.ts` as web and workers) for the fault suite:
 * the fake GitHub over HTTP, the scripted model (both able to fail on demand), a bare
 * remote whose pushes are logged and can be held, and a database on the given Postgres
 * server, or on one of the cluster's own that a case may stop and start again. Then the
 * suite's invariant, checked the same way after every fault (`verdictOf`).
 *
 * Longer than most files: the cluster and the invariant it is checked against belong
 * together; split, each would need the other's insides.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { checkConclusionOf, progressMarker, renderProgressComment } from "../../src/github/show/render-progress.ts";
import { OWNER_MARKER, PARKED_MARKER, SPARE_NAME } from "../../src/sandbox/local-sandbox.ts";
import { openDatabase, type Database } from "../../src/store/database.ts";
import { startEmbeddedPostgres } from "../../src/store/embedded-postgres.ts";
import { hasEnded, type Job } from "../../src/store/jobs.sql.ts";
import { jobs as jobsTable } from "../../src/store/schema.ts";
import { startPostmaster, type Postmaster } from "../../src/store/postmaster.ts";
import { startFakeGitHub, type FakeGitHub, type FakeRequest } from "../fakes/fake-github.ts";
import { isProcessAlive } from "../sandbox/processes.ts";
import { startModelServer, type ModelRequest, type ModelServer, type Turn } from "../fakes/model-server.ts";
import { startAppProcess, type AppProcess, type Role } from "./app-process.ts";
import { branchHeadIn, createGitRemote, type GitRemote } from "./git-remote.ts";
import { createScratchDatabase } from "./scratch-database.ts";
import { issueCommentPayload, postWebhook, testRepo, type RepoFixture } from "./github-fixtures.ts";
import { APP_ID, WEBHOOK_SECRET } from "./probot.ts";
import { EXPLORATION_REPORT, GREET_PLAN, scriptedModelEnv } from "./scripted-model.ts";

/** Nothing to install and no checks: a job is clone, agent, push and pull request. */
const PROJECT = { "README.md": "# hello\n" };

export interface FaultClusterOptions {
  /** The Postgres server the cluster's database is made on; unset: a server of the cluster's own, which `postgres` stops and starts. */
  databaseServerUrl?: string;
  /** Env of every process, over the defaults (the scripted model, GitHub, the database). */
  env?: Record<string, string>;
  /** How long the model takes to answer each request (default 0). */
  modelLatencyMs?: number;
}

export interface Ask {
  issueNumber: number;
  status: number;
}

export interface FaultCluster {
  remote: GitRemote;
  github: FakeGitHub;
  model: ModelServer;
  repo: RepoFixture;
  /** The cluster's own database (its pool survives a Postgres restart: idle clients' errors are ignored). */
  database: Database;
  /** Only with a server of the cluster's own. */
  postgres: { stop(): Promise<void>; start(): Promise<void> } | null;
  /** The processes started so far. */
  apps: AppProcess[];
  /** Start a process; `dataDir` reuses a directory (a worker restarted on its machine). */
  start(role: Role, options?: { dataDir?: string; env?: Record<string, string> }): Promise<AppProcess>;
  /** `/agent` on each issue, as GitHub delivers it; what the web process answered. */
  ask(web: AppProcess, issueNumbers: number[]): Promise<Ask[]>;
  /** Hold every push in the remote once its refs are updated (the push has landed; the pusher has not heard so) until `release`. */
  holdPushes(): { reached: Promise<void>; release(): void };
  /** Branch updates the remote took, in order: `refs/heads/x <old> <new>`. */
  pushes(): string[];
  /** Until every job has ended (or the deadline passes: the verdict then names those still going). */
  settle(timeoutMs: number): Promise<void>;
  verdictOf(asks: readonly Ask[]): Promise<Verdict>;
  /** What a case saw, for the table (how a job ended, how long something took). */
  note(text: string): void;
  /** Run `cleanup` at the end of `dispose`, once every process is gone. */
  afterDispose(cleanup: () => Promise<void>): void;
  dispose(): Promise<void>;
}

export interface Verdict {
  /** Deliveries that asked for work and were answered 2xx. */
  accepted: number;
  jobs: number;
  statuses: Record<string, number>;
  pullRequests: number;
  /** Every way the invariant was broken, one line each; empty when it held. */
  problems: string[];
  notes: string[];
  /** Per job: how long it waited and ran, and in how many attempts. */
  timeline: string[];
}

export async function startFaultCluster(options: FaultClusterOptions = {}): Promise<FaultCluster> {
  const remote = await createGitRemote(PROJECT);
  const pushLog = path.join(remote.bareDir, "pushes.log");
  const holdFlag = path.join(remote.bareDir, "hold-pushes");
  writeFileSync(
    path.join(remote.bareDir, "hooks", "post-receive"),
    `#!/bin/sh\nwhile read old new ref; do echo "$ref $old $new" >> '${pushLog}'; done\nwhile [ -e '${holdFlag}' ]; do sleep 0.1; done\n`,
  );
  chmodSync(path.join(remote.bareDir, "hooks", "post-receive"), 0o755);
  const github = await startFakeGitHub({ appId: APP_ID, branchesFrom: (name) => branchHeadIn(remote, name) });
  const model = await startModelServer(greetScript(options.modelLatencyMs ?? 0));
  const server = options.databaseServerUrl ? { url: options.databaseServerUrl, postgres: null, stop: async () => {} } : await startOwnPostgres();
  const scratch = await createScratchDatabase(server.url, "ra_fault");
  const database = openDatabase(scratch.url, { max: 2 });
  const repo = testRepo({ cloneUrl: remote.url });
  const apps: AppProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const notes: string[] = [];
  const pushes = () => (existsSync(pushLog) ? readFileSync(pushLog, "utf8").trim().split("\n").filter(Boolean) : []);

  const cluster: FaultCluster = {
    remote,
    github,
    model,
    repo,
    database,
    postgres: server.postgres,
    apps,
    async start(role, startOptions = {}) {
      const dataDir = startOptions.dataDir ? { DATA_DIR: startOptions.dataDir } : {};
      const app = await startAppProcess({ role, env: { GHE_HOST: github.host, DATABASE_URL: scratch.url, ...scriptedModelEnv(model), ...options.env, ...startOptions.env, ...dataDir } });
      apps.push(app);
      return app;
    },
    async ask(web, issueNumbers) {
      return Promise.all(
        issueNumbers.map(async (issueNumber) => {
          const payload = issueCommentPayload({ body: `/agent add greet() for #${issueNumber}`, repo, issueNumber, commentId: 700_000 + issueNumber });
          const response = await postWebhook(web.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload }).catch(() => null);
          return { issueNumber, status: response?.status ?? 0 };
        }),
      );
    },
    holdPushes() {
      writeFileSync(holdFlag, "");
      const before = pushes().length;
      return {
        reached: waitFor(() => pushes().length > before, "a push to land"),
        release: () => rmSync(holdFlag, { force: true }),
      };
    },
    pushes,
    async settle(timeoutMs) {
      const began = Date.now();
      const deadline = began + timeoutMs;
      let ended: number | null = null;
      while (Date.now() < deadline) {
        const running = await database.pool.query("select count(*) from jobs where status in ('queued', 'running')").catch(() => null);
        if (ended === null && running && Number(running.rows[0].count) === 0) ended = Date.now();
        // Ended, and shown so on GitHub: the last check run and comment update comes after the row's.
        const open = await database.pool.query("select count(*) from jobs where status in ('queued', 'running') or shown_status is distinct from status").catch(() => null);
        if (open && Number(open.rows[0].count) === 0) {
          notes.push(`settled ${((Date.now() - began) / 1_000).toFixed(1)} s after the fault (jobs ended at ${(((ended ?? Date.now()) - began) / 1_000).toFixed(1)} s)`);
          return;
        }
        await sleep(250);
      }
    },
    async verdictOf(asks) {
      return { ...(await judge(cluster, asks, await database.db.select().from(jobsTable), pushes())), notes };
    },
    note(text) {
      notes.push(text);
    },
    afterDispose(cleanup) {
      cleanups.push(cleanup);
    },
    async dispose() {
      await unlink(holdFlag).catch(() => {});
      await Promise.all(apps.splice(0).map((app) => app.dispose()));
      await database.close();
      await Promise.all([model.close(), github.close()]);
      await scratch.drop().catch(() => {});
      await server.stop();
      await remote.cleanup();
      for (const cleanup of cleanups) await cleanup();
    },
  };
  return cluster;
}

/**
 * The suite's invariant: every delivery answered 2xx that asked for work made exactly one
 * job; every job ended; its check run and its comment show how (one of each); no pull request
 * was opened twice and no branch pushed twice; no sandbox or agent process is left behind.
 */
async function judge(cluster: FaultCluster, asks: readonly Ask[], jobs: Job[], pushes: string[]): Promise<Omit<Verdict, "notes">> {
  const problems: string[] = [];
  const accepted = asks.filter((ask) => ask.status >= 200 && ask.status < 300);
  for (const ask of accepted) {
    const made = jobs.filter((job) => job.issueNumber === ask.issueNumber).length;
    if (made !== 1) problems.push(`issue #${ask.issueNumber}: answered ${ask.status}, ${made} jobs made`);
  }
  const now = new Date();
  for (const job of jobs) {
    const name = `job of #${job.issueNumber} (${job.status})`;
    if (!hasEnded(job.status)) {
      problems.push(`${name}: has not ended`);
      continue;
    }
    const checkRuns = [...cluster.github.checkRuns.values()].filter((run) => run.fields.external_id === job.id);
    if (checkRuns.length !== 1) problems.push(`${name}: ${checkRuns.length} check runs`);
    const checkRun = checkRuns.at(-1);
    if (checkRun && (checkRun.fields.status !== "completed" || checkRun.fields.conclusion !== checkConclusionOf(job))) {
      problems.push(`${name}: its check run shows ${String(checkRun.fields.status)}/${String(checkRun.fields.conclusion)}; what was written to it:\n${checkRunWritesOf(cluster, checkRun.id)}`);
    }
    const comments = [...cluster.github.comments.values()].filter((comment) => comment.body.includes(progressMarker(job.id)));
    if (comments.length !== 1) problems.push(`${name}: ${comments.length} progress comments`);
    const headline = renderProgressComment(job, now).split("\n")[1]!;
    const comment = comments.at(-1);
    if (comment && !comment.body.includes(headline)) problems.push(`${name}: its comment does not say "${headline}"; what was written to it:\n${writesOf(cluster, progressMarker(job.id))}`);
    if (job.status === "completed" && job.prNumber === null) problems.push(`${name}: completed without a pull request`);
  }
  const seconds = (from: Date | null, to: Date | null) => (from && to ? `${((to.getTime() - from.getTime()) / 1_000).toFixed(1)} s` : "?");
  const timeline = jobs.map((job) => `#${job.issueNumber} waited ${seconds(job.createdAt, job.startedAt)}, ran ${seconds(job.startedAt, job.finishedAt)} (${job.attempts} attempts)${job.failureMessage ? `, ${job.failureKind}: "${job.failureMessage.slice(0, 200)}"` : ""}`);
  for (const [head, count] of Object.entries(countBy(cluster.github.pullRequests.map((pull) => pull.head)))) {
    if (count > 1) problems.push(`${head}: ${count} pull requests`);
  }
  for (const [ref, count] of Object.entries(countBy(pushes.map((line) => line.split(" ")[0]!)))) {
    if (count > 1) problems.push(`${ref}: pushed ${count} times`);
  }
  for (const app of cluster.apps) problems.push(...leftBehind(app.dataDir));
  return { timeline, accepted: accepted.length, jobs: jobs.length, statuses: countBy(jobs.map((job) => job.status)), pullRequests: cluster.github.pullRequests.length, problems };
}

/** Each write of a job's progress comment, in the order GitHub took them: when, and the lines under its marker. */
function writesOf(cluster: FaultCluster, marker: string): string {
  const bodyOf = (request: FakeRequest) => String((request.body as { body?: unknown } | null)?.body ?? "");
  const writes = cluster.github.requests.filter((request) => (request.route === "issues.createComment" || request.route === "issues.updateComment") && bodyOf(request).includes(marker));
  return writes.map((request) => `  ${new Date(request.at).toISOString()} ${request.route} ${request.status}: ${bodyOf(request).split("\n").slice(1, 3).join(" | ")}`).join("\n");
}

/** Each update of a check run, in the order GitHub took them: when, and its status. */
function checkRunWritesOf(cluster: FaultCluster, checkRunId: number): string {
  const writes = cluster.github.requests.filter((request) => request.route === "checks.update" && request.path.endsWith(`/check-runs/${checkRunId}`));
  return writes.map((request) => `  ${new Date(request.at).toISOString()} ${request.status}: ${String((request.body as { status?: unknown } | null)?.status)}/${String((request.body as { conclusion?: unknown } | null)?.conclusion)}`).join("\n");
}

/** Sandboxes in `dataDir` that are not parked for a follow-up, and processes still running from it (the sandbox's bubblewrap names it). */
function leftBehind(dataDir: string): string[] {
  const left: string[] = [];
  const sandboxes = path.join(dataDir, "sandboxes");
  const entries = existsSync(sandboxes) ? readdirSync(sandboxes) : [];
  // A live worker's warm agent no job has taken is kept on purpose (warm-agents.ts), its opencode running.
  const spares = entries.filter((name) => SPARE_NAME.test(name) && !existsSync(path.join(sandboxes, name, OWNER_MARKER)) && isProcessAlive(Number(SPARE_NAME.exec(name)![1])));
  for (const name of entries.filter((entry) => !spares.includes(entry))) {
    if (!existsSync(path.join(sandboxes, name, PARKED_MARKER))) left.push(`sandbox left in ${path.basename(dataDir)}: ${name}`);
  }
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    const command = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        return "";
      }
    })();
    if (command.includes(sandboxes) && !spares.some((name) => command.includes(path.join(sandboxes, name)))) left.push(`process ${pid} left: ${command.slice(0, 120)}`);
  }
  return left;
}


/** Explore, plan and build answer after `latencyMs`; build writes greet.js, then says it is done. */
function greetScript(latencyMs: number) {
  return async (request: ModelRequest): Promise<Turn> => {
    if (latencyMs > 0) await sleep(latencyMs);
    if (request.agent === "explore") return { text: EXPLORATION_REPORT };
    if (request.agent === "plan") return { text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" };
    if (request.agent !== "build") return { text: "Greeting" };
    return request.turnIndex === 0 ? { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: "exports.greet = (name) => `Hello, ${name}!`;\n" } }] } : { text: "Added greet.js." };
  };
}

/** A Postgres server of the cluster's own, which `postgres.stop()` and `start()` take down and bring back on the same port. */
async function startOwnPostgres(): Promise<{ url: string; postgres: FaultCluster["postgres"]; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ra-fault-pg-"));
  chmodSync(dir, 0o755);
  const log = pino({ level: "silent" });
  const embedded = await startEmbeddedPostgres(dir, log);
  const port = Number(new URL(embedded.url).port);
  let current: Postmaster | { stop(): Promise<void> } | null = embedded;
  return {
    url: embedded.url,
    postgres: {
      async stop() {
        await current?.stop();
        current = null;
      },
      async start() {
        current ??= await startPostmaster({ databaseDir: path.join(dir, "postgres"), port, log });
      },
    },
    async stop() {
      await current?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
